#!/usr/bin/env python3
"""Recall@10 of the HNSW index against exact inner-product search, on synthetic normalised vectors.

Queries are perturbed copies of stored vectors, so each has a true neighbourhood to find; see
`make_data` for the two kinds of data.

    .venv/bin/python scripts/bench_ann.py                   # 50,000 x 384 clustered, M=32, efSearch 32..256
    .venv/bin/python scripts/bench_ann.py --data random     # isotropic: the worst case
    .venv/bin/python scripts/bench_ann.py --n 200000 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.vectors import FLAT, HNSW, FaissStore  # noqa: E402


def unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def make_data(
    kind: str, n: int, dim: int, queries: int, clusters: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stored vectors and queries, all of unit length.

    "clustered" (default): topics in a 48-dimensional latent space projected into `dim` dimensions
    with a little isotropic noise, as sentence embeddings are; a query is a new point near a stored one
    (its latent perturbed), with cosine about 0.6-0.8 to it. "random": isotropic directions, the worst
    case for any graph index; a query is a stored vector plus noise of equal length (cosine about 0.7).
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=queries)
    if kind == "random":
        data = unit(rng.normal(size=(n, dim)))
        noise = unit(rng.normal(size=(queries, dim)))
        return data, unit(data[picks] + noise)
    latent = 48
    centres = rng.normal(size=(clusters, latent))
    points = centres[rng.integers(0, clusters, size=n)] + 0.8 * rng.normal(size=(n, latent))
    projection = rng.normal(size=(latent, dim)) / np.sqrt(latent)
    data = unit(points @ projection + 0.15 * rng.normal(size=(n, dim)))
    near = points[picks] + 0.5 * rng.normal(size=(queries, latent))
    return data, unit(near @ projection + 0.15 * rng.normal(size=(queries, dim)))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=50_000, help="stored vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=500)
    parser.add_argument("--data", choices=["clustered", "random"], default="clustered")
    parser.add_argument("--m", type=int, default=32, help="HNSW graph degree (settings.hnsw_m)")
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    data, queries = make_data(args.data, args.n, args.dim, args.queries, args.clusters, args.seed)

    exact = FaissStore.create(args.dim, FLAT)
    exact.add(data)
    started = time.perf_counter()
    truth = [set(exact.search(q, args.k)[1].tolist()) for q in queries]
    exact_ms = (time.perf_counter() - started) / len(queries) * 1000

    started = time.perf_counter()
    approximate = FaissStore.create(args.dim, HNSW, hnsw_m=args.m, ef_construction=args.ef_construction)
    approximate.add(data)
    build_seconds = time.perf_counter() - started

    rows = []
    for ef in args.ef_search:
        approximate.ef_search = ef
        started = time.perf_counter()
        found = [approximate.search(q, args.k)[1].tolist() for q in queries]
        query_ms = (time.perf_counter() - started) / len(queries) * 1000
        recall = float(np.mean([len(truth[i] & set(ids)) / args.k for i, ids in enumerate(found)]))
        rows.append(
            {"ef_search": ef, f"recall@{args.k}": round(recall, 4), "ms_per_query": round(query_ms, 3)}
        )

    report = {
        "data": args.data,
        "n": args.n,
        "dim": args.dim,
        "queries": args.queries,
        "m": args.m,
        "ef_construction": args.ef_construction,
        "hnsw_build_seconds": round(build_seconds, 1),
        "exact_ms_per_query": round(exact_ms, 3),
        "results": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{args.data}: {args.n} x {args.dim} vectors, {args.queries} queries; HNSW M={args.m}, "
            f"efConstruction={args.ef_construction}, built in {build_seconds:.1f}s; "
            f"exact search {exact_ms:.2f} ms/query"
        )
        for row in rows:
            print(
                f"  efSearch={row['ef_search']:>4}  recall@{args.k}={row[f'recall@{args.k}']:.4f}  "
                f"{row['ms_per_query']:.3f} ms/query"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
