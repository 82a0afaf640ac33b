"""The common shape every reader produces: numbered source lines with a little layout information.

Plain text maps one raw line to one `SourceLine`; Markdown and HTML map one block (paragraph, heading,
list item) to one `SourceLine` whose span covers the raw lines it came from. Cleaning and splitting work
on this shape only, so they never care which format a file was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.files import split_lines

TEXT = "text"
BLANK = "blank"
SEPARATOR = "separator"
IMAGE = "image"  # an image-only block (Markdown): its alt text is a caption candidate, never body

# "---", "***", "* * *", "===", "___", "~~~", "###", "-- -- --": three or more of one mark.
_SEPARATOR = re.compile(r"^\s*([-*_=~#•·])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)([•·▪●◦‣∙*+-]|\d{1,3}[.)])\s+(?=\S)")


@dataclass(frozen=True)
class SourceLine:
    """One line (or one block) of a file, with its 1-based inclusive span in the raw file."""

    text: str  # the content, stripped of surrounding whitespace and of a bullet marker
    start: int
    end: int
    kind: str = TEXT
    indent: int = 0  # leading whitespace of the raw line, in characters
    bullet: bool = False  # the raw line starts with a list marker
    heading: int = 0  # markup heading level (Markdown/HTML), 0 when the format has none
    joinable: bool = True  # plain-text lines may be joined with their neighbours (hard wrap)

    @property
    def is_blank(self) -> bool:
        return self.kind == BLANK


def parse_plain_line(raw: str, number: int) -> SourceLine:
    """Describe one raw plain-text line."""
    if not raw.strip():
        return SourceLine("", number, number, kind=BLANK)
    if _SEPARATOR.match(raw):
        return SourceLine(raw.strip(), number, number, kind=SEPARATOR)
    stripped = raw.lstrip()
    indent = len(raw[: len(raw) - len(stripped)].expandtabs(4))
    bullet = _BULLET.match(raw)
    if bullet:
        return SourceLine(raw[bullet.end():].strip(), number, number, indent=indent, bullet=True)
    return SourceLine(raw.strip(), number, number, indent=indent)


def lines_from_text(text: str) -> list[SourceLine]:
    """Plain text: one `SourceLine` per raw line, blank lines included."""
    return [parse_plain_line(raw, number) for number, raw in enumerate(split_lines(text), start=1)]
