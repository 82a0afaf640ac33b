"""`bench.py million`: serving at a million chunks: Searcher.open, hybrid and BM25 search latency, serving RSS,
disk per raw text.

    .venv/bin/python scripts/bench.py million --articles 100000 --copies 4 --scratch /tmp/million --json

Builds an index of COPIES x the chunks of a synthetic archive (`bench.py archive`: real article
paragraphs): every file is read, cleaned, chunked and tokenised once by the real engine, and each copy is
written under its own sources (copy0/..., copy1/...) by the real table writer, so the text is real but
repeats COPIES times (posting lists are COPIES times longer than a real archive of that size would give:
BM25 latency is on the pessimistic side). The vectors are synthetic: seeded random unit vectors instead of
an embedding model, since embedding a million chunks is not what is measured here. The copies' MinHash
signatures are scrambled so they are not near-duplicates of each other. Queries are real (article names
and phrases); the query vector comes from the hashing embedder, so dense rankings are noise but their cost
is real.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import folder_bytes, peak_rss_mb, percentile
from benchmarks.synthetic import DEFAULT_PAGES, make_queries, paragraph_pool, write_archive


class RandomEmbedder:
    """Seeded random unit vectors under the hashing embedder's name (so the index opens with its settings)."""

    def __init__(self, seed: int, dim: int = 384) -> None:
        self.name, self.dim, self.max_tokens = f"hashing-{dim}", dim, 256
        self._rng = np.random.default_rng(seed)

    def embed_documents(self, texts):
        rows = self._rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def renamed(result, copy: int):
    """A FileResult as if its file lay under copy<N>/, with scrambled MinHash signatures."""
    prefix = f"copy{copy}/"
    task = replace(result.task, source=prefix + result.task.source)
    articles = []
    for item in result.articles:
        article = replace(item.article, source=prefix + item.article.source,
                          id=prefix + item.article.id)
        scramble = np.uint64((copy + 1) * 0x9E3779B1)
        articles.append(replace(item, article=article, signature=(item.signature ^ scramble) & np.uint64(0xFFFFFFFF)))
    return replace(result, task=task, articles=tuple(articles))


def build(archive: Path, index_dir: Path, copies: int) -> dict:
    from core.settings import Settings
    from index import build as builder
    from index.engine import LocalEngine
    from index.plan import make_plan
    from index.writer import TableWriter

    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    plan = make_plan(archive, {}, settings.max_file_bytes)
    target = builder._Target.open(index_dir, None, 384)
    writer = TableWriter(target.connection, target.generation, target.segment, settings.near_duplicate_threshold,
                         True, None)
    writer.begin(0)
    job = builder._job(settings, plan, None, frozenset())
    results = list(LocalEngine().process(job, lambda: RandomEmbedder(0)))  # read, clean, chunk: once
    result = {"read_s": time.perf_counter() - started}
    rng = np.random.default_rng(1)
    for copy in range(copies):
        for item in results:
            fresh = tuple(replace(a, vectors=_unit(rng, len(a.chunks))) for a in item.articles)
            writer.add(renamed(replace(item, articles=fresh), copy))
        print(f"copy {copy}: {writer.tally.chunks_delta} chunks, {time.perf_counter() - started:.0f}s", file=sys.stderr)
    counts = writer.finish({})
    builder._publish(settings, target, counts, None, RandomEmbedder(0), writer.commit)  # type: ignore[arg-type]
    builder._checkpoint(target.connection)
    target.connection.close()
    return {**result, "build_s": time.perf_counter() - started, **counts}


def _unit(rng, count: int) -> np.ndarray | None:
    if not count:
        return None
    rows = rng.standard_normal((count, 384), dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def serve(archive: Path, index_dir: Path, queries: list[str]) -> dict:
    from core.settings import Settings
    from index.search import Searcher

    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index_dir)
    result: dict = {"load_average_before_serving": os.getloadavg()[0]}
    started = time.perf_counter()
    searcher = Searcher.open(settings)
    result["searcher_open_s"] = time.perf_counter() - started
    result["rss_after_open_mb"] = peak_rss_mb()
    for mode in ("bm25", "hybrid", "dense"):
        started = time.perf_counter()
        searcher.search(queries[0], k=5, mode=mode)  # first query: loads what this mode needs
        result[f"first_{mode}_s"] = time.perf_counter() - started
        for query in queries[:20]:
            searcher.search(query, k=5, mode=mode)
        values, cpu = [], []
        for query in queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            searcher.search(query, k=5, mode=mode)
            values.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        result[f"search_{mode}_ms_p50"] = percentile(values, 0.5)
        result[f"search_{mode}_ms_p95"] = percentile(values, 0.95)
        # CPU time of this process: what the search costs, apart from waiting for a core on a busy machine
        result[f"search_{mode}_cpu_ms_p50"] = percentile(cpu, 0.5)
        result[f"search_{mode}_cpu_ms_p95"] = percentile(cpu, 0.95)
    result["serving_peak_rss_mb"] = peak_rss_mb()
    return result


def against_full_bm25(settings, queries: list[str], shares: list[float], k: int = 10) -> dict:
    """BM25 and hybrid search with common query words left out (`bm25_common_share`), side by side with the
    ranking by every query word (share 1.0): latency, and overlap of the top k (the share of the full ranking's
    top k that the pruned ranking also returns)."""
    from index.search import Searcher

    result: dict = {}
    full: dict[str, list[list]] = {}
    for share in [1.0, *shares]:
        searcher = Searcher.open(settings.model_copy(update={"bm25_common_share": share}))
        for mode in ("bm25", "hybrid"):
            for query in queries[:20]:
                searcher.search(query, k=k, mode=mode)
            values, ranked = [], []
            for query in queries:
                started = time.perf_counter()
                ranked.append([hit.chunk.id for hit in searcher.search(query, k=k, mode=mode)])
                values.append((time.perf_counter() - started) * 1000)
            full.setdefault(mode, ranked)
            pairs = zip(ranked, full[mode], strict=True)
            overlaps = [len(set(mine) & set(best)) / len(best) for mine, best in pairs if best]
            result[f"share_{share}_{mode}_ms_p50"] = percentile(values, 0.5)
            result[f"share_{share}_{mode}_ms_p95"] = percentile(values, 0.95)
            result[f"share_{share}_{mode}_overlap_at_{k}"] = float(np.mean(overlaps)) if overlaps else None
    return result


def add_parser(commands) -> None:
    parser = commands.add_parser("million", help="serving at a million chunks: open, search latency, memory, disk",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--scratch", type=Path, default=None)
    parser.add_argument("--archive", type=Path, default=None, help="reuse an archive written earlier")
    parser.add_argument("--phase", choices=["all", "build", "serve"], default="all")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--common-shares", default="",
                        help="also compare BM25 with these bm25_common_share values (e.g. 0.005,0.01,0.02) "
                        "against BM25 over every query word: latency and top-10 overlap")


def run(args: argparse.Namespace) -> int:
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="million-"))
    scratch.mkdir(parents=True, exist_ok=True)
    archive = args.archive or scratch / "archive"
    pool = paragraph_pool(DEFAULT_PAGES)
    if not archive.exists():
        write_archive(archive, args.articles, pool, 0)
    index_dir = scratch / "index"
    result: dict = {"articles_per_copy": args.articles, "copies": args.copies, "cpus": os.cpu_count(),
                    "load_average_at_start": os.getloadavg()[0]}
    if args.phase in ("all", "build"):
        result.update(build(archive, index_dir, args.copies))
    if args.phase in ("all", "serve"):
        queries = make_queries(args.queries, args.articles, pool, 0)
        result.update(serve(archive, index_dir, queries))
        if args.common_shares:
            from core.settings import Settings

            settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index_dir)
            shares = [float(share) for share in args.common_shares.split(",")]
            result.update(against_full_bm25(settings, queries, shares))
    raw = folder_bytes(archive, skip_symlinks=True) * args.copies  # what the index holds: each copy of the archive
    result.update(index_bytes=folder_bytes(index_dir, skip_symlinks=True), raw_text_bytes=raw)
    result["index_size_vs_text"] = result["index_bytes"] / raw
    print(json.dumps(result, indent=2) if args.json else result)
    return 0
