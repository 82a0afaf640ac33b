"""Kept lines into paragraphs, and promotional blocks out of them. Pure functions.

Scraped text puts one paragraph on each line, so every line is a paragraph of its own unless it is
hard-wrapped: a short line that does not end a sentence continues on the next line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.lines import BLANK, SourceLine
from archive.patterns import ends_sentence, is_heading_like, normalise
from archive.records import Paragraph

WRAP_WIDTH = 100  # a line longer than this is a paragraph of its own, not a hard-wrapped piece
PROMO_BLURB = 2  # at most this many paragraphs between a promo heading and its call to action
_PROMO_WORDS = re.compile(r"\b(?:our|newsletter|donat\w*|subscri\w*|sign up|non-?profit|tax-deductible|"
                          r"membership|learn more)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """One kept line on its way to a paragraph."""

    line: SourceLine
    call_to_action: bool = False


@dataclass(frozen=True)
class Draft:
    """A paragraph before promotional blocks are removed."""

    paragraph: Paragraph
    call_to_action: bool = False


def continues(previous: SourceLine, line: SourceLine) -> bool:
    """True when `line` carries on the hard-wrapped paragraph whose last line is `previous`."""
    if not (previous.joinable and line.joinable) or line.bullet or line.heading or previous.heading:
        return False
    if len(previous.text) > WRAP_WIDTH or ends_sentence(previous.text):
        return False
    starts_lower = line.text[:1].islower()
    return starts_lower or not is_heading_like(previous.text)


def build_paragraphs(blocks: list[Block]) -> list[Draft]:
    """Group kept lines into paragraphs: blank lines separate, hard-wrapped lines join."""
    drafts: list[Draft] = []
    group: list[Block] = []

    def flush() -> None:
        if not group:
            return
        first, last = group[0].line, group[-1].line
        text = " ".join(" ".join(block.line.text.split()) for block in group)
        single = len(group) == 1
        heading = bool(first.heading) or (single and not first.bullet and is_heading_like(text))
        drafts.append(Draft(Paragraph(text, first.start, last.end, is_heading=heading),
                            call_to_action=group[0].call_to_action))
        group.clear()

    for block in blocks:
        if block.line.kind == BLANK:
            flush()
            continue
        calls = block.call_to_action or (group and group[-1].call_to_action)
        if group and not calls and continues(group[-1].line, block.line):
            group.append(block)
            continue
        flush()
        group.append(block)
    flush()
    return drafts


def _is_promotion(heading: Paragraph, blurb: list[Draft]) -> bool:
    """A short heading followed by a blurb that names it or speaks like a promotion."""
    name = normalise(heading.text)
    return all(not d.paragraph.is_heading for d in blurb) and any(
        name in normalise(d.paragraph.text) or _PROMO_WORDS.search(d.paragraph.text) for d in blurb)


def drop_promotions(drafts: list[Draft]) -> list[Paragraph]:
    """Remove calls to action ("Read More", "Donate") with the heading and blurb they close, then
    any heading left with no text under it at the end."""
    keep = [True] * len(drafts)
    for index, draft in enumerate(drafts):
        if not draft.call_to_action:
            continue
        keep[index] = False
        for heading_index in range(index - 1, max(-1, index - 2 - PROMO_BLURB), -1):
            candidate = drafts[heading_index].paragraph
            if candidate.is_heading:
                blurb = drafts[heading_index + 1: index]
                if blurb and _is_promotion(candidate, blurb):
                    for dropped in range(heading_index, index):
                        keep[dropped] = False
                break
    paragraphs = [draft.paragraph for draft, kept in zip(drafts, keep, strict=True) if kept]
    while paragraphs and paragraphs[-1].is_heading:
        paragraphs.pop()
    return paragraphs
