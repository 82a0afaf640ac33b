"""Every mention of a name in the indexed archive, in every spelling the index folds together.

Served from the index, never by reading the raw files: the lexical postings say which chunks hold the
name's tokens (its word skeletons, or the skeleton of its words joined, so "Hizb Allah" meets
"Hizbullah"), and only the paragraphs of those chunks are read, from the index's own article records.
Text that cleaning removed (reader comments, promos) is not in the index, so it is never counted. How a
run of words is recognised as the name is index.name_match's business.

Near-duplicate articles count once: the first of a group (in the index's order) that mentions the name
carries the count, the others are listed in its `also_in`. Lines are the raw-file spans of the paragraphs
holding the mentions, 1-based and inclusive, so `sed -n 'START,ENDp' ARCHIVE/SOURCE` shows them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from core.errors import InvalidQuery
from index.name_match import NameForm, find_in_text, name_forms
from index.postings import chunks_by_id, chunks_with_all, chunks_with_token, duplicate_ids


class Mention(NamedTuple):
    """One mention: where it is (article, paragraph, raw lines) and how it was written."""

    article_id: str
    paragraph: int  # 0-based index of the article paragraph
    start_line: int
    end_line: int
    spelling: str


@dataclass(frozen=True)
class ArticleMentions:
    """The mentions of one article (its near-duplicates folded in): the count and the lines holding them."""

    article_id: str
    source: str
    title: str
    date: str
    outlet: str
    count: int
    lines: tuple[tuple[int, int], ...]  # distinct raw-file spans, in file order
    also_in: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "outlet": self.outlet,
            "count": self.count,
            "lines": [list(span) for span in self.lines],
            "also_in": list(self.also_in),
        }


@dataclass(frozen=True)
class MentionReport:
    """What `archive-qa mentions NAME --json` prints, plus the forms that were searched for."""

    name: str
    spellings: tuple[str, ...]  # as written in the archive, most frequent first
    total: int
    articles: tuple[ArticleMentions, ...]  # by date, then source; undated last
    forms: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spellings": list(self.spellings),
            "total": self.total,
            "articles": [article.to_json() for article in self.articles],
        }

    def per_month(self) -> list[tuple[str, int]]:
        """Mentions per YYYY-MM in dated articles; every month from the first to the last is listed."""
        counts: Counter[str] = Counter()
        for article in self.articles:
            if len(article.date) >= 7:
                counts[article.date[:7]] += article.count
        if not counts:
            return []
        last = max(counts)
        year, month = int(min(counts)[:4]), int(min(counts)[5:7])
        months: list[tuple[str, int]] = []
        while f"{year:04d}-{month:02d}" <= last:
            key = f"{year:04d}-{month:02d}"
            months.append((key, counts.get(key, 0)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


def _candidate_chunks(searcher, forms: Sequence[NameForm]) -> np.ndarray:
    """Ids of the chunks that may hold a form: all its word skeletons, or its joined skeleton."""
    found = [np.zeros(0, dtype=np.int64)]
    for form in forms:
        found.append(chunks_with_all(searcher, form.tokens))
        found.append(chunks_with_token(searcher, "~" + form.target))
    return np.unique(np.concatenate(found))


def _candidate_paragraphs(searcher, chunk_ids: Any, articles: dict[str, Any]) -> dict[str, set[int]]:
    """Article id -> indexes of the paragraphs the candidate chunks draw from (articles fetched into `articles`)."""
    paragraphs: dict[str, set[int]] = {}
    for chunk in chunks_by_id(searcher, chunk_ids):
        if chunk.article_id not in articles:
            articles[chunk.article_id] = searcher.article(chunk.article_id)
        article = articles[chunk.article_id]
        if article is None:
            continue
        first, last = chunk.paragraph_span if chunk.paragraph_span is not None else (0, len(article.paragraphs) - 1)
        paragraphs.setdefault(chunk.article_id, set()).update(range(first, last + 1))
    return paragraphs


def _mentions_in(article, paragraphs: Iterable[int], forms) -> list[Mention]:
    mentions = []
    for index in sorted(paragraphs):
        if index >= len(article.paragraphs):
            continue
        paragraph = article.paragraphs[index]
        for _, _, spelling in find_in_text(paragraph.text, forms):
            mentions.append(Mention(article.id, index, paragraph.start_line, paragraph.end_line, spelling))
    return mentions


def find_mentions(searcher, name: str, aliases: Sequence[str] = ()) -> MentionReport:
    """Every mention of `name` (and of its short form and `aliases`) in the index behind `searcher`.

    Raises InvalidQuery when the name holds no word to look for (empty, or only stopwords).
    """
    forms = name_forms(name, aliases)
    if not forms:
        raise InvalidQuery(f"{name!r} holds no word to look for")
    articles: dict[str, Any] = {}
    candidates = _candidate_paragraphs(searcher, _candidate_chunks(searcher, forms), articles)
    by_article: dict[str, list[Mention]] = {}
    for article_id, paragraphs in candidates.items():
        mentions = _mentions_in(articles[article_id], paragraphs, forms)
        if mentions:
            by_article[article_id] = mentions
    spellings: Counter[str] = Counter()
    found = []
    for article_id in _representatives(searcher, by_article, articles):
        mentions, article = by_article[article_id], articles[article_id]
        spellings.update(mention.spelling for mention in mentions)
        found.append(ArticleMentions(
            article_id=article_id, source=article.source, title=article.title, date=article.date,
            outlet=article.outlet, count=len(mentions),
            lines=tuple(sorted({(m.start_line, m.end_line) for m in mentions})),
            also_in=_also_in(searcher, article, articles),
        ))
    found.sort(key=lambda item: (not item.date, item.date, item.source, articles[item.article_id].position))
    return MentionReport(
        name=name,
        spellings=tuple(spelling for spelling, _ in sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))),
        total=sum(article.count for article in found),
        articles=tuple(found),
        forms=tuple(form.text for form in forms),
    )


def _also_in(searcher, article, articles: dict[str, Any]) -> tuple[str, ...]:
    """Sources of the article's near-duplicates (its own excluded), from the groups already read."""
    sources: list[str] = []
    for other in duplicate_ids(searcher, article.id):
        if other not in articles:
            articles[other] = searcher.article(other)
        source = articles[other].source if articles[other] is not None else ""
        if source and source != article.source and source not in sources:
            sources.append(source)
    return tuple(sources)


def _representatives(searcher, by_article: dict[str, list[Mention]], articles: dict[str, Any]) -> list[str]:
    """One article per near-duplicate group: the first in archive order (source, position) naming the name."""
    kept: list[str] = []
    seen: set[str] = set()
    for article_id in sorted(by_article, key=lambda aid: (articles[aid].source, articles[aid].position)):
        if article_id in seen:
            continue
        kept.append(article_id)
        seen.update(duplicate_ids(searcher, article_id))
    return kept
