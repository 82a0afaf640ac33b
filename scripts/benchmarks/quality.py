"""`bench.py quality`: what each embedding backend costs in retrieval and answer quality, on the labelled sets.

    .venv/bin/python scripts/bench.py quality [--backends onnx,static] [--sets sample,web] [--index-root DIR]

For every backend (default: the settings' embedding_backend, i.e. the default configuration): its own index (the
sample archive, and the development archive of scripts/make_dev_archive.py for the web set), then passage recall
at 1, 5 and 20 for dense and hybrid ranking (a passage of the right file overlapping the labelled lines; and one
holding the answer string), over the whole set and each half (calibration / test), and the extractive answerer's
end-to-end figures from qa.evaluate, per half. A backend may become the default only within the bounds
docs/EVALUATION.md states (issue 20: hybrid recall@20 within one point).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, comma_list, default_backend

SETS = {
    "sample": (ROOT / "corpus", ROOT / "tests" / "eval" / "questions.jsonl"),
    "web": (ROOT / "var" / "dev-archive", ROOT / "tests" / "eval" / "web_questions.jsonl"),
}


RECALL_AT = (1, 5, 20)


def passage_recall(searcher, items: list[dict], mode: str, cutoffs=RECALL_AT) -> dict[str, float | None]:
    """Over the answerable questions, at each cutoff k: share with a top-k passage of the right file whose lines
    overlap the labelled lines ("lines@k"), and share with a top-k passage of the right file holding one of the
    answer strings ("answer@k", the probe of issue 20: what a reader over the first stage can still find)."""
    from qa.evaluate import answer_matches

    labelled = [i for i in items if not i.get("unanswerable") and i.get("lines")]
    lines_found = dict.fromkeys(cutoffs, 0)
    answer_found = dict.fromkeys(cutoffs, 0)
    for item in labelled:
        low, high = item["lines"]
        hits = searcher.search(item["question"], k=max(cutoffs), mode=mode)
        right = [h for h in hits if h.chunk.source.endswith(item["source"])]
        overlap = [h in right and h.chunk.start_line <= high and h.chunk.end_line >= low for h in hits]
        holds = [h in right and answer_matches(h.chunk.text, item.get("answers", [])) for h in hits]
        for k in cutoffs:
            lines_found[k] += any(overlap[:k])
            answer_found[k] += any(holds[:k])
    if not labelled:
        return {}
    return {**{f"lines@{k}": round(lines_found[k] / len(labelled), 4) for k in cutoffs},
            **{f"answer@{k}": round(answer_found[k] / len(labelled), 4) for k in cutoffs},
            "questions": len(labelled)}


ANSWER_FIGURES = ("answer_accuracy", "answer_cited_accuracy", "abstention_precision", "abstention_recall",
                  "abstention_accuracy", "mean_answer_words", "latency_p50", "latency_p95")


def evaluate_backend(backend: str, archive: Path, questions: Path, index: Path, answers: bool = True) -> dict[str, Any]:
    """Build (or bring up to date) `index` with `backend`, then its recall figures and, with `answers`, the
    extractive answerer's end-to-end figures (reader reranking, abstention rule as configured), per half."""
    from core.settings import load_settings
    from index.build import build_index
    from index.search import Searcher
    from qa.evaluate import load_questions, run_evaluation

    settings = load_settings(archive_dir=archive, index_dir=index, embedding_backend=backend)
    started = time.perf_counter()
    build_index(settings, full=False, progress=False)
    result: dict[str, Any] = {"build_or_update_s": round(time.perf_counter() - started, 1)}
    searcher = Searcher.open(settings)
    items = load_questions(questions)
    groups = {"all": items}
    for half in sorted({str(i["half"]) for i in items if i.get("half")}):
        groups[half] = [i for i in items if i.get("half") == half]
    for name, chosen in groups.items():
        result[name] = {mode: passage_recall(searcher, chosen, mode) for mode in ("dense", "hybrid")}
    if answers:
        report = run_evaluation(settings, questions, ["extractive"])
        result["all"]["answers"] = {key: report["answerers"]["extractive"].get(key) for key in ANSWER_FIGURES}
        for half, entry in report.get("halves", {}).items():
            result[half]["answers"] = {key: entry["answerers"]["extractive"].get(key) for key in ANSWER_FIGURES}
    return result


def add_parser(commands) -> None:
    parser = commands.add_parser("quality", help="recall and end-to-end answers per embedding backend",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", type=comma_list, default=None,
                        help="e.g. onnx,static (default: the settings' embedding_backend)")
    parser.add_argument("--sets", type=comma_list, default=["sample", "web"])
    parser.add_argument("--web-archive", type=Path, default=SETS["web"][0], help="the development archive")
    parser.add_argument("--web-backends", type=comma_list, default=None,
                        help="backends for the web set (default: --backends; onnx fp32 gives torch's vectors)")
    parser.add_argument("--index-root", type=Path, default=None,
                        help="keep each index in INDEX_ROOT/SET-BACKEND and reuse it next time (default: scratch)")
    parser.add_argument("--no-answers", action="store_true", help="recall only, no end-to-end answers")
    parser.add_argument("--out", type=Path, help="also write the results here after every backend")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    backends = args.backends or [default_backend()]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as scratch:
        root = args.index_root or Path(scratch)
        for name in args.sets:
            archive, questions = SETS[name]
            archive = args.web_archive if name == "web" else archive
            if not archive.is_dir():
                results[name] = {"error": f"{archive} missing: run scripts/make_dev_archive.py first"}
                continue
            results[name] = {}
            for backend in (args.web_backends or backends) if name == "web" else backends:
                results[name][backend] = evaluate_backend(backend, archive, questions, root / f"{name}-{backend}",
                                                          answers=not args.no_answers)
                if args.out:
                    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0
