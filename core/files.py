"""Raw archive files, read one way everywhere: the scan, the checksums, citation narrowing, the app's raw view.

- `read_text`: size limit before reading, binary detection, robust decoding; every problem comes back as an
  `Unreadable` with a reason a user understands (nothing here raises for a bad file).
- `split_lines` / `read_lines`: lines as `sed -n` counts them, from that same decoding, so a citation is
  checked against the text that produced it.
- `safe_source_path`: the one guard that keeps every read inside the archive folder.
- `LineLocator`: where a piece of extracted text sits in raw lines (letters and digits compared, case folded).
"""

from __future__ import annotations

import codecs
import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from core.errors import ArchiveNotFound
from core.text import key_text

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


# ---- lines as sed counts them ----------------------------------------------------------------------------

def split_lines(text: str) -> list[str]:
    """Split like `sed` does: on "\\n" only (a stray "\\r" is no line end), one trailing "\\r" dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_lines(path: Path, max_bytes: int = 10**9) -> list[str] | Unreadable:
    """The lines of a raw file (index 0 is line 1), decoded exactly as the archive scan decodes it."""
    decoded = read_text(path, max_bytes)
    return decoded if isinstance(decoded, Unreadable) else split_lines(decoded.text)


# ---- the archive folder and the path guard ---------------------------------------------------------------

def require_archive_dir(archive_dir: Path) -> Path:
    """The archive folder, resolved; ArchiveNotFound when it does not exist or is not a folder."""
    if not archive_dir.exists():
        raise ArchiveNotFound(f"archive folder not found: {archive_dir}")
    if not archive_dir.is_dir():
        raise ArchiveNotFound(f"archive path is not a folder: {archive_dir}")
    return archive_dir.resolve()


class UnsafePath(ValueError):
    """A source path that would read something outside the archive folder."""


def safe_source_path(archive_dir: Path | str, source: str) -> Path:
    """The file `source` names inside `archive_dir`, resolved; refuses anything that leaves the archive.

    Absolute paths, `..` escapes and symlinks (of the file or of a folder on the way) that point
    outside the archive raise `UnsafePath`, as does a path that is not a regular file.
    """
    if not source or "\x00" in source:
        raise UnsafePath(f"not a file path: {source!r}")
    root = Path(archive_dir).resolve()
    relative = Path(source)
    if relative.is_absolute():
        raise UnsafePath(f"{source} is an absolute path, not a file of the archive")
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise UnsafePath(f"{source} points outside the archive")
    if not resolved.is_file():
        raise UnsafePath(f"{source} is not a file of the archive")
    return resolved


# ---- locating extracted text in raw lines ----------------------------------------------------------------

ANCHOR = 32  # keyed characters matched at each end of a text that does not match whole


class LineLocator:
    """Finds pieces of text in a stream of raw text, each character tagged with its raw line.

    Texts are compared by `key_text` (letters and digits, case and diacritics folded), so whitespace,
    markup entities and punctuation that cleaning or extraction changed do not stop a match. When the
    whole text is not found (a few characters altered in the middle), its two ends are matched instead.
    """

    def __init__(self, pieces: list[tuple[str, int]]):
        keyed: list[str] = []
        owners: list[int] = []
        for text, line in pieces:
            key = key_text(text)
            keyed.append(key)
            owners.extend([line] * len(key))
        self.stream = "".join(keyed)
        self.owners = owners

    @classmethod
    def from_lines(cls, lines: list[str], first: int = 1, last: int | None = None) -> LineLocator:
        """A locator over lines `first`..`last` (1-based, inclusive) of a file's lines."""
        last = len(lines) if last is None else min(last, len(lines))
        return cls([(lines[number - 1], number) for number in range(max(first, 1), last + 1)])

    def find(self, text: str, start: int = 0) -> tuple[int, int] | None:
        """Stream offsets [begin, end] (inclusive) of `text` at or after `start`, or None."""
        wanted = key_text(text)
        if not wanted:
            return None
        at = self.stream.find(wanted, start)
        if at >= 0:
            return at, at + len(wanted) - 1
        head, tail = wanted[:ANCHOR], wanted[-ANCHOR:]
        begin = self.stream.find(head, start)
        end = self.stream.find(tail, max(begin, 0)) if begin >= 0 else -1
        if begin < 0 or end < 0:
            return None
        return begin, end + len(tail) - 1

    def lines_of(self, offsets: tuple[int, int]) -> tuple[int, int]:
        """The raw lines (first, last) that stream offsets [begin, end] fall on."""
        return self.owners[offsets[0]], self.owners[offsets[1]]

    def locate(self, text: str, start: int = 0) -> tuple[int, int] | None:
        """The raw lines (first, last) holding `text`, searched from stream offset `start`, or None."""
        found = self.find(text, start)
        return self.lines_of(found) if found else None


def file_sha256(path: Path | str) -> str:
    """The sha256 of a file's bytes, read in 1 MB blocks (archive files, shipped models)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
