"""Cleaning one segment of lines into one article. Pure functions: lines in, records out, no I/O.

The segment is read top to bottom in two zones. The header zone (before the first line of body text)
holds the headline, its repeats, photo captions (printed twice or carrying a credit), the date, the
byline and artefacts; none of it becomes body text. The body zone keeps paragraphs and subheadings and
ends early at reader comments or at a paywall notice that hides the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from archive.dates import find_date_in_metadata_line, parse_date_line
from archive.lines import BLANK, IMAGE, SEPARATOR, SourceLine
from archive.paragraphs import Block, Draft, build_paragraphs, drop_promotions
from archive.patterns import (
    ends_sentence,
    find_outlet,
    is_artefact,
    is_byline,
    is_call_to_action,
    is_caption_credit,
    is_comment_author,
    is_comment_heading,
    is_handle,
    is_publisher_line,
    is_related_heading,
    is_related_link,
    is_timestamp,
    normalise,
    paywall_kind,
    word_count,
)
from archive.records import Article, Paragraph

UNTITLED_WORDS = 40  # a first line this long is prose, not a headline


@dataclass(frozen=True)
class Hints:
    """Metadata a reader found outside the text (HTML meta tags, Markdown front matter)."""

    date: str = ""
    outlet: str = ""
    caption: str = ""


@dataclass
class CleanedSegment:
    """What cleaning one segment produced; `article` is None when no body text was left."""

    title: str = ""
    title_line: int = 0
    paragraphs: list[Paragraph] = field(default_factory=list)
    caption: str = ""
    date: str = ""
    outlet: str = ""
    ended_by: str = ""  # "comments" or "paywall" when the segment was cut short


def _next_text(lines: list[SourceLine], index: int) -> int | None:
    for later in range(index + 1, len(lines)):
        if lines[later].kind != BLANK:
            return later
    return None


def comment_thread_starts(lines: list[SourceLine], index: int) -> bool:
    """True when reader comments begin at `index`: a comments heading, a thread of bulleted handles
    each followed by indented text, or "Name says:" lines. A bullet holding a sentence is body text."""
    line = lines[index]
    text = line.text
    if is_comment_heading(text):
        return True
    following = _next_text(lines, index)
    after = lines[following] if following is not None else None
    if line.bullet and is_handle(text) and after is not None and is_timestamp(after.text):
        return True
    if _handle_with_reply(lines, index):
        # A thread: at least two handles, each over indented text (one could be a loose list item).
        return any(_handle_with_reply(lines, later) for later in range(index + 1, len(lines)))
    if is_comment_author(text):
        more_authors = any(is_comment_author(other.text) for other in lines[index + 1:])
        return more_authors or (after is not None and is_timestamp(after.text))
    return False


def _handle_with_reply(lines: list[SourceLine], index: int) -> bool:
    """A bulleted short handle whose next text line is indented deeper and is not a bullet."""
    line = lines[index]
    if not (line.bullet and is_handle(line.text)):
        return False
    following = _next_text(lines, index)
    return following is not None and lines[following].indent > line.indent and not lines[following].bullet


def _skip_related_list(lines: list[SourceLine], index: int) -> int:
    """Index of the first line after a "Related stories" heading and the headlines listed under it."""
    cursor = index + 1
    while cursor < len(lines):
        line = lines[cursor]
        if line.kind == BLANK or (word_count(line.text) <= 20 and not ends_sentence(line.text)):
            cursor += 1
            continue
        break
    return cursor


def _find_title(lines: list[SourceLine], result: CleanedSegment) -> int | None:
    """Index of the headline: the first real line (artefacts, dates and bylines before it noted, skipped)."""
    for index, line in enumerate(lines):
        if line.kind in (BLANK, SEPARATOR):
            continue
        if line.kind == IMAGE:
            result.caption = result.caption or line.text
            continue
        if comment_thread_starts(lines, index) or paywall_kind(line.text) == "truncate":
            return None
        date = parse_date_line(line.text)
        if date:
            result.date = result.date or date
            continue
        if is_artefact(line.text) or is_byline(line.text) or paywall_kind(line.text):
            continue
        return index
    return None


def clean_segment(lines: list[SourceLine], hints: Hints | None = None) -> CleanedSegment:
    """Clean the lines of one article: title, caption, date, outlet, and body paragraphs with spans."""
    hints = hints or Hints()
    result = CleanedSegment(caption=hints.caption)
    title_index = _find_title(lines, result)
    if title_index is None:
        return result
    start = _take_title(lines[title_index], title_index, result)
    blocks, boilerplate = _body_blocks(lines, start, result)
    _finish(result, blocks, boilerplate, hints, title_in_body=start == title_index)
    return result


def _take_title(title: SourceLine, title_index: int, result: CleanedSegment) -> int:
    """Record the headline; the index where the body starts (the title line itself when it is prose)."""
    result.title_line = title.start
    if word_count(title.text) >= UNTITLED_WORDS and ends_sentence(title.text):
        result.title = " ".join(title.text.split()[:12]) + "…"
        return title_index
    result.title = " ".join(title.text.split())
    return title_index + 1


def _body_blocks(lines: list[SourceLine], start: int, result: CleanedSegment) -> tuple[list[Block], list[str]]:
    """The body's blocks from `start` on, and the boilerplate lines seen (for the outlet); stops at a
    comment thread or a truncating paywall, noting which in `result.ended_by`."""
    blocks: list[Block] = []
    boilerplate: list[str] = []
    title_key = normalise(result.title)
    in_header = True
    index = start
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.kind in (BLANK, SEPARATOR):
            blocks.append(Block(SourceLine("", line.start, line.end, kind=BLANK)))
            continue
        if line.kind == IMAGE:
            result.caption = result.caption or line.text
            continue
        if not in_header and comment_thread_starts(lines, index - 1):
            result.ended_by = "comments"
            break
        kind = paywall_kind(line.text)
        if kind:
            boilerplate.append(line.text)
            if kind == "truncate":
                result.ended_by = "paywall"
                break
            continue
        if is_related_heading(line.text):
            index = _skip_related_list(lines, index - 1)
            continue
        if is_call_to_action(line.text):
            blocks.append(Block(line, call_to_action=True))
            continue
        if _is_dropped(line.text, title_key, result, boilerplate):
            continue
        following = _next_text(lines, index - 1)
        repeated_next = following is not None and normalise(lines[following].text) == normalise(line.text)
        if in_header:
            if repeated_next or is_caption_credit(line.text):
                result.caption = result.caption or " ".join(line.text.split())
                continue
            in_header = False
        elif repeated_next and following == index:
            continue  # the same line printed twice in a row: keep it once
        blocks.append(Block(line))
    return blocks, boilerplate


def _is_dropped(text: str, title_key: str, result: CleanedSegment, boilerplate: list[str]) -> bool:
    """Whether a body line is not article text: a repeated headline or caption, a related link, an artefact,
    a comment heading, a date or byline line (its date is kept), a publisher line (kept as boilerplate)."""
    key = normalise(text)
    if key == title_key or (result.caption and key == normalise(result.caption)):
        return True
    if is_related_link(text) or is_artefact(text) or is_comment_heading(text):
        return True
    date = parse_date_line(text) or (find_date_in_metadata_line(text) if is_byline(text) else "")
    if date or is_byline(text):
        result.date = result.date or date
        return True
    if is_publisher_line(text):
        boilerplate.append(text)
        return True
    return False


def _finish(result: CleanedSegment, blocks: list[Block], boilerplate: list[str], hints: Hints,
            *, title_in_body: bool) -> None:
    """Paragraphs from the blocks, promotions dropped; the date and outlet from hints or the text."""
    drafts = build_paragraphs(blocks)
    # The headline takes part in promotion checks: a segment that is only "Heading, blurb, Read More"
    # is a promotional block, not an article.
    headline = Draft(Paragraph(result.title, result.title_line, result.title_line, is_heading=True))
    paragraphs = drop_promotions(drafts if title_in_body else [headline, *drafts])
    if paragraphs and paragraphs[0] is headline.paragraph:
        paragraphs = paragraphs[1:]
    result.paragraphs = [p for p in paragraphs if normalise(p.text) != normalise(result.caption)]
    result.date = hints.date or result.date
    result.outlet = hints.outlet or _first_outlet(boilerplate + [p.text for p in result.paragraphs])


def _first_outlet(texts: list[str]) -> str:
    for text in texts:
        outlet = find_outlet(text)
        if outlet:
            return outlet
    return ""


def content_hash(title: str, paragraphs: list[Paragraph] | tuple[Paragraph, ...]) -> str:
    """sha256 of the title and the cleaned body: changes exactly when the cleaned text changes."""
    body = "\n\n".join(p.text for p in paragraphs)
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def to_article(cleaned: CleanedSegment, source: str, position: int) -> Article | None:
    """The `Article` record for a cleaned segment, or None when no body text is left."""
    if not any(not p.is_heading for p in cleaned.paragraphs):
        return None
    paragraphs = tuple(cleaned.paragraphs)
    return Article(
        id=f"{source}#{position}",
        source=source,
        position=position,
        title=cleaned.title,
        paragraphs=paragraphs,
        title_line=cleaned.title_line,
        caption=cleaned.caption,
        outlet=cleaned.outlet,
        date=cleaned.date,
        content_hash=content_hash(cleaned.title, paragraphs),
    )
