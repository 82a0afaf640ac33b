"""`bench.py recall`: recall@10 of the compressed vector index (IVF-SQ8, re-ranked by the float16 vectors) against
exact search, on a built index.

    .venv/bin/python scripts/bench.py recall --index /tmp/bench/index-hashing --queries 500 --json

Reads the vectors of a built index (its float16 segments), trains an IVF-SQ8 index over them exactly as a
build above `approximate_above` does, and compares, for vectors of randomly chosen chunks used as queries
(the chunk itself left out), the top 10 of the IVF search with the top 10 of exact search, at several
`ivf_nprobe` values. Prints recall@10 and the mean query time of each.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(commands) -> None:
    parser = commands.add_parser("recall", help="recall@10 of a built index's IVF-SQ8 against exact search",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="an index folder (INDEX/current/manifest.json)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--nprobe", default="4,8,16,32")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    import faiss
    import numpy as np

    from index import manifest as manifests
    from index.vectors import IVF, VectorStore, train_ivf

    faiss.omp_set_num_threads(1)
    manifest = json.loads((args.index / "current" / "manifest.json").read_text())
    segments = manifests.segments_of(manifest)
    dim = int(manifest["model"]["dim"])
    data = args.index / "data"
    exact = VectorStore(data, segments, dim, np.zeros(0, np.int64))
    ann = data / f"recall-bench-{time.time_ns()}.faiss"  # beside the segments, removed at the end
    try:
        started = time.perf_counter()
        entry = train_ivf(exact, ann)
        result = {"vectors": exact.slots, "nlist": entry["nlist"], "train_s": time.perf_counter() - started,
                  "ivf_bytes": entry["bytes"], "float16_bytes": exact.slots * dim * 2}
        rng = np.random.default_rng(0)
        picks = rng.choice(exact.slots, size=min(args.queries, exact.slots), replace=False)
        queries = exact.vectors(picks)
        truth = [set(exact.search(q, 11)[1].tolist()) - {int(p)} for q, p in zip(queries, picks, strict=True)]
        for nprobe in [int(n) for n in args.nprobe.split(",")]:
            store = VectorStore(data, segments, dim, np.zeros(0, np.int64), entry, nprobe=nprobe)
            store._exact = (faiss.IndexIDMap(faiss.IndexFlatIP(dim)), np.zeros(0, np.int64))  # IVF part only
            found, seconds = [], 0.0
            for query, pick in zip(queries, picks, strict=True):
                started = time.perf_counter()
                ids = store.search(query, 11)[1].tolist()
                seconds += time.perf_counter() - started
                found.append(set(ids[:11]) - {int(pick)})
            recall = np.mean([len(f & t) / max(len(t), 1) for f, t in zip(found, truth, strict=True)])
            result[f"recall_at_10_nprobe_{nprobe}"] = round(float(recall), 4)
            result[f"ms_per_query_nprobe_{nprobe}"] = round(1000 * seconds / len(queries), 3)
        result["kind"] = IVF
    finally:
        ann.unlink(missing_ok=True)
    print(json.dumps(result, indent=2) if args.json else result)
    return 0
