"""Searching a built index: dense (FAISS), lexical (BM25, SQLite FTS5) or both fused by reciprocal rank fusion.

Filters apply before the cut to k (the rankings over-fetch); near-duplicate articles collapse into the
best-ranked one, which lists the others' sources in `Hit.also_in`. Dense and hybrid hits carry the cosine of
query and chunk from the stored vectors; `bm25` never loads the model (its hits leave `dense_score` unset).

Opening reads the manifest and a few rows: chunks, articles and vectors are read on demand (SQLite, memory-
mapped segments), so opening costs the same at any size. The reader pins the generation its manifest names.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import faiss
import numpy as np

from archive.dedup import show_first_key
from archive.records import Article
from core.errors import IndexMismatch, IndexMissing, InvalidQuery, ModelUnavailable
from index import manifest as manifests
from index import publish, tables
from index.embed import STATIC_BACKEND, Embedder, VectorCache, make_embedder, model_description
from index.lexical import LexicalIndex, common_above_for
from index.records import Chunk, Hit, SearchFilters
from index.vectors import VectorStore

_T = TypeVar("_T")
MODES = ("dense", "bm25", "hybrid")
MIN_POOL = 50  # candidates each ranking contributes before filters and duplicate collapse
# Chunk vectors of the question-time MiniLM (index.question_encoder), kept across questions: related questions come
# back to the same shortlist. 8,192 x 384 float32 = 12.6 MB at most.
SHORTLIST_VECTORS = VectorCache(max_entries=8192)
ARTICLE_CACHE = 4096

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


def second_stage(ids: list[int], minilm: dict[int, float], ranks: dict[str, dict[int, int]],
                 weights: dict[str, float], rrf_k: int) -> list[tuple[int, float]]:
    """The shortlist `ids` (in first-stage order) re-ranked by weighted reciprocal rank fusion, best first, with
    each chunk's fused score.

    `weights` names the rankings fused: "minilm" (the shortlist by MiniLM's cosine), "bm25" and "dense" (the first
    stage's BM25 and static rankings, global ranks: a chunk one of them did not return gets nothing from it) and
    "first" (the first stage's fused order). The default fuses MiniLM (minilm_weight, 0.5) with BM25 (bm25_weight,
    1.0): today's hybrid weights, with MiniLM's ranking in place of the static one (chosen on the calibration half,
    docs/EVALUATION.md "Issue 25"). Ties keep the first stage's order.
    """
    position = {chunk_id: rank for rank, chunk_id in enumerate(ids, start=1)}
    by_minilm = sorted(ids, key=lambda i: -minilm[i])  # stable: ties keep the first stage's order
    rankings = {**ranks, "first": position,
                "minilm": {chunk_id: rank for rank, chunk_id in enumerate(by_minilm, start=1)}}
    scores = {chunk_id: sum(weight / (rrf_k + rankings[name][chunk_id]) for name, weight in weights.items()
                            if weight and chunk_id in rankings.get(name, {}))
              for chunk_id in ids}
    return sorted(scores.items(), key=lambda item: (-item[1], position[item[0]]))


def _settings_for_vectors(settings, manifest: dict[str, Any], embedder: Embedder | None
                          ) -> tuple[Any, Embedder | None]:
    """The settings (and embedder) that serve an index, given the vectors its manifest says it holds.

    Under the default static backend, an index built with MiniLM's vectors (embedding_backend "onnx" or "torch")
    keeps serving: its queries are embedded by MiniLM, which then also reads the shortlist (no second stage).
    Anything else is left to the manifest check, which refuses a mismatch with the rebuild command.
    """
    built = (manifest.get("model") or {}).get("name")
    if settings.embedding_backend != STATIC_BACKEND or (embedder is not None and embedder.name == built):
        return settings, embedder
    if built == model_description(settings)[0]:
        return settings, embedder
    minilm = settings.model_copy(update={"embedding_backend": "onnx"})
    if built != model_description(minilm)[0]:
        return settings, embedder
    return minilm, _question_encoder_for(minilm, str(built))


def _question_encoder_for(settings, name: str) -> Embedder | None:
    """The question-time MiniLM standing in for the index's MiniLM (the same model, no torch to load), or None
    (then the index's own backend loads) when its card names another model."""
    from index.question_encoder import QueryEncoder, encoder_dir, read_card

    try:
        same_model = read_card(encoder_dir(settings))["name"] == name
    except ModelUnavailable:
        return None
    return QueryEncoder(settings, name) if same_model else None


_DAMAGE = (sqlite3.DatabaseError, zlib.error, json.JSONDecodeError, UnicodeDecodeError)


def _reading(method: Callable[..., _T]) -> Callable[..., _T]:
    """Tables or text found damaged while reading (after the cheap checks on open passed) are reported as
    IndexCorrupt with the command that rebuilds the index, like damage found on open."""

    @functools.wraps(method)
    def wrapper(self: Searcher, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except _DAMAGE as error:
            reason = f"index at {self.build_dir} is damaged ({type(error).__name__}: {error})"
            raise manifests.corrupt(self.settings, reason) from error

    return wrapper


class Searcher:
    """An opened index generation. Cheap to query, safe to share between threads."""

    def __init__(self, settings, build_dir: Path, manifest: dict[str, Any], connection: sqlite3.Connection,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.build_dir = build_dir
        self.manifest = manifest
        self.generation = int(manifest["generation"])
        self.counts = manifest["counts"]
        self._db = connection
        self._db_lock = threading.RLock()
        # One query is a few milliseconds of FAISS work: OpenMP threads only add hand-offs, and on a busy
        # machine their spin-waits cost ten times the search itself (measured: docs/BENCHMARKS.md).
        faiss.omp_set_num_threads(1)
        hidden = tables.hidden_slots(connection, self.generation)
        index_dir = settings.resolved_index_dir()
        self.vectors = VectorStore(index_dir / publish.DATA, manifests.segments_of(manifest),
                                   int(manifest["model"]["dim"] or 0), hidden, manifest.get("vector_index"),
                                   nprobe=settings.ivf_nprobe)
        common_above = common_above_for(int(self.counts["chunks"]), settings.approximate_above,
                                        settings.bm25_common_share)
        self.lexical = LexicalIndex(connection, int(self.counts["slots"]), hidden, self._db_lock,
                                    common_above=common_above)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        # Static vectors in the index: the hybrid shortlist is re-ranked by MiniLM at question time (two stages).
        self.two_stage = settings.embedding_backend == STATIC_BACKEND and bool(
            getattr(settings, "minilm_at_question", False))
        self.second_stage_weights = {"minilm": float(getattr(settings, "minilm_weight", 0.5)),
                                     "bm25": float(settings.bm25_weight)}
        self._articles: OrderedDict[int, Article] = OrderedDict()
        self._filter_cache: dict[tuple[str, str | None, str | None], np.ndarray] = {}
        self._groups_of: dict[int, tuple[int, ...]] | None = None
        # `manifest["duplicate_groups"]` as the JSON-lines index had it, computed only when asked for.
        self.manifest = _Manifest(manifest, self)

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, settings, embedder: Embedder | None = None) -> Searcher:
        """Open the serving index of `settings`, refusing one built with another model or chunker.

        Raises IndexMissing, IndexCorrupt or IndexMismatch, each carrying the build command that mends it.
        Checks are the cheap ones (index.manifest); `index.verify` re-hashes everything.
        """
        index_dir = settings.resolved_index_dir()
        build_dir = publish.resolve_build_dir(index_dir)
        if build_dir is None:
            raise IndexMissing(f"no index at {index_dir} yet", index_dir=index_dir,
                               fix=manifests.fix_command(settings))
        if not build_dir.is_dir():
            raise manifests.corrupt(settings, f"index at {index_dir} points to a missing build")
        manifest = manifests.read_manifest(build_dir, settings)
        settings, embedder = _settings_for_vectors(settings, manifest, embedder)
        model_name, model_dim = (embedder.name, embedder.dim) if embedder else model_description(settings)
        manifests.check_compatible(manifest, settings, model_name=model_name, model_dim=model_dim)
        manifests.check_files(index_dir, manifest, settings)
        try:
            connection = tables.connect(index_dir / publish.DATA / manifest["tables"], write=False)
            counts = tables.generation_counts(connection, int(manifest["generation"]))
        except (sqlite3.DatabaseError, KeyError, TypeError, ValueError) as error:
            raise manifests.corrupt(settings, f"index at {build_dir} is unreadable ({error})") from error
        if counts is None or counts != manifest.get("counts"):
            connection.close()
            raise manifests.corrupt(settings, f"index at {build_dir} is inconsistent (its tables do not hold "
                                              f"generation {manifest.get('generation')} as the manifest counts it)")
        try:
            return cls(settings, build_dir, manifest, connection, embedder)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise manifests.corrupt(settings, f"index at {build_dir} is unreadable ({error})") from error

    def close(self) -> None:
        self._db.close()

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
                            f"{embedder.name} ({embedder.dim} dimensions)",
                            index_dir=self.settings.resolved_index_dir(),
                            fix=manifests.fix_command(self.settings, full=True),
                        )
                    self._embedder = embedder
        return self._embedder

    @property
    def answer_embedder(self) -> Embedder:
        """The model that embeds what a question reads (its shortlist, the answerer's candidate sentences).

        MiniLM through ONNX Runtime (index.question_encoder) when the index holds static vectors and
        minilm_at_question is on; otherwise the index's own model. The hashing stand-in never loads MiniLM.
        """
        if self.two_stage:
            from index.question_encoder import load_encoder

            return load_encoder(self.settings)
        return self.embedder

    # ------------------------------------------------------------ reading

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._db_lock:
            return self._db.execute(sql, args).fetchall()

    def _article_at(self, row: int) -> Article:
        with self._db_lock:
            article = self._articles.get(row)
            if article is None:
                values = self._db.execute(f"SELECT {tables.ARTICLE_COLUMNS} FROM articles WHERE id = ?",
                                          (row,)).fetchone()
                article = tables.article_from_row(values).article
                self._articles[row] = article
                if len(self._articles) > ARTICLE_CACHE:
                    self._articles.popitem(last=False)
            return article

    def _shown(self, alias: str) -> str:
        return tables.visible(alias, self.generation)

    @_reading
    def article(self, article_id: str) -> Article | None:
        rows = self._query(f"SELECT id FROM articles a WHERE article_id = ? AND {self._shown('a')}", (article_id,))
        return self._article_at(rows[0][0]) if rows else None

    @_reading
    def articles(self) -> list[Article]:
        """Every article, in archive order (source, then position in the file)."""
        rows = self._query(f"SELECT id FROM articles a WHERE {self._shown('a')} ORDER BY source, position")
        return [self._article_at(row[0]) for row in rows]

    @property
    def chunks(self) -> ChunkView:
        """The chunks, by integer id: `chunks[i]`, `chunks.many(ids)`, `len(chunks)`, iteration (all of them)."""
        return ChunkView(self)

    @_reading
    def _read_chunks(self, ids) -> list[Chunk]:
        with self._db_lock:
            found = tables.read_chunks(self._db, ids, self._article_at)
        return [found[int(i)] for i in ids]

    @_reading
    def chunk_ids(self) -> np.ndarray:
        """Integer ids of every chunk this index shows, ascending."""
        rows = self._query(f"SELECT id FROM chunks c WHERE {self._shown('c')} ORDER BY id")
        return np.array([row[0] for row in rows], dtype=np.int64)

    def iter_chunks(self) -> Iterator[Chunk]:
        ids = self.chunk_ids()
        for start in range(0, len(ids), 1000):
            yield from self._read_chunks(ids[start : start + 1000])

    @property
    def chunk_count(self) -> int:
        return int(self.counts["chunks"])

    @_reading
    def chunks_with_terms(self, tokens, *, require_all: bool = True) -> np.ndarray:
        """Integer ids of the chunks holding all (or any) of these lexical tokens (`core.text.lexical_tokens`)."""
        return self.lexical.matching(tokens, require_all=require_all)

    @_reading
    def duplicate_groups(self) -> list[tuple[str, ...]]:
        """Near-duplicate groups as article ids, the one to show first, groups in archive order."""
        groups = sorted({tuple(members) for members in self._groups().values()},
                        key=lambda rows: (self._article_at(rows[0]).source, self._article_at(rows[0]).position))
        return [tuple(self._article_at(row).id for row in rows) for rows in groups]

    @_reading
    def also_in(self, article_id: str) -> tuple[str, ...]:
        """Sources of the near-duplicates of an article (its own source excluded)."""
        rows = self._query(f"SELECT id FROM articles a WHERE article_id = ? AND {self._shown('a')}", (article_id,))
        return self._also_in_row(rows[0][0]) if rows else ()

    def _also_in_row(self, row: int) -> tuple[str, ...]:
        members = self._groups().get(row, ())
        own = self._article_at(row).source
        sources: list[str] = []
        for other in members:
            source = self._article_at(other).source
            if other != row and source != own and source not in sources:
                sources.append(source)
        return tuple(sources)

    def _groups(self) -> dict[int, tuple[int, ...]]:
        """Article row -> its near-duplicate group (rows, best to show first); read once, on first use."""
        if self._groups_of is None:
            pairs = self._query(
                f"SELECT n.a, n.b FROM near n JOIN articles x ON x.id = n.a JOIN articles y ON y.id = n.b "
                f"WHERE {self._shown('x')} AND {self._shown('y')}")
            self._groups_of = self._group_pairs(pairs)
        return self._groups_of

    def _group_pairs(self, pairs: list[tuple]) -> dict[int, tuple[int, ...]]:
        parent: dict[int, int] = {}

        def root(item: int) -> int:
            while parent.setdefault(item, item) != item:
                parent[item] = parent[parent[item]]
                item = parent[item]
            return item

        for a, b in pairs:
            parent[root(b)] = root(a)
        members: dict[int, list[int]] = {}
        for item in list(parent):
            members.setdefault(root(item), []).append(item)
        facts: dict[int, tuple] = {}
        rows_wanted = list(parent)
        for start in range(0, len(rows_wanted), 500):
            part = rows_wanted[start : start + 500]
            found = self._query(f"SELECT id, body_chars, date, source, position FROM articles "
                                f"WHERE id IN ({','.join('?' * len(part))})", tuple(part))
            facts.update((row[0], row[1:]) for row in found)
        grouped: dict[int, tuple[int, ...]] = {}
        for rows in members.values():
            ordered = tuple(sorted(rows, key=lambda r: show_first_key(facts[r][0], facts[r][1],
                                                                       (facts[r][2], facts[r][3]))))  # type: ignore[arg-type]
            grouped.update({row: ordered for row in rows})
        return grouped

    @_reading
    def status(self) -> dict[str, Any]:
        from index.writer import skipped_files

        model = self.manifest.get("model") or {}
        with self._db_lock:
            skipped, _ = skipped_files(self._db, self.generation)
        return {
            "articles": int(self.counts["articles"]),
            "chunks": self.chunk_count,
            "model": model.get("name"),
            "dim": model.get("dim"),
            "built_at": self.manifest.get("built_at"),
            "vector_index": (self.manifest.get("vector_index") or {}).get("kind", self.vectors.kind),
            "archive": self.manifest.get("archive"),
            "index_dir": str(self.settings.resolved_index_dir()),
            "skipped_files": [{"source": item.source, "reason": item.reason} for item in skipped],
        }

    # ------------------------------------------------------------ searching

    def _allowed(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Ids of the chunks the filters let through, or None when there is no filter."""
        if filters is None or filters.is_empty():
            return None
        key = (filters.source_glob or "", _date_bound(filters.since, end=False), _date_bound(filters.until, end=True))
        allowed = self._filter_cache.get(key)
        if allowed is None:
            allowed = self._filter_ids(*key)
            if len(self._filter_cache) >= 64:  # another thread may clear it too: return the local, not a lookup
                self._filter_cache.clear()
            self._filter_cache[key] = allowed
        return allowed

    def _filter_ids(self, glob: str, since: str | None, until: str | None) -> np.ndarray:
        conditions, args = [self._shown("a"), self._shown("c")], []
        if since or until:  # undated chunks cannot satisfy a date range
            conditions.append("a.date != ''")
        if since:
            conditions.append("a.date >= ?")
            args.append(since)
        if until:
            conditions.append("a.date <= ?")
            args.append(until)
        rows = self._query(f"SELECT c.id, a.source FROM chunks c JOIN articles a ON a.id = c.article "
                           f"WHERE {' AND '.join(conditions)} ORDER BY c.id", tuple(args))
        if glob:
            sources = {source for _, source in rows}
            matching = {s for s in sources
                        if fnmatch.fnmatchcase(s, glob) or fnmatch.fnmatchcase(PurePosixPath(s).name, glob)}
            rows = [row for row in rows if row[1] in matching]
        return np.array([row[0] for row in rows], dtype=np.int64)

    @_reading
    def search(self, query: str, k: int = 5, mode: str = "hybrid", filters: SearchFilters | None = None) -> list[Hit]:
        """The `k` best passages for `query`, best first, after filters and near-duplicate collapse."""
        if mode not in MODES:
            raise InvalidQuery(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        allowed = self._allowed(filters)
        available = self.chunk_count if allowed is None else len(allowed)
        if k <= 0 or not query.strip() or not available:
            return []
        query_vector = None if mode == "bm25" else np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        rerank = self.two_stage and mode != "bm25"
        wanted = max(k, int(self.settings.minilm_shortlist)) if rerank else k
        pool = min(available, max(MIN_POOL, 4 * wanted))
        while True:
            ranked, lexical, ranks = self._rank(query, query_vector, mode, pool, allowed)
            kept = self._collapse(ranked)
            if len(kept) >= wanted or pool >= available:
                break
            pool = min(available, pool * 4)
        if rerank:
            kept, minilm = self._rerank(query, kept[:wanted], ranks)
            return self._hits(query, kept[:k], query_vector, lexical, mode, minilm)
        return self._hits(query, kept[:k], query_vector, lexical, mode)

    def _rerank(self, query: str, shortlist: list[tuple[int, float]], ranks: dict[str, dict[int, int]]
                ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """The shortlist re-ranked by a fusion with MiniLM's cosine (second_stage), and those cosines by chunk."""
        if not shortlist:
            return shortlist, {}
        encoder = self.answer_embedder
        ids = [chunk_id for chunk_id, _ in shortlist]
        texts = [chunk.embedding_text() for chunk in self._read_chunks(ids)]
        vectors = SHORTLIST_VECTORS.embed(encoder, texts)
        cosines = vectors @ np.asarray(encoder.embed_query(query), dtype=np.float32)
        minilm = {chunk_id: float(cosine) for chunk_id, cosine in zip(ids, cosines, strict=True)}
        return second_stage(ids, minilm, ranks, self.second_stage_weights, self.settings.rrf_k), minilm

    def _hits(self, query, kept, query_vector, lexical: dict[int, float], mode: str,
              minilm: dict[int, float] | None = None) -> list[Hit]:
        ids = [chunk_id for chunk_id, _ in kept]
        chunks = self._read_chunks(ids)
        cosines: np.ndarray | None = None
        if minilm is not None:  # the question-time cosines replace the static ones
            cosines = np.array([minilm[i] for i in ids], dtype=np.float32)
        elif query_vector is not None and ids:
            cosines = self.vectors.vectors(np.array(ids)) @ query_vector
        if mode != "dense":
            missing = [i for i in ids if i not in lexical]
            lexical = {**lexical, **self.lexical.scores_of(query, missing)} if missing else lexical
        groups = self._groups()
        with self._db_lock:  # only an index with near-duplicates needs each hit's article row
            rows = tables.chunk_articles(self._db, ids) if groups else {}
        hits = []
        for rank, ((chunk_id, score), chunk) in enumerate(zip(kept, chunks, strict=True), start=1):
            hits.append(Hit(
                rank=rank,
                score=float(score),
                chunk=chunk,
                also_in=self._also_in_row(rows[chunk_id]) if groups else (),
                dense_score=float(cosines[rank - 1]) if cosines is not None else None,
                lexical_score=lexical.get(chunk_id) if mode != "dense" else None,
            ))
        return hits

    def _rank(self, query: str, query_vector: np.ndarray | None, mode: str, pool: int, allowed: np.ndarray | None
              ) -> tuple[list[tuple[int, float]], dict[int, float], dict[str, dict[int, int]]]:
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if query_vector is not None:
            scores, ids = self.vectors.search(query_vector, pool, allowed)
            dense = [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
        if mode != "dense":
            lexical = sorted(self.lexical.search(query, pool, allowed), key=lambda item: (-item[1], item[0]))
        scores_by_id = dict(lexical)
        ranks = {"dense": {i: rank for rank, (i, _) in enumerate(dense, start=1)},
                 "bm25": {i: rank for rank, (i, _) in enumerate(lexical, start=1)}}
        if mode == "dense":
            return dense, scores_by_id, ranks
        if mode == "bm25":
            return lexical, scores_by_id, ranks
        fused = fuse([([i for i, _ in dense], self.settings.dense_weight),
                      ([i for i, _ in lexical], self.settings.bm25_weight)], self.settings.rrf_k)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0])), scores_by_id, ranks

    def _collapse(self, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Keep chunks of the best-ranked article of each near-duplicate group only."""
        groups = self._groups()
        if not groups:
            return ranked
        with self._db_lock:
            article_of = tables.chunk_articles(self._db, [chunk_id for chunk_id, _ in ranked])
        shown: dict[tuple[int, ...], int] = {}
        kept = []
        for chunk_id, score in ranked:
            row = article_of[chunk_id]
            group = groups.get(row)
            if group is not None and shown.setdefault(group, row) != row:
                continue
            kept.append((chunk_id, score))
        return kept


class ChunkView:
    """Read access to a searcher's chunks by integer id, without holding them in memory."""

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher

    def __getitem__(self, chunk_id: int) -> Chunk:
        return self._searcher._read_chunks([int(chunk_id)])[0]

    def many(self, ids) -> list[Chunk]:
        return self._searcher._read_chunks(ids)

    def __len__(self) -> int:
        return self._searcher.chunk_count

    def __iter__(self) -> Iterator[Chunk]:
        return self._searcher.iter_chunks()


class _Manifest(dict):
    """The manifest, plus "duplicate_groups" (article ids) read from the tables on first access."""

    def __init__(self, manifest: dict[str, Any], searcher: Searcher) -> None:
        super().__init__(manifest)
        self._searcher = searcher

    def _groups(self) -> list[list[str]]:
        if not super().__contains__("duplicate_groups"):
            super().__setitem__("duplicate_groups", [list(group) for group in self._searcher.duplicate_groups()])
        return super().__getitem__("duplicate_groups")

    def __getitem__(self, key: str) -> Any:
        return self._groups() if key == "duplicate_groups" else super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self._groups() if key == "duplicate_groups" else super().get(key, default)
