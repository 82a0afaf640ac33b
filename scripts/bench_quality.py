"""What each embedding backend costs in retrieval and answer quality, on the labelled question sets.

    .venv/bin/python scripts/bench_quality.py [--backends torch,onnx,onnx-int8] [--sets sample,web] [--json]

For every backend: its own index under a scratch folder (the sample archive, and the development archive
of scripts/make_dev_archive.py for the web set), then the evaluation of qa.evaluate (file recall@5 and
the extractive answerer's accuracy) plus passage recall@5 (a top-5 passage overlaps the labelled lines),
for dense and hybrid ranking. The default backend may become int8 only if it costs at most one point.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = {
    "sample": (ROOT / "corpus", ROOT / "tests" / "eval" / "questions.jsonl"),
    "web": (ROOT / "var" / "dev-archive", ROOT / "tests" / "eval" / "web_questions.jsonl"),
}


def passage_recall(searcher, items: list[dict], mode: str, k: int = 5) -> float | None:
    """Share of labelled questions with a top-k passage from the right file whose lines overlap the label."""
    labelled = [i for i in items if not i.get("unanswerable") and i.get("lines")]
    found = 0
    for item in labelled:
        low, high = item["lines"]
        hits = searcher.search(item["question"], k=k, mode=mode)
        found += any(h.chunk.source.endswith(item["source"]) and h.chunk.start_line <= high
                     and h.chunk.end_line >= low for h in hits)
    return round(found / len(labelled), 4) if labelled else None


def evaluate_backend(backend: str, archive: Path, questions: Path, index: Path) -> dict[str, Any]:
    from core.settings import load_settings
    from index.build import build_index
    from index.search import Searcher
    from qa.evaluate import load_questions, retrieval_metrics, run_evaluation

    settings = load_settings(archive_dir=archive, index_dir=index, embedding_backend=backend)
    build_index(settings, full=True, progress=False)
    report = run_evaluation(settings, questions, ["extractive"])
    extractive = report["answerers"]["extractive"]
    searcher = Searcher.open(settings)
    items = load_questions(questions)
    result: dict[str, Any] = {
        "questions": report["questions"],
        "hybrid_file_recall@5": report["retrieval"]["recall@5"],
        "hybrid_file_mrr": report["retrieval"]["mrr"],
        "answer_accuracy": extractive["answer_accuracy"],
        "abstention_accuracy": extractive["abstention_accuracy"],
        "citation_accuracy": extractive["citation_accuracy"],
    }
    dense = retrieval_metrics(searcher, items, "dense", k=5)
    result["dense_file_recall@5"], result["dense_file_mrr"] = dense["recall@5"], dense["mrr"]
    for mode in ("dense", "hybrid"):
        result[f"{mode}_passage_recall@5"] = passage_recall(searcher, items, mode)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", type=lambda s: s.split(","), default=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--sets", type=lambda s: s.split(","), default=["sample", "web"])
    parser.add_argument("--web-archive", type=Path, default=SETS["web"][0], help="the development archive")
    parser.add_argument("--web-backends", type=lambda s: s.split(","), default=None,
                        help="backends for the web set (default: --backends; onnx fp32 gives torch's vectors)")
    parser.add_argument("--out", type=Path, help="also write the results here after every backend")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as scratch:
        for name in args.sets:
            archive, questions = SETS[name]
            archive = args.web_archive if name == "web" else archive
            if not archive.is_dir():
                results[name] = {"error": f"{archive} missing: run scripts/make_dev_archive.py first"}
                continue
            results[name] = {}
            for backend in (args.web_backends or args.backends) if name == "web" else args.backends:
                results[name][backend] = evaluate_backend(backend, archive, questions,
                                                          Path(scratch) / f"{name}-{backend}")
                if args.out:
                    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
