"""`bench.py ray`: the figures of docs/SCALING.md: the Ray engine's scaling curve, merged-IVF recall, index memory
per vector.

    .venv/bin/python scripts/bench.py ray scaling --articles 200 --embedder torch --json
    .venv/bin/python scripts/bench.py ray scaling --articles 2000 --embedder hashing --json
    .venv/bin/python scripts/bench.py ray driver --articles 2000 --embedder hashing --json
    .venv/bin/python scripts/bench.py ray percore --articles 30 --json
    .venv/bin/python scripts/bench.py ray recall --json
    .venv/bin/python scripts/bench.py ray memory --json

--embedder is the embedding backend (default: the settings' embedding_backend, i.e. the default configuration).
scaling: one synthetic archive (`bench.py archive`), processed by the local engine and by the Ray
engine with 1 and 2 embedding actors on a local 2-CPU Ray cluster started once (its start-up is reported
apart); engine time is the `process` step alone, build time is a whole `build_index` (plan, process,
publish). driver: a build whose engine hands back results computed before, so only the driver works (the
part a cluster does not spread). recall: recall@10 of an IVF index filled in shards on Ray and merged,
against exact search, on the sample archive's and the synthetic archive's real-model vectors and on a
clustered synthetic set.
memory: serialised bytes per vector of each FAISS index type, measured on 20,000 vectors of 384 dimensions.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.synthetic import paragraph_pool, write_archive

if TYPE_CHECKING:
    from core.settings import Settings

DIM = 384
EMBEDDERS = ("torch", "onnx", "onnx-int8", "static", "hashing")


def synthetic_archive(folder: Path, articles: int) -> Path:
    write_archive(folder, articles, paragraph_pool(), seed=11)
    return folder


def _settings(**fields: Any) -> Settings:
    from core.settings import Settings

    return Settings(**fields)


def _job(settings: Settings, archive: Path):
    from archive.walk import walk_archive
    from index.embed import HashingEmbedder, model_description
    from index.engine import HASHING_COUNTER, ChunkingSpec, EngineJob, FileTask

    counter = HASHING_COUNTER if settings.embedding_backend == "hashing" else settings.embedding_model
    tasks = tuple(
        FileTask(f.source, str(Path(f.path).resolve()), f.size, f.mtime_ns, "") for f in walk_archive(archive).files
    )
    window = HashingEmbedder().max_tokens if settings.embedding_backend == "hashing" else 256
    spec = ChunkingSpec(min(settings.chunk_max_tokens, window), settings.chunk_target_tokens,
                        settings.chunk_overlap_sentences, settings.max_file_bytes, counter)
    return EngineJob(tasks, spec, frozenset(), model_description(settings)[0])


def _timed_process(engine, job, settings, repeats: int = 1) -> dict[str, Any]:
    """Best of `repeats` runs (the machine is shared: the fastest run is the least disturbed), and all of them."""
    from index.embed import make_embedder

    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        results = list(engine.process(job, lambda: make_embedder(settings)))
        runs.append(time.perf_counter() - started)
    chunks = sum(len(item.chunks) for result in results for item in result.articles)
    best = min(runs)
    return {"seconds": round(best, 2), "runs": [round(r, 2) for r in runs], "chunks": chunks,
            "chunks_per_s": round(chunks / best, 1), "load_1min": round(os.getloadavg()[0], 2)}


def _timed_build(settings: Settings, index: Path, engine) -> float:
    from index.build import build_index

    started = time.perf_counter()
    build_index(settings.model_copy(update={"index_dir": index}), progress=False, engine=engine, full=True)
    return round(time.perf_counter() - started, 2)


def scaling(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    import ray

    from core.settings import BUNDLED_ARCHIVE
    from index.engine import LocalEngine
    from index.ray_engine import LOCAL_CPUS, RayEngine, RayOptions

    archive = synthetic_archive(scratch / "archive", args.articles)
    settings = _settings(archive_dir=archive, embedding_backend=args.embedder)
    job = _job(settings, archive)
    out: dict[str, Any] = {"articles": args.articles, "files": len(job.files), "embedder": args.embedder}
    out["local"] = _timed_process(LocalEngine(), job, settings, args.repeats)
    out["local"]["build_s"] = _timed_build(settings, scratch / "index-local", None)
    started = time.perf_counter()
    ray.init(num_cpus=LOCAL_CPUS, include_dashboard=False, logging_level="warning")
    out["ray_start_s"] = round(time.perf_counter() - started, 2)
    try:
        for actors in (1, 2):
            engine = RayEngine(settings, RayOptions(actors=actors))
            _timed_process(engine, _job(settings, BUNDLED_ARCHIVE), settings)  # warm: workers and model loaded
            out[f"ray_{actors}"] = _timed_process(engine, job, settings, args.repeats)
            out[f"ray_{actors}"]["build_s"] = _timed_build(settings, scratch / f"index-ray-{actors}", engine)
    finally:
        ray.shutdown()
    return out


class _Replay:
    """An engine that hands back results computed earlier: a build with it times the driver's side alone."""

    def __init__(self, results: list) -> None:
        self.results = results

    def process(self, job, embedder):
        return iter(self.results)


def driver(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """The driver's share of a build (plan, near-duplicates, tables, FTS5, vector segments, manifest, swap)."""
    from index.embed import make_embedder
    from index.engine import LocalEngine

    archive = synthetic_archive(scratch / "archive", args.articles)
    settings = _settings(archive_dir=archive, embedding_backend=args.embedder)
    job = _job(settings, archive)
    results = list(LocalEngine().process(job, lambda: make_embedder(settings)))
    chunks = sum(len(item.chunks) for result in results for item in result.articles)
    started = time.process_time()
    runs = [_timed_build(settings, scratch / f"index-{n}", _Replay(results)) for n in range(args.repeats)]
    cpu = (time.process_time() - started) / args.repeats  # the driver is one process: its CPU time is its work
    return {"articles": args.articles, "chunks": chunks, "build_s": runs, "chunks_per_s": round(chunks / min(runs), 1),
            "cpu_s": round(cpu, 2), "chunks_per_cpu_s": round(chunks / cpu, 1),
            "load_1min": round(os.getloadavg()[0], 2)}


def percore(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Chunks per CPU second of one core (one torch thread): reading+chunking, and embedding. CPU time, not
    wall time, so the figure holds on a loaded machine."""
    import torch

    from index.embed import make_embedder
    from index.engine import read_file

    torch.set_num_threads(1)
    archive = synthetic_archive(scratch / "archive", args.articles)
    settings = _settings(archive_dir=archive)
    job = _job(settings, archive)
    count = job.chunking.token_counter()
    started = time.process_time()
    chunks = [c for task in job.files for item in read_file(task, job.chunking, count).articles for c in item.chunks]
    read_cpu = time.process_time() - started
    texts = [chunk.embedding_text() for chunk in chunks][:160]
    embedder = make_embedder(settings)
    embedder.embed_documents(texts[:4])  # warm-up
    started = time.process_time()
    embedder.embed_documents(texts)
    embed_cpu = time.process_time() - started
    return {"chunks": len(chunks), "embedded": len(texts),
            "avg_tokens": round(sum(count(text) for text in texts) / len(texts)),
            "read_chunks_per_cpu_s": round(len(chunks) / read_cpu, 1),
            "embed_chunks_per_cpu_s": round(len(texts) / embed_cpu, 1)}


def _real_vectors(archive: Path) -> np.ndarray:
    from index.embed import make_embedder
    from index.engine import LocalEngine

    settings = _settings(archive_dir=archive)
    results = LocalEngine().process(_job(settings, archive), lambda: make_embedder(settings))
    parts = [item.vectors for result in results for item in result.articles if item.vectors is not None]
    return np.concatenate(parts).astype(np.float32)


def _clustered(count: int, centres: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, DIM)).astype(np.float32)
    points = middle[rng.integers(0, centres, count)] + 0.35 * rng.normal(size=(count, DIM)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def _queries(vectors: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Held-in queries made realistic: stored vectors moved by noise (a question is near, not on, its chunk)."""
    rng = np.random.default_rng(seed)
    picked = vectors[rng.choice(len(vectors), size=min(count, len(vectors)), replace=False)]
    moved = picked + 0.05 * rng.normal(size=picked.shape).astype(np.float32)
    return (moved / np.linalg.norm(moved, axis=1, keepdims=True)).astype(np.float32)


def recall(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    import ray

    from core.settings import BUNDLED_ARCHIVE
    from index import shards

    sets = {
        "sample": _real_vectors(BUNDLED_ARCHIVE),
        "synthetic_archive": _real_vectors(synthetic_archive(scratch / "archive", args.articles)),
        "clustered_200k": _clustered(200_000, 2000, seed=3),
    }
    out: dict[str, Any] = {}
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    try:
        for name, vectors in sets.items():
            nlist = shards.default_nlist(len(vectors))
            queries = _queries(vectors, 500, seed=4)
            row: dict[str, Any] = {"vectors": len(vectors), "nlist": nlist}
            for codec in ("flat", "sq8", "pq"):
                if codec == "pq" and len(vectors) < 256 * 39:
                    continue  # PQ codebooks need 256 centroids per sub-space: too few vectors to train
                merged = shards.sharded_ivf_on_ray(ray, vectors, 2, nlist, codec=codec)
                for nprobe in (1, 4, 8, 16, 32):
                    if nprobe > nlist:
                        continue
                    merged.nprobe = nprobe
                    row[f"{codec}_nprobe{nprobe}"] = round(shards.recall_at_k(merged, vectors, queries, 10), 4)
            out[name] = row
    finally:
        ray.shutdown()
    return out


def memory(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    import faiss

    from index import shards

    count = 20_000
    vectors = _clustered(count, 200, seed=5)
    nlist = 128
    builders = {
        "flat_fp32": lambda: faiss.IndexFlatIP(DIM),
        "sq8": lambda: faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT),
        "hnsw32_flat": lambda: faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT),
        "hnsw32_sq8": lambda: faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_8bit, 32, faiss.METRIC_INNER_PRODUCT),
        "ivf_flat": lambda: shards.train_ivf(vectors, nlist, codec="flat"),
        "ivf_sq8": lambda: shards.train_ivf(vectors, nlist, codec="sq8"),
        "ivf_pq48": lambda: shards.train_ivf(vectors, nlist, codec="pq", pq_m=48),
    }
    out: dict[str, Any] = {"vectors": count, "dim": DIM}
    for name, make in builders.items():
        index = make()
        if not index.is_trained:
            index.train(vectors)
        empty = len(faiss.serialize_index(index))
        index.add(vectors)
        full = len(faiss.serialize_index(index))
        out[name] = {"bytes_per_vector": round((full - empty) / count, 1), "fixed_bytes": empty}
    return out


PARTS = {"scaling": scaling, "driver": driver, "percore": percore, "recall": recall, "memory": memory}


def add_parser(commands) -> None:
    parser = commands.add_parser("ray", help="docs/SCALING.md: Ray scaling, driver share, per-core rates, "
                                 "merged-IVF recall, bytes per vector", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=list(PARTS))
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--embedder", choices=EMBEDDERS, default=None,
                        help="embedding backend (default: the settings' embedding_backend)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per configuration (scaling; best kept)")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from benchmarks.common import default_backend

    args.embedder = args.embedder or default_backend()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as folder:
        result = PARTS[args.part](args, Path(folder))
    result["machine"] = {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)}
    print(json.dumps(result, indent=1))
    return 0
