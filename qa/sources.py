"""Raw lines of archive files: narrowing a passage's line span to one sentence, and checking a quote.

Only files inside the archive folder are read: the path is resolved (symlinks included) and must stay
under the resolved archive root.
"""

from __future__ import annotations

from pathlib import Path

from core.text import key_text

ANCHOR = 32  # letters used to find a sentence's start and end when the whole sentence cannot be matched


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


class RawFiles:
    """Reads raw archive files once per instance, line by line as `sed -n` counts them."""

    def __init__(self, archive_dir: Path | str):
        self.root = Path(archive_dir).resolve()
        self._lines: dict[str, list[str] | None] = {}

    def path_of(self, source: str) -> Path | None:
        """The file of `source` inside the archive, or None when it is missing or would leave the archive."""
        try:
            return safe_source_path(self.root, source)
        except UnsafePath:
            return None

    def lines(self, source: str) -> list[str] | None:
        """All lines of the file (index 0 is line 1), or None when it cannot be read safely."""
        if source not in self._lines:
            self._lines[source] = self._read(source)
        return self._lines[source]

    def _read(self, source: str) -> list[str] | None:
        path = self.path_of(source)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
        return [line.rstrip("\r") for line in text.split("\n")]

    def text_of(self, source: str, start_line: int, end_line: int) -> str | None:
        lines = self.lines(source)
        if lines is None or start_line < 1 or end_line < start_line:
            return None
        return "\n".join(lines[start_line - 1 : end_line])

    def narrow(self, source: str, start_line: int, end_line: int, sentence: str) -> tuple[int, int]:
        """The lines inside the given span that hold `sentence`; the span itself when it is not found."""
        lines = self.lines(source)
        if lines is None:
            return start_line, end_line
        first, last = max(1, start_line), min(len(lines), end_line)
        found = _locate(lines, first, last, sentence)
        return found if found is not None else (start_line, end_line)

    def holds(self, source: str, start_line: int, end_line: int, quote: str) -> bool:
        """Whether the raw lines of the span contain the quote (letters and digits compared, case folded)."""
        text = self.text_of(source, start_line, end_line)
        wanted = key_text(quote)
        return text is not None and bool(wanted) and wanted in key_text(text)


def _keyed(lines: list[str], first: int, last: int) -> tuple[str, list[int]]:
    """Letters and digits of lines first..last, and for each kept character its 1-based line number."""
    chars: list[str] = []
    owners: list[int] = []
    for number in range(first, last + 1):
        keyed = key_text(lines[number - 1])
        chars.append(keyed)
        owners.extend([number] * len(keyed))
    return "".join(chars), owners


def _locate(lines: list[str], first: int, last: int, sentence: str) -> tuple[int, int] | None:
    wanted = key_text(sentence)
    if not wanted:
        return None
    stream, owners = _keyed(lines, first, last)
    at = stream.find(wanted)
    if at >= 0:
        return owners[at], owners[at + len(wanted) - 1]
    # Cleaning may have changed a few characters (entities, odd bytes): anchor on the two ends.
    head, tail = wanted[:ANCHOR], wanted[-ANCHOR:]
    start = stream.find(head)
    end = stream.find(tail, max(start, 0))
    if start >= 0 and end >= 0:
        return owners[start], owners[end + len(tail) - 1]
    return None
