"""Reading one raw file: size limit before reading, binary detection, robust decoding.

Every problem comes back as an `Unreadable` with a reason a user understands; nothing here raises for
a bad file.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

BINARY_SAMPLE = 8192  # bytes looked at to tell text from binary
CONTROL_RATIO = 0.10  # more control characters than this in the sample: binary
_TEXT_CONTROLS = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}


@dataclass(frozen=True)
class Decoded:
    """A file's text, and a warning when it was not clean UTF-8."""

    text: str
    warning: str = ""


@dataclass(frozen=True)
class Unreadable:
    """Why a file was not read."""

    reason: str


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def size_problem(size: int, max_bytes: int) -> str:
    """The reason to skip a file of `size` bytes, or ""."""
    if size == 0:
        return "empty file"
    if size > max_bytes:
        return f"file is {_megabytes(size)}, over the {max_bytes / 1_000_000:g} MB limit"
    return ""


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters, in the first few kilobytes."""
    sample = data[:BINARY_SAMPLE]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return bool(sample) and controls / len(sample) > CONTROL_RATIO


def decode(data: bytes) -> Decoded:
    """UTF-8 first (BOM stripped); else mostly-UTF-8 with bad bytes replaced; else the encoding
    charset-normalizer finds; else cp1252 with replacement. Anything but clean UTF-8 is reported."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return Decoded(text, "decoded as UTF-16" + _replaced(text, 0))
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    already = data.count("\ufffd".encode())
    lenient = data.decode("utf-8", errors="replace")
    replaced = lenient.count("\ufffd") - already
    valid_non_ascii = sum(1 for char in lenient if ord(char) > 0x7F) - lenient.count("\ufffd")
    # Valid multi-byte sequences almost never occur by chance in 8-bit text: this is damaged UTF-8.
    if valid_non_ascii and valid_non_ascii >= replaced:
        return Decoded(lenient, f"not valid UTF-8; {replaced} {_bytes(replaced)} replaced")
    # Guessers confuse the Latin 8-bit encodings on short texts (mac_iceland, iso8859_2...); trust a
    # guess only when it yields another script, and read Latin text as cp1252, the web's usual one.
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding and _non_latin_letters(str(best)) >= 3:
        return Decoded(str(best), f"not valid UTF-8; decoded as {best.encoding}")
    text = data.decode("cp1252", errors="replace")
    return Decoded(text, "not valid UTF-8; decoded as cp1252" + _replaced(text, already))


def _non_latin_letters(text: str) -> int:
    return sum(1 for char in text if ord(char) > 0x7F and char.isalpha()
               and not unicodedata.name(char, "").startswith("LATIN"))


def _bytes(count: int) -> str:
    return "byte" if count == 1 else "bytes"


def _replaced(text: str, already: int) -> str:
    count = text.count("\ufffd") - already
    return f"; {count} {_bytes(count)} replaced" if count > 0 else ""


def read_text(path: Path, max_bytes: int) -> Decoded | Unreadable:
    """The decoded text of `path`, or why it cannot be read. The size is checked before reading."""
    try:
        problem = size_problem(path.stat().st_size, max_bytes)
        if problem:
            return Unreadable(problem)
        data = path.read_bytes()
    except OSError as error:
        return Unreadable(f"cannot read file: {error.strerror or error}")
    if not data.strip():
        return Unreadable("empty file (only whitespace)" if data else "empty file")
    if looks_binary(data):
        return Unreadable("binary file, not text")
    return decode(data)
