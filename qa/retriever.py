"""The archive as a LangChain retriever, so the index plugs into any LangChain chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


def hit_to_document(hit) -> Document:
    chunk = hit.chunk
    return Document(
        page_content=chunk.text,
        metadata={
            "source": chunk.source,
            "title": chunk.title,
            "lines": [chunk.start_line, chunk.end_line],
            "score": float(hit.score),
            "rank": hit.rank,
            "article_id": chunk.article_id,
            "chunk_id": chunk.id,
            "date": chunk.date,
            "outlet": chunk.outlet,
            "also_in": list(hit.also_in),
        },
    )


class ArchiveRetriever(BaseRetriever):
    """Wraps an index Searcher: `invoke(query)` returns the ranked passages as Documents.

    Metadata carries source (path inside the archive), title, lines ([start, end], 1-based, in the raw file)
    and score, so a chain can cite exactly as `archive-qa ask` does.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    k: int = 5
    mode: str = "hybrid"
    filters: Any = None

    @classmethod
    def open(cls, settings, **options: Any) -> ArchiveRetriever:
        """A retriever over the index that `settings` name."""
        from index.search import Searcher

        options.setdefault("k", settings.top_k)
        options.setdefault("mode", settings.search_mode)
        return cls(searcher=Searcher.open(settings), **options)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.searcher.search(query, k=self.k, mode=self.mode, filters=self.filters)
        return [hit_to_document(hit) for hit in hits]
