"""Child processes of scripts/bench.py that measure archive-qa itself, each in a fresh process.

    python scripts/bench_ours.py build CONFIG.json OUT.json   # full build, no-change and one-file rebuilds
    python scripts/bench_ours.py serve CONFIG.json OUT.json   # Searcher.open, search and ask latencies

Only the public index API is used (build_index, Searcher.open, searcher.search, answer_question), so the
figures hold whatever the index looks like inside. Peak RSS is this process's own ru_maxrss.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LATE_PARAGRAPH = ("\n\nA late correction arrived after the first build of this file: officials revised the "
                  "figures given above and said a fuller account would follow within days.\n")


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry over the forking parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class RecordingEmbedder:
    """Passes every call through; remembers the texts embedded, so the bench can count their tokens."""

    def __init__(self, inner: Any, record: bool) -> None:
        self._inner = inner
        self.record = record
        self.texts: list[str] = []
        self.embedded = 0

    def embed_documents(self, texts):
        self.embedded += len(texts)
        if self.record:
            self.texts.extend(texts)
        return self._inner.embed_documents(texts)

    def __getattr__(self, name: str) -> Any:  # name, dim, max_tokens, embed_query, count_tokens, ...
        return getattr(self._inner, name)


def _settings(config: dict):
    from core.settings import load_settings

    return load_settings(archive_dir=Path(config["archive"]), index_dir=Path(config["index"]),
                         embedding_backend=config["backend"])


def run_build(config: dict) -> dict:
    from index.build import build_index
    from index.embed import make_embedder

    settings = _settings(config)
    result: dict[str, Any] = {"backend": settings.embedding_backend}
    started = time.perf_counter()
    embedder = RecordingEmbedder(make_embedder(settings), record=config.get("record_texts", False))
    result["model_load_s"] = time.perf_counter() - started
    result["rss_after_model_load_mb"] = peak_rss_mb()

    started = time.perf_counter()
    report = build_index(settings, full=True, progress=False, embedder=embedder)
    result["full_build_s"] = time.perf_counter() - started
    result["peak_rss_full_build_mb"] = peak_rss_mb()
    result.update(articles=report.articles, chunks=report.chunks, chunks_embedded=embedder.embedded)
    embedder.record = False

    started = time.perf_counter()
    build_index(settings, progress=False, embedder=embedder)
    result["no_change_rebuild_s"] = time.perf_counter() - started

    with open(config["edit_file"], "a", encoding="utf-8") as handle:
        handle.write(LATE_PARAGRAPH)
    started = time.perf_counter()
    changed = build_index(settings, progress=False, embedder=embedder)
    result["one_file_edit_rebuild_s"] = time.perf_counter() - started
    result["one_file_edit_counts"] = {"added": changed.added, "updated": changed.updated, "removed": changed.removed}
    result["peak_rss_mb"] = peak_rss_mb()
    if config.get("texts_out"):
        Path(config["texts_out"]).write_text(json.dumps(embedder.texts, ensure_ascii=False), encoding="utf-8")
    return result


def _latencies(function, queries: list[str]) -> list[float]:
    values = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        values.append((time.perf_counter() - started) * 1000)
    return values


def run_serve(config: dict) -> dict:
    from index.search import Searcher
    from qa.answer import answer_question

    settings = _settings(config)
    queries: list[str] = config["queries"]
    result: dict[str, Any] = {"queries": len(queries)}
    started = time.perf_counter()
    searcher = Searcher.open(settings)
    result["searcher_open_s"] = time.perf_counter() - started
    started = time.perf_counter()
    searcher.search(queries[0], k=5)  # loads the model, if the mode needs one
    result["first_search_s"] = time.perf_counter() - started
    for query in config["warmup"]:
        searcher.search(query, k=5)
        answer_question(searcher, query, settings, answerer="extractive")
    for mode in config.get("modes", ["hybrid", "bm25"]):
        values = _latencies(lambda q, m=mode: searcher.search(q, k=5, mode=m), queries)
        result[f"search_{mode}_ms_p50"] = percentile(values, 0.5)
        result[f"search_{mode}_ms_p95"] = percentile(values, 0.95)
    values = _latencies(lambda q: answer_question(searcher, q, settings, answerer="extractive"), queries)
    result["ask_ms_p50"] = percentile(values, 0.5)
    result["ask_ms_p95"] = percentile(values, 0.95)
    result["serving_peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> int:
    phase, config_path, out_path = sys.argv[1:4]
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    result = run_build(config) if phase == "build" else run_serve(config)
    Path(out_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
