"""Splitting the lines of one file into the articles it holds. Pure: lines in, segments out.

A new article starts, once body text has been seen in the current one, at:
- a run of three or more blank lines;
- a separator line ("---", "***", "* * *", "===", "___");
- a top-level heading in markup (Markdown "# Title", HTML <h1>);
- a scraped header signature: a headline that is printed again within the next few lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.lines import BLANK, SEPARATOR, SourceLine
from archive.patterns import (
    ends_sentence,
    is_artefact,
    is_caption_credit,
    looks_like_body,
    normalise,
    word_count,
)

BLANK_RUN = 3  # this many blank lines in a row end an article
SIGNATURE_WINDOW = 12  # a headline repeated within this many lines is a scraped header

# Why a segment started: "start" for the first one in a file.
START, BLANK_RUN_BOUNDARY, SEPARATOR_BOUNDARY, HEADING_BOUNDARY, SIGNATURE_BOUNDARY = (
    "start", "blank run", "separator", "heading", "signature")


@dataclass(frozen=True)
class Segment:
    """The lines of one candidate article, and which boundary opened it."""

    lines: tuple[SourceLine, ...]
    boundary: str = START


def is_header_signature(lines: list[SourceLine], index: int, window: int = SIGNATURE_WINDOW) -> bool:
    """True when the line at `index` is a headline that the scraper printed again a few lines below."""
    line = lines[index]
    if line.kind != "text" or line.bullet or word_count(line.text) < 3 or ends_sentence(line.text):
        return False
    if is_artefact(line.text):
        return False
    key = normalise(line.text)
    # The next line repeating it is a caption printed twice, not a header; look from two lines on.
    return any(later.kind == "text" and normalise(later.text) == key for later in lines[index + 2:index + 1 + window])


def split_segments(lines: list[SourceLine], *, split_on_headings: bool = True) -> list[Segment]:
    """Cut a file's lines into one segment per article (boundaries in the module docstring)."""
    segments: list[Segment] = []
    current: list[SourceLine] = []
    boundary = START
    body_seen = False
    blank_run = 0

    def close(next_boundary: str) -> None:
        nonlocal current, boundary, body_seen
        if any(line.kind != BLANK for line in current):
            segments.append(Segment(tuple(current), boundary))
        current, boundary, body_seen = [], next_boundary, False

    for index, line in enumerate(lines):
        if line.kind == BLANK:
            blank_run += 1
            current.append(line)
            continue
        if line.kind == SEPARATOR:
            blank_run = 0
            if body_seen:
                close(SEPARATOR_BOUNDARY)
            else:  # a rule under a headline, before any text: only layout
                current.append(SourceLine("", line.start, line.end, kind=BLANK))
            continue
        reason = ""
        if body_seen:
            if split_on_headings and line.heading == 1:
                reason = HEADING_BOUNDARY
            elif is_header_signature(lines, index):
                reason = SIGNATURE_BOUNDARY
            elif blank_run >= BLANK_RUN:
                reason = BLANK_RUN_BOUNDARY
        blank_run = 0
        if reason:
            close(reason)
        current.append(line)
        if not body_seen and line.heading == 0 and looks_like_body(line.text):
            # A caption (credited, or printed twice) is part of the header, not body text.
            neighbours = lines[max(index - 1, 0): index] + lines[index + 1: index + 2]
            printed_twice = any(normalise(other.text) == normalise(line.text) for other in neighbours)
            body_seen = not (printed_twice or is_caption_credit(line.text))
    close(START)
    return segments
