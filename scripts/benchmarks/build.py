"""`bench.py build` (the default): archive-qa beside the pipeline a user would otherwise write and the model's
raw speed, in one run.

    .venv/bin/python scripts/bench.py --articles 300 --json                      # the default configuration
    .venv/bin/python scripts/bench.py --articles 300 --backends static,static-alone,onnx --json  # side by side
    .venv/bin/python scripts/bench.py --articles 100000 --only-ours --json
    .venv/bin/python scripts/bench.py --articles 100000 --embedder hashing --json   # everything but the model

Writes a deterministic synthetic archive (`bench.py archive`: real article paragraphs, a unique name per
article) into a scratch folder, then measures on the same files, each part in its own process (`bench.py step`):
- ours, for each backend asked (default: the one the settings name, i.e. the default configuration; --backends
  onnx,static for several): full build, peak RSS, index size, no-change and one-file-edit rebuilds,
  Searcher.open, search and extractive ask p50/p95 over distinct queries after warm-up, cold CLI `search` and
  `ask`;
- langchain: RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings + FAISS (the `bench` extra);
- raw: SentenceTransformer.encode over our chunks, torch fp32, ONNX fp32 and ONNX int8; and the static table's.
Throughput is characters of article text per second (chunk sizes differ between pipelines); tokens lost
to truncation are counted with the model's tokenizer. Prints every figure and a `ratios` object
(`build_chars_per_s_vs_langchain`, `build_vs_raw_fp32`: the first backend's). Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, comma_list, configuration_env, folder_bytes, machine, run_step
from benchmarks.synthetic import DEFAULT_PAGES, make_queries, paragraph_pool, write_archive

RAW_BACKENDS = ("torch", "onnx", "onnx-int8", "static")
ONNX_EXPORTED = ("onnx", "onnx-int8")


def add_parser(commands) -> None:
    parser = commands.add_parser("build", help="build and serving beside LangChain and the raw model (the default)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--articles", type=int, default=300, help="synthetic articles to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=240, help="distinct queries for search and ask latency")
    parser.add_argument("--embedder", choices=["model", "hashing"], default="model",
                        help="'hashing': only archive-qa, with the model-free embedder (large-scale runs)")
    parser.add_argument("--backends", type=comma_list, default=None,
                        help="our embedding backends, measured one after the other on the same archive, e.g. "
                        "static,static-alone,onnx: the default (static vectors, MiniLM at the question), static "
                        "vectors alone, MiniLM's vectors (default: the settings' embedding_backend, i.e. the "
                        "default configuration)")
    parser.add_argument("--only-ours", action="store_true",
                        help="no LangChain, raw-encode or truncation baselines (large-scale runs)")
    parser.add_argument("--raw-backends", type=comma_list, default=list(RAW_BACKENDS))
    parser.add_argument("--no-web-pages", action="store_true", help="paragraphs from corpus/ only")
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the throwaway archive and indexes")
    parser.add_argument("--json", action="store_true", help="print every figure as one JSON document")


def run(args: argparse.Namespace) -> int:
    results = measure(args)
    results["machine"]["finished_load_average_1_5_15"] = list(os.getloadavg())
    print(json.dumps(results, indent=2))
    return 0


def measure(args: argparse.Namespace) -> dict:
    from core.settings import load_settings

    settings = load_settings()  # what this checkout runs with: the default configuration unless told otherwise
    backends = ["hashing"] if args.embedder == "hashing" else (args.backends or [settings.embedding_backend])
    baselines = args.embedder != "hashing" and not args.only_ours
    pool = paragraph_pool(None if args.no_web_pages else DEFAULT_PAGES)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.scratch) as scratch_name:
        scratch = Path(scratch_name)
        archive = scratch / "archive"
        started = time.perf_counter()
        written = write_archive(archive, args.articles, pool, args.seed)
        results: dict[str, Any] = {
            "articles": args.articles, "seed": args.seed, "paragraph_pool": len(pool),
            "archive_chars": written["chars"], "archive_words": written["words"],
            "archive_bytes": folder_bytes(archive), "generate_s": time.perf_counter() - started,
            "machine": machine(), "backends": backends,
        }
        queries = make_queries(args.queries, args.articles, pool, args.seed)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if baselines or any(b in ONNX_EXPORTED for b in backends):  # the one-off export is not part of any build
            results["onnx_export"] = run_step("export", {
                "model": settings.embedding_model, "cache_dir": str(settings.model_cache_dir)}, scratch, env)
        by_backend: dict[str, Any] = {}
        for number, backend in enumerate(backends):
            record = baselines and number == 0  # every backend chunks alike: one recording serves the baselines
            ours = run_ours(archive, scratch, backend, queries, {**env, **configuration_env(backend)}, record)
            if "full_build_s" in ours:
                ours["build_chars_per_s"] = written["chars"] / ours["full_build_s"]
                ours["index_size_vs_text"] = ours["index_bytes"] / results["archive_bytes"]
            by_backend[backend] = ours
        results["ours"] = by_backend[backends[0]]  # the first backend, under the key earlier runs used
        results["ours_by_backend"] = by_backend
        if not baselines:
            return results
        our_texts = json.loads((scratch / "our-chunks.json").read_text(encoding="utf-8"))
        results["ours"]["truncation"] = token_losses(our_texts, settings.embedding_model)
        results["langchain"] = run_langchain(archive, scratch, settings.embedding_model, queries, env)
        results["raw"] = run_raw(scratch, settings, written["chars"], env, args.raw_backends)
        results["ratios"] = ratios(results)
    return results


def token_losses(texts: list[str], model_dir: str, limit: int = 256) -> dict[str, Any]:
    """Tokens beyond the model's window, which the model never sees (special tokens included)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    counts = [len(ids) for ids in tokenizer(texts, add_special_tokens=True, truncation=False,
                                            verbose=False)["input_ids"]] if texts else []
    lost = sum(max(0, c - limit) for c in counts)
    return {"chunks": len(counts), "tokens": sum(counts), "tokens_lost": lost,
            "tokens_lost_fraction": lost / sum(counts) if counts else 0.0,
            "chunks_truncated": sum(c > limit for c in counts),
            "chunks_truncated_fraction": sum(c > limit for c in counts) / len(counts) if counts else 0.0}


def cold_cli(archive: Path, index: Path, query: str, env: dict[str, str]) -> dict[str, Any]:
    """Wall time of `archive-qa search` (hybrid and bm25) and `ask` from a fresh process."""
    result: dict[str, Any] = {}
    base = [sys.executable, "-m", "archive_qa.cli"]
    runs = {"cli_search_s": ["search", query, "--json"], "cli_search_bm25_s": ["search", query, "--mode", "bm25",
                                                                              "--json"],
            "cli_ask_s": ["ask", query, "--json"]}
    for key, arguments in runs.items():
        started = time.perf_counter()
        completed = subprocess.run(base + arguments + ["--archive", str(archive), "--index", str(index)],
                                   env=env, capture_output=True, text=True)
        result[key] = time.perf_counter() - started
        if completed.returncode != 0:
            result[key.removesuffix("_s") + "_error"] = (completed.stderr.strip().splitlines() or ["?"])[-1]
    return result


def run_ours(archive: Path, scratch: Path, backend: str, queries: list[str], env: dict[str, str],
             record: bool) -> dict:
    index = scratch / f"index-{backend}"
    edit_file = sorted(archive.rglob("*.txt"))[len(queries) % 7]
    build_config = {"archive": str(archive), "index": str(index), "backend": backend, "edit_file": str(edit_file),
                    "record_texts": record, "texts_out": str(scratch / "our-chunks.json") if record else ""}
    ours = run_step("ours-build", build_config, scratch, env)
    if "error" in ours:
        return ours
    ours["index_bytes"] = folder_bytes(index)
    serve_config = {"archive": str(archive), "index": str(index), "backend": backend, "queries": queries,
                    "warmup": [f"warm-up question number {i} about the archive" for i in range(5)]}
    ours.update(run_step("ours-serve", serve_config, scratch, env))
    ours.update(cold_cli(archive, index, queries[1], env))
    return ours


def run_langchain(archive: Path, scratch: Path, model: str, queries: list[str], env: dict[str, str]) -> dict:
    config = {"archive": str(archive), "index": str(scratch / "langchain-index"), "model": model,
              "queries": queries, "texts_out": str(scratch / "langchain-chunks.json")}
    result = run_step("langchain", config, scratch, env)
    if "error" in result:
        result["hint"] = "pip install -e '.[bench]' for the LangChain baseline"
        return result
    result["index_bytes"] = folder_bytes(scratch / "langchain-index")
    texts = json.loads((scratch / "langchain-chunks.json").read_text(encoding="utf-8"))
    result["truncation"] = token_losses(texts, model)
    return result


def run_raw(scratch: Path, settings, chars: int, env: dict[str, str], backends: list[str]) -> dict:
    """Raw encode of our chunks per backend; int8 and ONNX vectors compared with torch's."""
    import numpy as np

    raw: dict[str, Any] = {}
    for backend in backends:
        config = {"texts": str(scratch / "our-chunks.json"), "model": settings.embedding_model,
                  "backend": backend, "cache_dir": str(settings.model_cache_dir),
                  "vectors_out": str(scratch / f"raw-{backend}.npy")}
        raw[backend] = run_step("raw", config, scratch, env)
        if "encode_s" in raw[backend]:
            raw[backend]["chars_per_s"] = chars / raw[backend]["encode_s"]
    reference = scratch / "raw-torch.npy"
    for backend in backends:
        path = scratch / f"raw-{backend}.npy"
        if backend not in ("torch", "static") and reference.is_file() and path.is_file():  # static: another model
            first, second = np.load(reference), np.load(path)
            cosines = (first * second).sum(axis=1)
            raw[backend]["vs_torch"] = {"max_abs_diff": float(np.abs(first - second).max()),
                                        "cosine_mean": float(cosines.mean()), "cosine_min": float(cosines.min())}
    return raw


def ratios(results: dict) -> dict[str, Any]:
    langchain_s = results["langchain"].get("full_build_s")
    raw_fp32 = results["raw"].get("torch", {}).get("chars_per_s")
    langchain = results["archive_chars"] / langchain_s if langchain_s else None
    if langchain:
        results["langchain"]["build_chars_per_s"] = langchain
    table: dict[str, Any] = {}
    for backend, ours in results["ours_by_backend"].items():
        speed = ours.get("build_chars_per_s")
        table[backend] = {
            "build_chars_per_s_vs_langchain": speed / langchain if speed and langchain else None,
            "build_vs_raw_fp32": speed / raw_fp32 if speed and raw_fp32 else None,
        }
    first = table[results["backends"][0]]
    return {
        **first,  # the first backend's, under the keys earlier runs used
        "by_backend": table,
        "langchain_vs_raw_fp32": langchain / raw_fp32 if langchain and raw_fp32 else None,
        **{f"raw_{b}_vs_raw_fp32": results["raw"][b]["chars_per_s"] / raw_fp32
           for b in results["raw"] if raw_fp32 and "chars_per_s" in results["raw"][b]},
    }
