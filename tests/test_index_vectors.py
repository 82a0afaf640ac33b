"""The FAISS vector store: exact and HNSW search, filtered search on every path, save and load."""

from __future__ import annotations

import numpy as np
import pytest

from index import vectors as vectors_module
from index.vectors import FLAT, HNSW, FaissStore, choose_kind


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    matrix = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return unit_rows(3000, 32)


def exact_top(data: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    ids = np.arange(len(data)) if allowed is None else allowed
    scores = data[ids] @ query
    return [int(ids[i]) for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.mark.parametrize("kind", [FLAT, HNSW])
def test_search_returns_nearest_by_inner_product(data, kind):
    store = FaissStore.create(32, kind)
    store.add(data)
    assert store.count == 3000
    query = data[17] + 0.05 * unit_rows(1, 32, seed=9)[0]
    scores, ids = store.search(query, 10)
    expected = exact_top(data, query.astype(np.float32), 10)
    overlap = len(set(ids.tolist()) & set(expected)) / 10
    assert overlap == 1.0 if kind == FLAT else overlap >= 0.8
    assert ids[0] == 17 and list(scores) == sorted(scores, reverse=True)
    assert np.allclose(scores, data[ids] @ query, atol=1e-5)


@pytest.mark.parametrize("kind", [FLAT, HNSW])
@pytest.mark.parametrize("selective", [True, False])
def test_filtered_search_only_returns_allowed_ids(data, kind, selective, monkeypatch):
    if not selective:  # force the FAISS selector path instead of the exact subset path
        monkeypatch.setattr(vectors_module, "EXACT_SUBSET", 10)
    store = FaissStore.create(32, kind)
    store.add(data)
    allowed = np.arange(1, 3000, 7, dtype=np.int64)
    query = data[1]
    scores, ids = store.search(query, 5, allowed)
    assert len(ids) == 5 and set(ids.tolist()) <= set(allowed.tolist())
    assert ids[0] == 1
    expected = exact_top(data, query, 5, allowed)
    assert len(set(ids.tolist()) & set(expected)) >= (5 if kind == FLAT else 4)
    assert len(store.search(query, 5, np.array([4, 8], dtype=np.int64))[1]) == 2


@pytest.mark.parametrize("kind", [FLAT, HNSW])
def test_save_load_and_reconstruct(tmp_path, data, kind):
    store = FaissStore.create(32, kind)
    store.add(data[:500])
    store.save(tmp_path / "v.faiss")
    loaded = FaissStore.load(tmp_path / "v.faiss")
    assert (loaded.kind, loaded.count, loaded.dim) == (kind, 500, 32)
    assert np.allclose(loaded.vectors(np.array([3, 499])), data[[3, 499]])
    assert np.allclose(loaded.all_vectors(), data[:500])
    assert b"pickle" not in (tmp_path / "v.faiss").read_bytes()[:64]


def test_small_counts_and_kind_choice():
    store = FaissStore.create(8, FLAT)
    scores, ids = store.search(np.ones(8, dtype=np.float32), 5)
    assert len(ids) == 0
    store.add(unit_rows(3, 8))
    assert len(store.search(np.ones(8, dtype=np.float32), 5)[1]) == 3
    assert choose_kind(20_000, 20_000) == FLAT and choose_kind(20_001, 20_000) == HNSW
    with pytest.raises(ValueError):
        FaissStore.create(8, "ivf")


def test_hnsw_returns_k_results_even_when_k_exceeds_its_search_breadth(data):
    # The breadth is raised per call (never by changing the shared index, which would race between threads).
    store = FaissStore.create(32, HNSW, ef_search=16)
    store.add(data)
    scores, ids = store.search(data[5], 300)
    assert len(ids) == 300 and len(set(ids.tolist())) == 300
    assert store._hnsw().efSearch == 16
