"""Raw lines of archive files: narrowing a passage's line span to one sentence, and checking a quote.

Files are read by core.files (the archive scan's own decoding, inside the archive folder only).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from archive.html import visible_characters
from core.files import LineLocator, UnsafePath, read_lines, safe_source_path
from core.text import key_text

HTML_SUFFIXES = {".html", ".htm"}
PARSED_PAGES = 64  # HTML pages whose visible text is kept per process (5 bytes a visible character)
_PARSED: OrderedDict[tuple[str, int, int], tuple[str, np.ndarray]] = OrderedDict()
_PARSED_LOCK = threading.Lock()


class RawFiles:
    """Reads raw archive files once per instance, line by line as `sed -n` counts them."""

    def __init__(self, archive_dir: Path | str):
        self.root = Path(archive_dir).resolve()
        self._lines: dict[str, list[str] | None] = {}
        self._pages: dict[str, tuple[str, np.ndarray] | None] = {}

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
        lines = read_lines(path)
        return lines if isinstance(lines, list) else None

    def _visible(self, source: str) -> tuple[str, np.ndarray] | None:
        """An HTML page's visible text and the raw line of each character; None for other files."""
        if Path(source).suffix.lower() not in HTML_SUFFIXES:
            return None
        if source not in self._pages:
            self._pages[source] = self._parse(source)
        return self._pages[source]

    def _parse(self, source: str) -> tuple[str, np.ndarray] | None:
        path, lines = self.path_of(source), self.lines(source)
        if path is None or lines is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        # Every answer makes its own RawFiles; the parsed page is kept per process until the file changes.
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with _PARSED_LOCK:
            if key in _PARSED:
                _PARSED.move_to_end(key)
                return _PARSED[key]
        pairs = visible_characters("\n".join(lines))
        parsed = ("".join(c for c, _ in pairs), np.fromiter((line for _, line in pairs), np.int32, len(pairs)))
        with _PARSED_LOCK:
            _PARSED[key] = parsed
            while len(_PARSED) > PARSED_PAGES:
                _PARSED.popitem(last=False)
        return parsed

    def _visible_in(self, source: str, start_line: int, end_line: int) -> list[tuple[str, int]] | None:
        visible = self._visible(source)
        if visible is None:
            return None
        text, lines = visible
        inside = np.flatnonzero((lines >= start_line) & (lines <= end_line))
        return [(text[i], int(lines[i])) for i in inside]

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
        visible = self._visible_in(source, start_line, end_line)
        # An HTML page is searched in its visible text: tags and entities sit between the words of its lines.
        locator = LineLocator(visible) if visible else LineLocator.from_lines(lines, start_line, end_line)
        found = locator.locate(sentence)
        return found if found is not None else (start_line, end_line)

    def holds(self, source: str, start_line: int, end_line: int, quote: str) -> bool:
        """Whether the raw lines of the span contain the quote (letters and digits compared, case folded)."""
        text = self.text_of(source, start_line, end_line)
        wanted = key_text(quote)
        if text is None or not wanted:
            return False
        visible = self._visible_in(source, start_line, end_line)  # an HTML page: its visible text
        return wanted in key_text("".join(c for c, _ in visible) if visible else text)
