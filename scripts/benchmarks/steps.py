"""`bench.py step`: one measured part of `bench.py build`, in a fresh process (`build` runs each of them).

    .venv/bin/python scripts/bench.py step STEP CONFIG.json OUT.json

Reads its settings from CONFIG.json, writes its figures to OUT.json. Run one by hand to measure a part again on
the files of an earlier run (e.g. `raw` with `{"backend": "static", "texts": CHUNKS.json, ...}`).

ours-build: archive-qa's full build, then a no-change rebuild and a one-file-edit rebuild; peak RSS.
ours-serve: Searcher.open, first search, then search and extractive ask p50/p95 over distinct queries after warm-up.
    Only the public index API is used (build_index, Searcher.open, searcher.search, answer_question), so the
    figures hold whatever the index looks like inside.
langchain: the pipeline a user would write with LangChain: every file read whole,
    RecursiveCharacterTextSplitter(1000, 200), HuggingFaceEmbeddings on the same local model folder, FAISS
    (langchain_community), saved to disk. Needs the `bench` extra (pip install -e '.[bench]').
raw: SentenceTransformer.encode over a given list of texts (archive-qa's chunks), batch 32, with no chunking, no
    I/O and no index: the bound on what any pipeline could do with this model and backend; or the static table's.
export: the ONNX exports, made before anything is timed (a first use pays for them once, then never again).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import configuration, peak_rss_mb, percentile

LATE_PARAGRAPH = ("\n\nA late correction arrived after the first build of this file: officials revised the "
                  "figures given above and said a fuller account would follow within days.\n")


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
                         **configuration(config["backend"]))


def ours_build(config: dict) -> dict:
    from index.build import build_index
    from index.embed import make_embedder

    settings = _settings(config)
    result: dict[str, Any] = {"backend": config["backend"], "embedding_backend": settings.embedding_backend,
                              "minilm_at_question": settings.minilm_at_question}
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


def ours_serve(config: dict) -> dict:
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
    # The search loop above embedded every query's shortlist with MiniLM (the default's second stage): asked
    # after it, the same queries would find their passages' vectors cached. Asking starts with empty caches, so
    # a question pays for the passages no earlier question brought back, as it would in a fresh session.
    from index.embed import SENTENCE_VECTORS
    from index.search import SHORTLIST_VECTORS

    for cache in (SHORTLIST_VECTORS, SENTENCE_VECTORS):
        cache.clear()
    values = _latencies(lambda q: answer_question(searcher, q, settings, answerer="extractive"), queries)
    result["ask_ms_p50"] = percentile(values, 0.5)
    result["ask_ms_p95"] = percentile(values, 0.95)
    lookups = SHORTLIST_VECTORS.hits + SHORTLIST_VECTORS.misses
    result["ask_shortlist_vectors_cached_share"] = SHORTLIST_VECTORS.hits / lookups if lookups else None
    result["serving_peak_rss_mb"] = peak_rss_mb()
    return result


def langchain(config: dict) -> dict:
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    result: dict[str, Any] = {}
    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=config["model"], model_kwargs={"device": "cpu"},
                                       encode_kwargs={"normalize_embeddings": True})
    result["model_load_s"] = time.perf_counter() - started

    started = time.perf_counter()
    archive = Path(config["archive"])
    documents = [Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": str(path)})
                 for path in sorted(archive.rglob("*.txt"))]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents(documents)
    store = FAISS.from_documents(chunks, embeddings)
    store.save_local(config["index"])
    result["full_build_s"] = time.perf_counter() - started
    result["chunks"] = len(chunks)
    result["peak_rss_mb"] = peak_rss_mb()

    queries = config.get("queries", [])[:50]
    if queries:
        store.similarity_search(queries[0], k=5)
        latencies = []
        for query in queries:
            begun = time.perf_counter()
            store.similarity_search(query, k=5)
            latencies.append((time.perf_counter() - begun) * 1000)
        result["search_ms_p50"] = sorted(latencies)[len(latencies) // 2]
    if config.get("texts_out"):
        Path(config["texts_out"]).write_text(json.dumps([c.page_content for c in chunks], ensure_ascii=False),
                                             encoding="utf-8")
    return result


def _raw_model(model_dir: str, backend: str, cache_dir: str) -> Any:
    from sentence_transformers import SentenceTransformer

    if backend == "torch":
        return SentenceTransformer(model_dir, device="cpu", local_files_only=True)
    from index.onnx_backend import OnnxVariant, ensure_export, physical_cores, quantisation_for_cpu, session_options

    variant = OnnxVariant(quantisation_for_cpu() if backend == "onnx-int8" else None)
    folder = ensure_export(model_dir, cache_dir, variant)
    return SentenceTransformer(str(folder), backend="onnx", device="cpu", local_files_only=True,
                               model_kwargs={"file_name": variant.file_name, "provider": "CPUExecutionProvider",
                                             "session_options": session_options(physical_cores())})


def raw(config: dict) -> dict:
    import numpy as np

    texts = json.loads(Path(config["texts"]).read_text(encoding="utf-8"))
    started = time.perf_counter()
    if config["backend"] == "static":  # the distilled table (index.static_backend): a different model, 256 dims
        from index.static_backend import StaticEmbedder

        static = StaticEmbedder()

        def encode(batch: list[str]) -> Any:
            return static.embed_documents(batch)
    else:
        model = _raw_model(config["model"], config["backend"], config["cache_dir"])

        def encode(batch: list[str]) -> Any:
            return model.encode(batch, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)
    result: dict[str, Any] = {"backend": config["backend"], "model_load_s": time.perf_counter() - started}
    encode(texts[:32])  # warm-up: first-call allocations are not throughput
    started = time.perf_counter()
    vectors = encode(texts)
    result["encode_s"] = time.perf_counter() - started
    result["texts"] = len(texts)
    result["chunks_per_s"] = len(texts) / result["encode_s"]
    result["peak_rss_mb"] = peak_rss_mb()
    if config.get("vectors_out"):
        np.save(config["vectors_out"], np.asarray(vectors, dtype=np.float32))
    return result


def export(config: dict) -> dict:
    from index.onnx_backend import OnnxVariant, ensure_export, quantisation_for_cpu

    started = time.perf_counter()
    for variant in (OnnxVariant(), OnnxVariant(quantisation_for_cpu())):
        ensure_export(config["model"], config["cache_dir"], variant)
    return {"export_s": time.perf_counter() - started}


STEPS = {"ours-build": ours_build, "ours-serve": ours_serve, "langchain": langchain, "raw": raw, "export": export}


def add_parser(commands) -> None:
    parser = commands.add_parser("step", help="one measured part of `build`, in this process (build runs them)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=list(STEPS))
    parser.add_argument("config", type=Path, help="JSON settings of the step")
    parser.add_argument("out", type=Path, help="where to write the step's figures as JSON")


def run(args: argparse.Namespace) -> int:
    result = STEPS[args.step](json.loads(args.config.read_text(encoding="utf-8")))
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0
