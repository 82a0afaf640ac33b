"""Vector indexes built in shards and merged: how a vector index outgrows one machine's indexing step.

Exact (flat) index: a shard is a run of consecutive vector slots; the merge is their concatenation in slot
order, so the merged index is the one a single process makes, bit for bit.

Approximate (IVF): one coarse quantiser (and PQ/SQ codebooks) is trained once, at the driver, on a sample;
its empty, trained index is serialised and sent to every worker, which fills a shard with its vectors under
their global ids; the driver merges the shards with `IndexIVF.merge_from`. Every vector lands in the list of
the same centroid as in a one-process build, so a search returns the same neighbours (ties aside); what IVF
costs is recall against exact search, measured by `recall_at_k` (docs/SCALING.md gives the figures).

Nothing here is pickled: shards travel as faiss.serialize_index bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import faiss
import numpy as np

TRAIN_POINTS_PER_LIST = 39  # faiss warns below this many training points per centroid


def concatenate_flat(shards: Sequence[np.ndarray], dim: int) -> faiss.IndexFlatIP:
    """The exact index of shards given in slot order: the same as adding all vectors at once."""
    index = faiss.IndexFlatIP(dim)
    for shard in shards:
        if len(shard):
            index.add(np.ascontiguousarray(shard, dtype=np.float32))
    return index


def default_nlist(count: int) -> int:
    """About 4 * sqrt(n) lists, fewer when the sample could not train them."""
    return max(1, min(int(4 * np.sqrt(max(count, 1))), max(count // TRAIN_POINTS_PER_LIST, 1)))


def train_ivf(sample: np.ndarray, nlist: int, *, codec: str = "flat", pq_m: int = 48) -> faiss.IndexIVF:
    """An empty inner-product IVF index trained on `sample` (unit rows). codec: flat, sq8 or pq (m bytes)."""
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    dim = sample.shape[1]
    quantiser = faiss.IndexFlatIP(dim)
    index: faiss.IndexIVF
    if codec == "flat":
        index = faiss.IndexIVFFlat(quantiser, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    elif codec == "sq8":
        index = faiss.IndexIVFScalarQuantizer(
            quantiser, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
    elif codec == "pq":
        index = faiss.IndexIVFPQ(quantiser, dim, nlist, pq_m, 8, faiss.METRIC_INNER_PRODUCT)
    else:
        raise ValueError(f"unknown IVF codec {codec!r}")
    index.train(sample)  # faiss's Python wrapper keeps `quantiser` alive as long as `index`
    return index


def serialise(index: faiss.Index) -> np.ndarray:
    return faiss.serialize_index(index)


def deserialise(blob: np.ndarray) -> Any:
    return faiss.deserialize_index(np.asarray(blob, dtype=np.uint8))


def fill_shard(trained: np.ndarray, vectors: np.ndarray, first_id: int) -> np.ndarray:
    """A worker's part: the trained empty index (serialised) filled with `vectors` under ids from `first_id`."""
    shard = deserialise(trained)
    ids = np.arange(first_id, first_id + len(vectors), dtype=np.int64)
    shard.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    return serialise(shard)


def merge_shards(trained: np.ndarray, shards: Iterable[np.ndarray]) -> Any:
    """The driver's part: one IVF index holding every shard's lists (ids kept as the shards gave them)."""
    merged = deserialise(trained)
    for blob in shards:
        merged.merge_from(deserialise(blob), 0)
    return merged


def sharded_ivf_on_ray(
    ray: Any, vectors: np.ndarray, shards: int, nlist: int, *, codec: str = "flat", sample: int = 100_000
) -> Any:
    """Train at the driver on a sample, fill `shards` shards in Ray tasks, merge at the driver."""
    rng = np.random.default_rng(0)
    picked = rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False)
    trained = serialise(train_ivf(vectors[np.sort(picked)], nlist, codec=codec))
    trained_ref = ray.put(trained)
    fill = ray.remote(fill_shard)
    bounds = np.linspace(0, len(vectors), shards + 1, dtype=np.int64)
    spans = zip(bounds[:-1], bounds[1:], strict=True)
    refs = [fill.remote(trained_ref, vectors[start:end], int(start)) for start, end in spans]
    return merge_shards(trained, ray.get(refs))


def recall_at_k(approximate: Any, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k (flat inner product over `vectors`) that the approximate index returns."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(np.ascontiguousarray(vectors, dtype=np.float32))
    k = min(k, len(vectors))
    _, truth = exact.search(queries, k)
    _, found = approximate.search(queries, k)
    hits = sum(len(set(t.tolist()) & set(f.tolist())) for t, f in zip(truth, found, strict=True))
    return hits / (len(queries) * k)
