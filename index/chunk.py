"""Chunking cleaned articles into passages that fit the embedding model's window. Pure: no I/O.

A chunk is a run of whole sentences of one article, packed paragraph by paragraph. It closes at a
paragraph boundary once it reaches the target size, or earlier when the next sentence would overflow
the window (title prefix included). A heading never ends a chunk: it moves to the one that follows,
and a chunk past half its target closes before a heading, so a section starts a chunk of its own.
The last sentences of a chunk open the next one (overlap), except where a section starts. The quoted
text is verbatim paragraph text; the line span is the union of the raw-file lines of the paragraphs it
draws from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archive.records import Article
from core.text import split_sentences
from index.records import Chunk

# Bump whenever the chunks produced for an article change: an index built with older rules is refused.
VERSION = 2  # 2: HTML block elements separate text (archive.html), so chunks of web pages changed
MIN_BUDGET = 32  # tokens left for text when a title is absurdly long

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one) inside one paragraph."""

    paragraph: int
    start: int  # character offsets in the paragraph text
    end: int
    tokens: int
    heading: bool


def _split_long(
    text: str, start: int, end: int, budget: int, cost: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Split text[start:end] at word boundaries into pieces of at most `budget` tokens."""
    words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    pieces: list[tuple[int, int]] = []
    first = 0
    while first < len(words):
        last = first
        while last + 1 < len(words) and cost(text[words[first][0] : words[last + 1][1]]) <= budget:
            last += 1
        pieces.append((words[first][0], words[last][1]))
        first = last + 1
    return pieces


def _units(article: Article, cost: Callable[[str], int], budget: int) -> list[_Unit]:
    units: list[_Unit] = []
    for index, paragraph in enumerate(article.paragraphs):
        text = paragraph.text
        if paragraph.is_heading:
            stripped = text.strip()
            spans = [(text.find(stripped), text.find(stripped) + len(stripped))] if stripped else []
        else:
            spans = [(sentence.start, sentence.end) for sentence in split_sentences(text)]
        for start, end in spans:
            tokens = cost(text[start:end])
            pieces = [(start, end)] if tokens <= budget else _split_long(text, start, end, budget, cost)
            for piece_start, piece_end in pieces:
                piece_tokens = tokens if len(pieces) == 1 else cost(text[piece_start:piece_end])
                units.append(_Unit(index, piece_start, piece_end, piece_tokens, paragraph.is_heading))
    return units


def _pack(units: Sequence[_Unit], budget: int, target: int, overlap: int) -> list[list[int]]:
    """Group unit indices into chunks; see the module docstring for the rules."""
    groups: list[list[int]] = []
    current: list[int] = []
    fresh = 0  # units in `current` not carried over from the previous chunk

    def cost_of(indices: Sequence[int]) -> int:
        return sum(units[i].tokens for i in indices)

    def close(next_tokens: int, next_heading: bool = False) -> None:
        nonlocal current, fresh
        body = list(current)
        trailing: list[int] = []
        while body and units[body[-1]].heading:
            trailing.insert(0, body.pop())
        if not any(not units[i].heading for i in body):  # only headings: they stand alone
            body, trailing = list(current), []
        groups.append(body)
        carry = [i for i in body[len(body) - overlap :] if not units[i].heading] if overlap > 0 else []
        if next_heading:  # a new section starts clean, without the previous section's last sentence
            carry = []
        while carry and cost_of(carry) + cost_of(trailing) + next_tokens > budget:
            carry.pop(0)
        current, fresh = carry + trailing, len(trailing)

    position = 0
    while position < len(units):
        unit = units[position]
        if fresh and cost_of(current) + unit.tokens > budget:
            close(unit.tokens, unit.heading)
            continue
        if current and not fresh and cost_of(current) + unit.tokens > budget:
            current = []  # carried sentences do not fit beside this one: drop them
        current.append(position)
        fresh += 1
        position += 1
        at_paragraph_end = position < len(units) and units[position].paragraph != unit.paragraph
        if at_paragraph_end and not unit.heading:
            following = units[position]
            # Close at the target, or earlier (half-way) when the next paragraph opens a new section.
            if cost_of(current) >= (target // 2 if following.heading else target):
                close(following.tokens, following.heading)
    if fresh:
        groups.append(current)
    return groups


def _chunk_text(article: Article, units: Sequence[_Unit]) -> str:
    pieces: list[str] = []
    run_start = 0
    for index in range(1, len(units) + 1):
        if index == len(units) or units[index].paragraph != units[run_start].paragraph:
            text = article.paragraphs[units[run_start].paragraph].text
            pieces.append(text[units[run_start].start : units[index - 1].end])
            run_start = index
    return "\n\n".join(pieces)


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    *,
    max_tokens: int = 256,
    target_tokens: int = 180,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Split one article into chunks whose embedding text (title prefix included) fits `max_tokens`.

    `count_tokens` counts model tokens of a text, special tokens included (as the embedder does).
    """
    overhead = count_tokens("")
    title_tokens = count_tokens(article.title) - overhead if article.title else 0
    budget = max(max_tokens - overhead - title_tokens - 1, MIN_BUDGET)  # 1: the newline after the title

    def cost(text: str) -> int:
        return count_tokens(text) - overhead

    # Tokenisers are not always additive: if an exact count finds a chunk too long, pack again tighter.
    for _attempt in range(8):
        chunks = _build_chunks(
            article, _units(article, cost, budget), budget, target_tokens, overlap_sentences
        )
        overflow = max((count_tokens(c.embedding_text()) - max_tokens for c in chunks), default=0)
        if overflow <= 0 or budget <= MIN_BUDGET:
            break
        budget = max(budget - max(overflow, 4), MIN_BUDGET)
    return chunks


def _build_chunks(
    article: Article, units: Sequence[_Unit], budget: int, target: int, overlap: int
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for group in _pack(units, budget, min(target, budget), overlap):
        members = [units[i] for i in group]
        paragraph_span = (members[0].paragraph, members[-1].paragraph)
        start_line, end_line = article.span_of(*paragraph_span)
        chunks.append(
            Chunk(
                id=f"{article.id}:{len(chunks)}",
                article_id=article.id,
                ordinal=len(chunks),
                source=article.source,
                title=article.title,
                text=_chunk_text(article, members),
                start_line=start_line,
                end_line=end_line,
                date=article.date,
                outlet=article.outlet,
                paragraph_span=paragraph_span,
            )
        )
    return chunks


def chunk_articles(articles: Sequence[Article], count_tokens: TokenCounter, **options: int) -> list[Chunk]:
    """Chunks of several articles, in article order."""
    return [chunk for article in articles for chunk in chunk_article(article, count_tokens, **options)]
