"""Typed records of the index stage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """A passage of one article, sized for the embedding model, with its raw-file line span."""

    id: str  # article id + ordinal
    article_id: str
    ordinal: int  # 0-based position of the chunk inside its article
    source: str
    title: str
    text: str  # the quoted text: verbatim paragraphs, no title prefix
    start_line: int
    end_line: int
    date: str = ""
    outlet: str = ""
    # 0-based indexes of the first and last article paragraph the chunk draws from (for showing it in place).
    paragraph_span: tuple[int, int] | None = None

    def embedding_text(self) -> str:
        """What is embedded and lexically indexed: the title helps retrieval without being quoted."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Hit:
    """One ranked passage returned by search."""

    rank: int
    score: float
    chunk: Chunk
    also_in: tuple[str, ...] = ()  # sources of near-duplicate articles collapsed into this hit
    dense_score: float | None = None  # cosine of query and chunk, when the dense ranking saw the chunk
    lexical_score: float | None = None  # BM25 score, when the lexical ranking saw the chunk

    def to_json(self) -> dict:
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "source": self.chunk.source,
            "title": self.chunk.title,
            "lines": [self.chunk.start_line, self.chunk.end_line],
            "text": self.chunk.text,
            "article_id": self.chunk.article_id,
            "date": self.chunk.date,
            "also_in": list(self.also_in),
        }


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on search: a glob on the source path and an inclusive ISO date range."""

    source_glob: str | None = None
    since: str | None = None  # YYYY-MM-DD; articles without a date are excluded when a range is set
    until: str | None = None

    def is_empty(self) -> bool:
        return not (self.source_glob or self.since or self.until)
