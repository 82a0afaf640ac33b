"""Child processes of scripts/bench.py for the two references archive-qa is measured against.

    python scripts/bench_baselines.py langchain CONFIG.json OUT.json
    python scripts/bench_baselines.py raw CONFIG.json OUT.json

langchain: the pipeline a user would write with LangChain: every file read whole,
RecursiveCharacterTextSplitter(1000, 200), HuggingFaceEmbeddings on the same local model folder, FAISS
(langchain_community), saved to disk. Needs the `bench` extra (pip install -e '.[bench]').

raw: SentenceTransformer.encode over a given list of texts (archive-qa's chunks), batch 32, with no
chunking, no I/O and no index: the bound on what any pipeline could do with this model and backend.
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


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry over the forking parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_langchain(config: dict) -> dict:
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


def run_raw(config: dict) -> dict:
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


def run_export(config: dict) -> dict:
    """Makes the ONNX exports before anything is timed: a first use pays for them once, then never again."""
    from index.onnx_backend import OnnxVariant, ensure_export, quantisation_for_cpu

    started = time.perf_counter()
    for variant in (OnnxVariant(), OnnxVariant(quantisation_for_cpu())):
        ensure_export(config["model"], config["cache_dir"], variant)
    return {"export_s": time.perf_counter() - started}


def main() -> int:
    phase, config_path, out_path = sys.argv[1:4]
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    phases = {"langchain": run_langchain, "raw": run_raw, "export": run_export}
    result = phases[phase](config)
    Path(out_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
