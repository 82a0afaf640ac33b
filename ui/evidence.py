"""Where a citation's evidence lives: the passage it came from and the raw lines of its file.

Pure helpers: no Streamlit here, so tests need neither a server nor an index.
Only files inside the archive folder are ever read for display.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.files import Unreadable, read_lines, safe_source_path
from index.records import Hit


@dataclass(frozen=True)
class RawLine:
    number: int  # 1-based, as in the citation
    text: str
    cited: bool


def read_raw_lines(
    archive_dir: Path | str, source: str, start_line: int, end_line: int, *, context: int = 2
) -> list[RawLine]:
    """Lines `start_line`..`end_line` of an archive file (1-based, inclusive), with `context` lines around.

    The file is decoded as the archive scan decoded it (core.files), so the cited text is the indexed text;
    only files inside the archive are read (UnsafePath otherwise).
    """
    lines = read_lines(safe_source_path(archive_dir, source))
    if isinstance(lines, Unreadable):
        return []
    first = max(1, start_line - context)
    last = min(len(lines), max(end_line, start_line) + context)
    return [RawLine(number, lines[number - 1], start_line <= number <= end_line) for number in range(first, last + 1)]


def spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def passage_for(source: str, start_line: int, end_line: int, hits: Iterable[Hit]) -> Hit | None:
    """The retrieved passage a citation was drawn from: same file, line span inside (else overlapping)."""
    candidates = [hit for hit in hits if hit.chunk.source == source]
    for hit in candidates:
        if hit.chunk.start_line <= start_line and end_line <= hit.chunk.end_line:
            return hit
    for hit in candidates:
        if spans_overlap((hit.chunk.start_line, hit.chunk.end_line), (start_line, end_line)):
            return hit
    return None


def describe_source(source: str, start_line: int, end_line: int) -> str:
    """`file:12-14`, the form `sed -n '12,14p' file` reads back."""
    lines = f"{start_line}" if start_line == end_line else f"{start_line}-{end_line}"
    return f"{source}:{lines}"


def meta_parts(*parts: str) -> Sequence[str]:
    """The non-empty parts of a metadata line (outlet, date, ...)."""
    return [part for part in parts if part]
