"""Searching a built index: dense (FAISS), lexical (BM25) or both fused by reciprocal rank fusion.

Filters apply before the cut to k (the rankings over-fetch); near-duplicate articles collapse into the
best-ranked one, which lists the others' sources in `Hit.also_in`. Every hit carries the cosine of query
and chunk, computed from the stored vectors, whatever the mode.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from archive.records import Article
from core.errors import IndexCorrupt, IndexMismatch, IndexMissing, InvalidQuery
from index import store
from index.embed import Embedder, make_embedder, model_description
from index.lexical import LexicalIndex
from index.records import Chunk, Hit, SearchFilters
from index.vectors import FaissStore

MODES = ("dense", "bm25", "hybrid")
MIN_POOL = 50  # candidates each ranking contributes before filters and duplicate collapse




_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _date_bound(value: str | None, *, end: bool) -> str | None:
    """A YYYY, YYYY-MM or YYYY-MM-DD bound as a full ISO date (start or end of the period)."""
    if not value:
        return None
    match = _DATE.match(value.strip())
    if not match:
        raise InvalidQuery(f"date {value!r} is not YYYY-MM-DD (or YYYY-MM, or YYYY)")
    year, month, day = match.groups()
    try:  # a real calendar date: 2024-13-45 or 2024-02-30 is a typo to report, not an empty result
        date(int(year), int(month or 1), int(day or 1))
    except ValueError as error:
        raise InvalidQuery(f"date {value!r} is not a real date ({error})") from error
    return f"{year}-{month or ('12' if end else '01')}-{day or ('31' if end else '01')}"


def fuse(rankings: list[tuple[list[int], float]], rrf_k: int) -> dict[int, float]:
    """Reciprocal rank fusion: sum over rankings of weight / (rrf_k + rank), ranks from 1."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return fused


class Searcher:
    """A loaded index. Cheap to query, safe to share between threads."""

    def __init__(
        self,
        settings,
        build_dir,
        manifest: dict[str, Any],
        chunks: list[Chunk],
        articles: list[Article],
        vectors: FaissStore,
        lexical: LexicalIndex,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.build_dir = build_dir
        self.manifest = manifest
        self.chunks = chunks
        self._articles = {article.id: article for article in articles}
        self._article_order = [article.id for article in articles]
        self.vectors = vectors
        self.lexical = lexical
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._group_of: dict[str, int] = {}
        self._groups: list[tuple[str, ...]] = []
        for group in manifest.get("duplicate_groups") or []:
            members = tuple(aid for aid in group if aid in self._articles)
            if len(members) > 1:
                for aid in members:
                    self._group_of[aid] = len(self._groups)
                self._groups.append(members)
        self._sources = np.array([chunk.source for chunk in chunks], dtype=object)
        self._dates = [chunk.date or "" for chunk in chunks]
        self._filter_cache: dict[tuple[str, str | None, str | None], np.ndarray] = {}

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, settings, embedder: Embedder | None = None) -> Searcher:
        """Load the serving index of `settings`, refusing one built with another model or chunker.

        Raises IndexMissing, IndexCorrupt or IndexMismatch, each with one line saying how to rebuild.
        """
        index_dir = settings.resolved_index_dir()
        build_dir = store.resolve_build_dir(index_dir)
        if build_dir is None:
            raise IndexMissing(
                f"no index at {index_dir} yet; build it with {store.rebuild_command(settings)}"
            )
        if not build_dir.is_dir():
            raise IndexCorrupt(
                f"index at {index_dir} points to a missing build; rebuild it with "
                f"{store.rebuild_command(settings)}"
            )
        manifest = store.read_manifest(build_dir, settings)
        model_name, model_dim = (embedder.name, embedder.dim) if embedder else model_description(settings)
        store.check_compatible(manifest, settings, model_name=model_name, model_dim=model_dim)
        store.verify_files(build_dir, manifest, settings)
        try:
            chunks = [store.chunk_from_row(row) for row in store.read_jsonl(build_dir / store.CHUNKS)]
            articles = [store.article_from_row(row) for row in store.read_jsonl(build_dir / store.ARTICLES)]
            vectors = FaissStore.load(build_dir / store.VECTORS, ef_search=settings.hnsw_ef_search)
            lexical = LexicalIndex.load(build_dir / store.BM25_DIR)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            raise IndexCorrupt(
                f"index at {build_dir} is unreadable ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); rebuild it with "
                f"{store.rebuild_command(settings)}"
            ) from error
        counts = manifest.get("counts") or {}
        if not (
            len(chunks) == vectors.count == lexical.count == counts.get("chunks")
            and len(articles) == counts.get("articles")
        ):
            raise IndexCorrupt(
                f"index at {build_dir} is inconsistent ({len(chunks)} chunks, {vectors.count} "
                f"vectors, {lexical.count} BM25 documents); rebuild it with "
                f"{store.rebuild_command(settings)}"
            )
        if vectors.count and vectors.dim != (manifest.get("model") or {}).get("dim"):
            raise IndexCorrupt(
                f"index at {build_dir} holds {vectors.dim}-dimensional vectors but its manifest "
                f"says {manifest['model'].get('dim')}; rebuild it with {store.rebuild_command(settings)}"
            )
        return cls(settings, build_dir, manifest, chunks, articles, vectors, lexical, embedder)

    @property
    def embedder(self) -> Embedder:
        """The model the index was built with, loaded on first use."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    embedder = make_embedder(self.settings)
                    built_with = self.manifest.get("model") or {}
                    if (embedder.name, embedder.dim) != (built_with.get("name"), built_with.get("dim")):
                        raise IndexMismatch(
                            f"the index was built with {built_with.get('name')} but the loaded model is "
                            f"{embedder.name} ({embedder.dim} dimensions); rebuild it with "
                            f"{store.rebuild_command(self.settings, full=True)}"
                        )
                    self._embedder = embedder
        return self._embedder

    # ------------------------------------------------------------ reading

    def article(self, article_id: str) -> Article | None:
        return self._articles.get(article_id)

    def articles(self) -> list[Article]:
        return [self._articles[aid] for aid in self._article_order]

    def also_in(self, article_id: str) -> tuple[str, ...]:
        """Sources of the near-duplicates of an article (its own source excluded)."""
        group = self._group_of.get(article_id)
        if group is None:
            return ()
        own = self._articles[article_id].source
        sources: list[str] = []
        for other in self._groups[group]:
            source = self._articles[other].source
            if other != article_id and source != own and source not in sources:
                sources.append(source)
        return tuple(sources)

    def status(self) -> dict[str, Any]:
        model = self.manifest.get("model") or {}
        return {
            "articles": len(self._articles),
            "chunks": len(self.chunks),
            "model": model.get("name"),
            "dim": model.get("dim"),
            "built_at": self.manifest.get("built_at"),
            "vector_index": (self.manifest.get("vector_index") or {}).get("kind", self.vectors.kind),
            "archive": self.manifest.get("archive"),
            "index_dir": str(self.settings.resolved_index_dir()),
            "skipped_files": self.manifest.get("skipped_files", []),
        }

    # ------------------------------------------------------------ searching

    def _allowed(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Ids of the chunks the filters let through, or None when there is no filter."""
        if filters is None or filters.is_empty():
            return None
        key = (
            filters.source_glob or "",
            _date_bound(filters.since, end=False),
            _date_bound(filters.until, end=True),
        )
        allowed = self._filter_cache.get(key)
        if allowed is None:
            allowed = self._filter_ids(*key)
            if len(self._filter_cache) >= 64:  # another thread may clear it too: return the local, not a lookup
                self._filter_cache.clear()
            self._filter_cache[key] = allowed
        return allowed

    def _filter_ids(self, glob: str, since: str | None, until: str | None) -> np.ndarray:
        mask = np.ones(len(self.chunks), dtype=bool)
        if glob:
            matching = {
                source
                for source in set(self._sources)
                if fnmatch.fnmatchcase(source, glob) or fnmatch.fnmatchcase(PurePosixPath(source).name, glob)
            }
            mask &= np.array([source in matching for source in self._sources], dtype=bool)
        if since or until:  # undated chunks cannot satisfy a date range
            mask &= np.array(
                [
                    bool(date) and (not since or date >= since) and (not until or date <= until)
                    for date in self._dates
                ],
                dtype=bool,
            )
        return np.flatnonzero(mask).astype(np.int64)

    def search(
        self, query: str, k: int = 5, mode: str = "hybrid", filters: SearchFilters | None = None
    ) -> list[Hit]:
        """The `k` best passages for `query`, best first, after filters and near-duplicate collapse."""
        if mode not in MODES:
            raise InvalidQuery(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        allowed = self._allowed(filters)
        if k <= 0 or not query.strip() or not self.chunks or (allowed is not None and len(allowed) == 0):
            return []
        available = len(self.chunks) if allowed is None else len(allowed)
        query_vector = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        lexical_scores = self.lexical.scores(query) if mode != "dense" else None
        pool = min(available, max(MIN_POOL, 4 * k))
        while True:
            ranked = self._rank(query_vector, lexical_scores, mode, pool, allowed)
            kept = self._collapse(ranked)
            if len(kept) >= k or pool >= available:
                break
            pool = min(available, pool * 4)
        kept = kept[:k]
        ids = np.array([chunk_id for chunk_id, _ in kept], dtype=np.int64)
        cosines = self.vectors.vectors(ids) @ query_vector if len(ids) else np.zeros(0)
        hits = []
        for rank, ((chunk_id, score), cosine) in enumerate(zip(kept, cosines, strict=True), start=1):
            chunk = self.chunks[chunk_id]
            hits.append(
                Hit(
                    rank=rank,
                    score=float(score),
                    chunk=chunk,
                    also_in=self.also_in(chunk.article_id),
                    dense_score=float(cosine),
                    lexical_score=float(lexical_scores[chunk_id]) if lexical_scores is not None else None,
                )
            )
        return hits

    def _rank(
        self,
        query_vector: np.ndarray,
        lexical_scores: np.ndarray | None,
        mode: str,
        pool: int,
        allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode != "bm25":
            scores, ids = self.vectors.search(query_vector, pool, allowed)
            dense = [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
        if lexical_scores is not None:
            candidates = np.arange(len(lexical_scores)) if allowed is None else allowed
            values = lexical_scores[candidates]
            positive = candidates[values > 0]
            values = values[values > 0]
            order = np.lexsort((positive, -values))[:pool]  # score, then index order for ties
            lexical = [(int(positive[i]), float(values[i])) for i in order]
        if mode == "dense":
            return dense
        if mode == "bm25":
            return lexical
        fused = fuse(
            [
                ([i for i, _ in dense], self.settings.dense_weight),
                ([i for i, _ in lexical], self.settings.bm25_weight),
            ],
            self.settings.rrf_k,
        )
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _collapse(self, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Keep chunks of the best-ranked article of each near-duplicate group only."""
        shown: dict[int, str] = {}
        kept = []
        for chunk_id, score in ranked:
            article_id = self.chunks[chunk_id].article_id
            group = self._group_of.get(article_id)
            if group is not None and shown.setdefault(group, article_id) != article_id:
                continue
            kept.append((chunk_id, score))
        return kept
