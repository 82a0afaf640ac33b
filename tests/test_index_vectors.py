"""The vector store: float16 segments by slot, exact and IVF search, hidden slots, filters, the IVF file."""

from __future__ import annotations

import numpy as np
import pytest

from index import vectors as vectors_module
from index.vectors import FLAT, IVF, SegmentWriter, VectorStore, segment_sha256, train_ivf


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    matrix = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return unit_rows(3000, 32)


def exact_top(data: np.ndarray, query: np.ndarray, k: int, allowed=None, hidden=()) -> list[int]:
    ids = np.arange(len(data)) if allowed is None else np.asarray(allowed)
    ids = ids[~np.isin(ids, hidden)]
    scores = data[ids].astype(np.float16).astype(np.float32) @ query
    return [int(ids[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def make_store(tmp_path, data, *, split: int = 2000, hidden=(), kind=FLAT) -> VectorStore:
    """Two segments (as after a full build and one update), optionally an IVF index over them."""
    segments = []
    for number, (start, stop) in enumerate([(0, split), (split, len(data))]):
        writer = SegmentWriter(tmp_path / f"seg{number}.f16", data.shape[1], start)
        writer.add(data[start:stop])
        segments.append(writer.close())
    store = VectorStore(tmp_path, segments, data.shape[1], np.asarray(hidden, dtype=np.int64))
    if kind == IVF:
        entry = train_ivf(store, tmp_path / "ann.faiss", nlist=16)
        store = VectorStore(tmp_path, segments, data.shape[1], np.asarray(hidden, dtype=np.int64), entry, nprobe=16)
    return store


@pytest.mark.parametrize("kind", [FLAT, IVF])
def test_search_returns_nearest_by_inner_product(tmp_path, data, kind):
    store = make_store(tmp_path, data, kind=kind)
    assert store.slots == 3000 and store.kind == kind
    query = data[17] + 0.05 * unit_rows(1, 32, seed=9)[0]
    scores, ids = store.search(query, 10)
    expected = exact_top(data, query.astype(np.float32), 10)
    overlap = len(set(ids.tolist()) & set(expected)) / 10
    assert overlap == 1.0 if kind == FLAT else overlap >= 0.8
    assert ids[0] == 17 and list(scores) == sorted(scores, reverse=True)
    assert np.allclose(scores, data[ids] @ query, atol=1e-3)  # float16 storage


@pytest.mark.parametrize("kind", [FLAT, IVF])
def test_hidden_slots_are_never_returned(tmp_path, data, kind):
    hidden = [17, 18, 2500]
    store = make_store(tmp_path, data, hidden=hidden, kind=kind)
    for target in hidden:
        scores, ids = store.search(data[target], 50)
        assert not set(ids.tolist()) & set(hidden) and len(ids) == 50


@pytest.mark.parametrize("kind", [FLAT, IVF])
@pytest.mark.parametrize("selective", [True, False])
def test_filtered_search_only_returns_allowed_ids(tmp_path, data, kind, selective, monkeypatch):
    if not selective:  # force the FAISS selector path instead of the exact subset path
        monkeypatch.setattr(vectors_module, "EXACT_SUBSET", 10)
    store = make_store(tmp_path, data, hidden=[8], kind=kind)
    allowed = np.arange(1, 3000, 7, dtype=np.int64)
    query = data[1]
    scores, ids = store.search(query, 5, allowed)
    assert len(ids) == 5 and set(ids.tolist()) <= set(allowed.tolist())
    assert ids[0] == 1
    expected = exact_top(data, query, 5, allowed)
    assert len(set(ids.tolist()) & set(expected)) >= (5 if kind == FLAT else 4)
    assert store.search(query, 5, np.array([4, 8], dtype=np.int64))[1].tolist() == [4]  # 8 is hidden


def test_segments_round_trip_and_hash(tmp_path, data):
    store = make_store(tmp_path, data)
    assert np.allclose(store.vectors(np.array([3, 1999, 2000, 2999])), data[[3, 1999, 2000, 2999]], atol=1e-3)
    for segment in store.segments:
        assert segment_sha256(tmp_path / segment.file) == segment.sha256
        assert (tmp_path / segment.file).stat().st_size == segment.count * 32 * 2
    rows = list(store.iter_rows(2500))
    assert [slots[0] for slots, _ in rows] == [2500] and len(rows[0][1]) == 500


def test_an_ivf_index_and_a_tail_added_after_it_are_searched_together(tmp_path, data):
    first = SegmentWriter(tmp_path / "a.f16", 32, 0)
    first.add(data[:2500])
    segments = [first.close()]
    entry = train_ivf(VectorStore(tmp_path, segments, 32, np.zeros(0, np.int64)), tmp_path / "ann.faiss", nlist=8)
    assert entry["covers"] == 2500 and entry["kind"] == IVF
    tail = SegmentWriter(tmp_path / "b.f16", 32, 2500)
    tail.add(data[2500:])
    segments.append(tail.close())
    store = VectorStore(tmp_path, segments, 32, np.zeros(0, np.int64), entry, nprobe=8)
    for target in (5, 2999):
        assert store.search(data[target], 3)[1][0] == target


def test_small_counts(tmp_path):
    empty = VectorStore(tmp_path, [], 8, np.zeros(0, np.int64))
    assert len(empty.search(np.ones(8, dtype=np.float32), 5)[1]) == 0
    writer = SegmentWriter(tmp_path / "s.f16", 8, 0)
    writer.add(unit_rows(3, 8))
    store = VectorStore(tmp_path, [writer.close()], 8, np.zeros(0, np.int64))
    assert len(store.search(np.ones(8, dtype=np.float32), 5)[1]) == 3


def test_blocks_read_from_the_files_are_the_stored_rows_in_slot_order(tmp_path, data):
    store = make_store(tmp_path, data)  # segments of 2000 and 1000 rows
    blocks = list(store.iter_blocks(768))
    assert [len(slots) for slots, _ in blocks] == [768, 768, 464, 768, 232]
    slots = np.concatenate([slots for slots, _ in blocks])
    rows = np.concatenate([rows for _, rows in blocks])
    assert np.array_equal(slots, np.arange(len(data)))
    assert np.array_equal(rows, data.astype(np.float16))
