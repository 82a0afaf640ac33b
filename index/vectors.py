"""The vector store: FAISS inner product on normalised vectors, exact when small, HNSW when large."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, cast

import faiss
import numpy as np

FLAT = "flat"
HNSW = "hnsw"
EXACT_SUBSET = 4096  # a filter this selective is searched exactly, even in an HNSW index


class VectorStore(Protocol):
    """What search and build need from a vector index."""

    kind: str
    dim: int

    @property
    def count(self) -> int: ...

    def add(self, vectors: np.ndarray) -> None: ...

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the `k` nearest vectors, best first; only ids in `allowed` when given."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


class FaissStore:
    """A FAISS IndexFlatIP or IndexHNSWFlat (inner product); saved with faiss.write_index, never pickled."""

    def __init__(self, index: faiss.Index, kind: str, *, ef_search: int = 128) -> None:
        self.index = index
        self.kind = kind
        self.dim = index.d
        self.ef_search = ef_search
        if kind == HNSW:
            self._hnsw().efSearch = ef_search

    @classmethod
    def create(
        cls, dim: int, kind: str = FLAT, *, hnsw_m: int = 32, ef_construction: int = 200, ef_search: int = 128
    ) -> FaissStore:
        index: faiss.Index
        if kind == HNSW:
            graph = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = ef_construction
            index = graph
        elif kind == FLAT:
            index = faiss.IndexFlatIP(dim)
        else:
            raise ValueError(f"unknown vector index kind {kind!r}")
        return cls(index, kind, ef_search=ef_search)

    @classmethod
    def load(cls, path: Path, *, ef_search: int = 128) -> FaissStore:
        """Read a saved index; faiss raises RuntimeError on a damaged file."""
        index = faiss.read_index(str(path))  # returned already downcast to its concrete class
        if isinstance(index, faiss.IndexHNSW):
            return cls(index, HNSW, ef_search=ef_search)
        if isinstance(index, faiss.IndexFlat):
            return cls(index, FLAT, ef_search=ef_search)
        raise ValueError(f"unexpected vector index type {type(index).__name__}")

    def _hnsw(self) -> faiss.HNSW:
        """The graph of an HNSW store (kind == HNSW means the index is a faiss.IndexHNSW)."""
        return cast(faiss.IndexHNSW, self.index).hnsw

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            k = min(k, len(allowed))
        k = min(k, self.count)
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if allowed is not None and len(allowed) <= EXACT_SUBSET:
            return self._exact_subset(query[0], k, allowed)
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed)
            if self.kind == HNSW:
                # faiss's stub lacks SearchParametersHNSW and the keyword constructors its SWIG wrapper adds.
                params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                    sel=selector, efSearch=max(self.ef_search, k)
                )
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]  # stub: no kwargs
            scores, ids = self.index.search(query, k, params=params)
        elif self.kind == HNSW:
            # Per-call parameters: setting the shared index's efSearch would race between threads.
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))  # type: ignore[attr-defined]
            scores, ids = self.index.search(query, k, params=params)
        else:
            scores, ids = self.index.search(query, k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def _exact_subset(self, query: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors(allowed) @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order].astype(np.float32), allowed[order]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, in that order."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(ids)

    def all_vectors(self) -> np.ndarray:
        return self.index.reconstruct_n(0, self.count) if self.count else np.zeros((0, self.dim), np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))


def choose_kind(count: int, approximate_above: int) -> str:
    """Exact search up to `approximate_above` vectors, HNSW beyond."""
    return HNSW if count > approximate_above else FLAT
