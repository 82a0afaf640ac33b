"""Vectors: float16 segments addressed by slot, exact search over them, and a compressed IVF index when large.

A vector's slot is its chunk's id. Segments are raw float16 rows (no header, nothing pickled), written once
and hashed while written; a build appends a new segment for the chunks it adds. Exact search copies the
segments' bytes as they are into a FAISS float16 scalar-quantizer index (its code is IEEE float16), built on
first use. Above `approximate_above` live vectors the build also writes an IVF index with 8-bit scalar
quantization (`ivf-sq8`, about a quarter of float32) over the slots alive then, read memory-mapped; slots
added later (the tail) are searched exactly beside it until the tail is large enough to re-train. The IVF
candidates are re-ranked by their exact float16 cosine ("refinement"); recall@10 is in docs/BENCHMARKS.md.
Hidden slots (chunks a reader's generation does not show) are excluded inside FAISS with an IDSelector.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np

from index.manifest import Segment

FLAT = "flat"
IVF = "ivf-sq8"
EXACT_SUBSET = 4096  # a filter this selective is searched exactly, even beside an IVF index
REFINE = 4  # IVF candidates fetched per wanted result, re-ranked exactly


class SegmentWriter:
    """Appends float16 rows for consecutive slots to one new file, hashing as it writes."""

    def __init__(self, path: Path, dim: int, first: int) -> None:
        self.path = path
        self.dim = dim
        self.first = first
        self.count = 0
        self._digest = hashlib.sha256()
        self._handle = open(path, "wb")  # noqa: SIM115 - closed by close()

    def add(self, vectors: np.ndarray) -> int:
        """Write rows; returns the slot of the first one."""
        if not self.dim:  # a build that did not know the model's width learns it from the first vectors
            self.dim = int(np.shape(vectors)[1])
        rows = np.ascontiguousarray(vectors, dtype=np.float16).reshape(-1, self.dim)
        data = rows.tobytes()
        self._handle.write(data)
        self._digest.update(data)
        slot = self.first + self.count
        self.count += len(rows)
        return slot

    def close(self) -> Segment:
        import os

        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return Segment(self.path.name, self.first, self.count, self._digest.hexdigest())

    def abort(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


def segment_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class VectorStore:
    """The vectors one generation shows: segments (memory-mapped), an optional IVF index, hidden slots."""

    def __init__(
        self,
        data_dir: Path,
        segments: list[Segment],
        dim: int,
        hidden: np.ndarray,
        ann: dict[str, Any] | None = None,
        nprobe: int = 32,
    ) -> None:
        self.data_dir = data_dir
        self.segments = sorted(segments, key=lambda s: s.first)
        self.dim = dim
        self.hidden = np.asarray(hidden, dtype=np.int64)
        self.ann = ann or {"kind": FLAT, "covers": 0}
        self.kind = self.ann["kind"]
        self.nprobe = nprobe
        self._firsts = [s.first for s in self.segments]
        self._maps: dict[str, np.ndarray] = {}
        self._ids: dict[str, np.ndarray] = {}  # slots of sparse (merged) segments, loaded on first use
        self._exact: tuple[faiss.Index, np.ndarray] | None = None  # index over tail slots, their slot ids
        self._ivf: faiss.Index | None = None
        self._lock = threading.Lock()

    @property
    def slots(self) -> int:
        """One past the highest slot this generation holds."""
        return max((s.stop for s in self.segments), default=0)

    def _map(self, segment: Segment) -> np.ndarray:
        rows = self._maps.get(segment.file)
        if rows is None:
            path = self.data_dir / segment.file
            if segment.count:
                rows = np.memmap(path, dtype=np.float16, mode="r", shape=(segment.count, self.dim))
            else:
                rows = np.zeros((0, self.dim), dtype=np.float16)
            self._maps[segment.file] = rows
        return rows

    def slot_ids(self, segment: Segment) -> np.ndarray:
        """The slots a segment holds, ascending (a range unless it is a merged, sparse one)."""
        if not segment.ids:
            return np.arange(segment.first, segment.first + segment.count, dtype=np.int64)
        found = self._ids.get(segment.ids)
        if found is None:
            found = np.fromfile(self.data_dir / segment.ids, dtype=np.int64, count=segment.count)
            self._ids[segment.ids] = found
        return found

    def _position(self, slot: int) -> tuple[Segment, int] | None:
        """The segment holding `slot` and its row there; None when no segment holds it (a dropped slot)."""
        at = bisect.bisect_right(self._firsts, slot) - 1
        if at < 0:
            return None
        segment = self.segments[at]
        if not segment.ids:
            return (segment, slot - segment.first) if slot < segment.first + segment.count else None
        ids = self.slot_ids(segment)
        row = int(np.searchsorted(ids, slot))
        return (segment, row) if row < len(ids) and ids[row] == slot else None

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids` (slots), as float32, in that order (zeros for a slot no segment holds)."""
        return self._gather(ids)[0]

    def _gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, held): the rows of `ids` and which of them a segment holds."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        held = np.zeros(len(ids), dtype=bool)
        for row, slot in enumerate(ids):
            found = self._position(int(slot))
            if found is not None:
                out[row] = self._map(found[0])[found[1]]
                held[row] = True
        return out, held

    def iter_rows(self, start: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(slots, float16 rows) of every segment from slot `start` on, a segment at a time."""
        for segment in self.segments:
            if segment.stop <= start or not segment.count:
                continue
            slots = self.slot_ids(segment)
            skip = int(np.searchsorted(slots, start))
            if skip < len(slots):
                yield slots[skip:], self._map(segment)[skip:]

    def iter_blocks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(slots, float16 rows) of every segment in blocks of `size` rows, read from the files, not mapped.

        For one pass over every vector (training and filling the IVF index): pages of a mapping would stay in
        this process's resident memory until the end of the pass, the whole vector file at a million chunks.
        """
        for segment in self.segments:
            if not segment.count:
                continue
            slots = self.slot_ids(segment)
            with open(self.data_dir / segment.file, "rb") as handle:
                for start in range(0, segment.count, size):
                    count = min(size, segment.count - start)
                    rows = np.fromfile(handle, dtype=np.float16, count=count * self.dim).reshape(count, self.dim)
                    yield slots[start : start + count], rows

    # ------------------------------------------------------------ searching

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and slots of the `k` nearest shown vectors, best first; only slots in `allowed` when given."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) <= EXACT_SUBSET:
                return self._exact_subset(query[0], min(k, len(allowed)), allowed)
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        found = [self._search_exact(query, k, allowed)]
        if self.kind == IVF and self.ann.get("covers", 0):
            found.append(self._search_ivf(query, k, allowed))
        scores = np.concatenate([f[0] for f in found])
        ids = np.concatenate([f[1] for f in found])
        order = np.lexsort((ids, -scores))[:k]
        return scores[order], ids[order]

    def _selector(self, allowed: np.ndarray | None) -> faiss.IDSelector | None:
        if allowed is not None:
            return faiss.IDSelectorBatch(np.setdiff1d(allowed, self.hidden))
        if len(self.hidden):
            return faiss.IDSelectorNot(faiss.IDSelectorBatch(self.hidden))
        return None

    def _search_exact(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        index, _ = self._exact_index()
        if index.ntotal == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        selector = self._selector(allowed)
        params = faiss.SearchParameters(sel=selector) if selector is not None else None  # type: ignore[call-arg]
        scores, ids = index.search(query, min(k, index.ntotal), params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def _search_ivf(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        index = self._ivf_index()
        selector = self._selector(allowed)
        params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)  # type: ignore[call-arg]
        _, ids = index.search(query, k * REFINE, params=params)
        ids = ids[0][ids[0] >= 0].astype(np.int64)
        rows, held = self._gather(ids)  # refinement: exact (float16) cosine of each candidate still held
        return (rows[held] @ query[0]).astype(np.float32), ids[held]

    def _exact_subset(self, query: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        allowed = np.setdiff1d(allowed, self.hidden)
        allowed = allowed[allowed < self.slots]
        rows, held = self._gather(allowed)
        allowed, scores = allowed[held], rows[held] @ query
        order = np.lexsort((allowed, -scores))[:k]
        return scores[order].astype(np.float32), allowed[order]

    def _exact_index(self) -> tuple[faiss.Index, np.ndarray]:
        """A float16 flat index over the slots the IVF index does not cover, built on first use by copying
        the segments' bytes (float16 is the quantizer's code: nothing is converted)."""
        with self._lock:
            if self._exact is None:
                start = int(self.ann.get("covers", 0)) if self.kind == IVF else 0
                flat = faiss.IndexScalarQuantizer(self.dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
                index = faiss.IndexIDMap(flat)  # wraps the empty index, then both are filled in place
                parts = list(self.iter_rows(start))
                slots = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
                if len(slots):
                    codes = np.concatenate([np.ascontiguousarray(p[1]).view(np.uint8).ravel() for p in parts])
                    faiss.copy_array_to_vector(codes, flat.codes)
                    faiss.copy_array_to_vector(slots.astype(np.int64), index.id_map)
                    flat.ntotal = index.ntotal = len(slots)
                self._exact = (index, slots)
                self._flat = flat  # the IDMap does not own it: keep it alive
            return self._exact

    def _ivf_index(self) -> faiss.Index:
        with self._lock:
            if self._ivf is None:
                index = faiss.read_index(str(self.data_dir / self.ann["file"]), faiss.IO_FLAG_MMAP)
                self._ivf = index
            return self._ivf


def train_ivf(store: VectorStore, path: Path, *, nlist: int | None = None, sample: int = 60_000) -> dict[str, Any]:
    """Write an IVF-SQ8 index over every shown slot of `store` to `path`; returns its manifest entry.

    Streams the segments block by block: memory holds the training sample and the index being built.
    """
    total = sum(int(np.count_nonzero(_shown(slots, store.hidden))) for slots, _ in store.iter_rows())
    nlist = nlist or max(1, min(int(np.sqrt(total)), total // 39 or 1))
    rng = np.random.default_rng(0)
    picks = np.sort(rng.choice(total, size=min(sample, total), replace=False))
    index = faiss.index_factory(store.dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    index.train(np.concatenate(list(_shown_blocks(store, picks))))
    for slots, block in _shown_blocks(store, None):
        index.add_with_ids(block, slots)
    faiss.write_index(index, str(path))
    return {"kind": IVF, "file": path.name, "covers": store.slots, "nlist": nlist, "bytes": path.stat().st_size}


def _shown_blocks(store: VectorStore, picks: np.ndarray | None, size: int = 65536):
    """(slots, float32 rows) of shown vectors in blocks; with `picks`, only those positions (training)."""
    offset = 0
    for block_slots, rows in store.iter_blocks(size):
        mask = _shown(block_slots, store.hidden)
        positions = np.flatnonzero(mask)
        if picks is not None:
            chosen = picks[(picks >= offset) & (picks < offset + len(positions))] - offset
            offset += len(positions)
            yield np.asarray(rows[positions[chosen]], dtype=np.float32)
        else:
            yield block_slots[mask], np.asarray(rows[mask], dtype=np.float32)


def _shown(slots: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    return ~np.isin(slots, hidden)


def count_ids(index: faiss.Index) -> int:
    return int(cast(Any, index).ntotal)
