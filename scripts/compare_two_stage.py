"""Issue 25's table: (a) MiniLM vectors in the index, (b) static vectors alone, (c) static vectors + MiniLM at the
question, side by side on the web question set (each half) and the old set.

    .venv/bin/python scripts/compare_two_stage.py --dev-archive DEV --index-root DIR [--configs a,b,c]
        [--sets web,old] [--out RESULTS.json]

DEV is the development archive (scripts/make_dev_archive.py); DIR keeps the four indexes (web-minilm, web-static,
old-minilm, old-static: built on the first run, brought up to date on the next). For each configuration and set:
hybrid lines@1/@5/@20 over the answerable questions with labelled lines (a passage of the right file overlapping
the labelled lines in the top k), and the end-to-end figures of `archive-qa eval --json` (the extractive answerer,
the reader on, the abstention rule the configuration chooses), run as that command in a fresh process with the
configuration's ARCHIVE_QA_* variables. Prints a Markdown table (and the JSON with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# `python -m archive_qa.cli` from the folder this script is in: a copy of the repository (a snapshot taken so that
# every configuration runs the same code) measures its own code, not the installed checkout's.
ARCHIVE_QA = [sys.executable, "-m", "archive_qa.cli"]

CONFIGS: dict[str, dict[str, str]] = {
    "a": {"ARCHIVE_QA_EMBEDDING_BACKEND": "onnx"},
    "b": {"ARCHIVE_QA_EMBEDDING_BACKEND": "static", "ARCHIVE_QA_MINILM_AT_QUESTION": "false"},
    "c": {"ARCHIVE_QA_EMBEDDING_BACKEND": "static", "ARCHIVE_QA_MINILM_AT_QUESTION": "true"},
    # variants of (c): the shortlist MiniLM reads (default 20)
    "c10": {"ARCHIVE_QA_EMBEDDING_BACKEND": "static", "ARCHIVE_QA_MINILM_AT_QUESTION": "true",
            "ARCHIVE_QA_MINILM_SHORTLIST": "10"},
    "c30": {"ARCHIVE_QA_EMBEDDING_BACKEND": "static", "ARCHIVE_QA_MINILM_AT_QUESTION": "true",
            "ARCHIVE_QA_MINILM_SHORTLIST": "30"},
}
LABELS = {"a": "(a) MiniLM index", "b": "(b) static alone", "c": "(c) static + MiniLM at the question",
          "c10": "(c) with a shortlist of 10", "c30": "(c) with a shortlist of 30"}
INDEX_OF = {"a": "minilm", "b": "static", "c": "static", "c10": "static", "c30": "static"}
QUESTIONS = {"web": ROOT / "tests" / "eval" / "web_questions.jsonl", "old": ROOT / "tests" / "eval" / "questions.jsonl"}
FIGURES = ("answer_accuracy", "answer_cited_accuracy", "abstention_precision", "abstention_recall",
           "mean_answer_words", "latency_p50", "latency_p95")
CUTOFFS = (1, 5, 20)


def environment(config: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_QA_")}
    env.update(CONFIGS[config], HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=str(ROOT))
    return env


def run(command: list[str], config: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=environment(config), cwd=ROOT)
    if done.returncode not in (0, 3):
        raise SystemExit(f"error: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return done.stdout


def recall(archive: Path, index: Path, questions: Path, config: str) -> dict[str, dict[str, float]]:
    """Hybrid lines@k per half (and "all"), in a fresh process with the configuration's variables."""
    code = f"""
import json
from core.settings import load_settings
from index.search import Searcher
from qa.evaluate import load_questions
searcher = Searcher.open(load_settings(archive_dir={str(archive)!r}, index_dir={str(index)!r}))
items = [i for i in load_questions({str(questions)!r}) if not i.get("unanswerable") and i.get("lines")]
groups = {{"all": items}}
for item in items:
    if item.get("half"):
        groups.setdefault(item["half"], []).append(item)
found = {{}}
for item in items:
    low, high = item["lines"]
    hits = searcher.search(item["question"], k={max(CUTOFFS)}, mode="hybrid")
    found[item["question"]] = [h.chunk.source.endswith(item["source"]) and h.chunk.start_line <= high
                               and h.chunk.end_line >= low for h in hits]
print(json.dumps({{name: {{"questions": len(chosen), **{{f"lines@{{k}}": round(
    sum(any(found[i["question"]][:k]) for i in chosen) / len(chosen), 4) for k in {CUTOFFS!r}}}}}
    for name, chosen in groups.items()}}))
"""
    return json.loads(run([sys.executable, "-c", code], config).strip().splitlines()[-1])


def answers(archive: Path, index: Path, questions: Path, config: str) -> dict[str, dict[str, Any]]:
    """`archive-qa eval --json`'s extractive figures, for the whole set and each half."""
    report = json.loads(run([*ARCHIVE_QA, "eval", "--archive", str(archive), "--index", str(index), "--questions",
                             str(questions), "--json"], config))
    out = {"all": {key: report["answerers"]["extractive"].get(key) for key in FIGURES}}
    for half, entry in report.get("halves", {}).items():
        out[half] = {key: entry["answerers"]["extractive"].get(key) for key in FIGURES}
    return out


def build(archive: Path, index: Path, config: str, full: bool) -> dict[str, Any]:
    """Build or update the index; its report (both indexes of a set should hold the same chunks)."""
    return json.loads(run([*ARCHIVE_QA, "build", "--archive", str(archive), "--index", str(index), "--json",
                           "--quiet", *(["--full"] if full else [])], config))


def markdown(results: dict[str, Any]) -> str:
    rows = ["| set | configuration | hybrid lines@1 / @5 / @20 | answer | answer + lines | abstention precision "
            "| abstention recall | mean words | p50 s |", "|---|---|---|---|---|---|---|---|---|"]
    for name, by_config in results.items():
        groups = [g for g in ("calibration", "test", "all") if g in next(iter(by_config.values()))["recall"]]
        groups = [g for g in groups if g != "all"] or ["all"]
        for group in groups:
            for config, result in by_config.items():
                r = result["recall"][group]
                a = result["answers"].get(group, {})
                label = f"{name} {group} ({r['questions']})" if name == "web" else f"old ({r['questions']})"
                rows.append(f"| {label} | {LABELS[config]} | {r['lines@1']:.3f} / {r['lines@5']:.3f} / "
                            f"{r['lines@20']:.3f} | {a.get('answer_accuracy')} | {a.get('answer_cited_accuracy')} | "
                            f"{a.get('abstention_precision')} | {a.get('abstention_recall')} | "
                            f"{a.get('mean_answer_words')} | {a.get('latency_p50')} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev-archive", type=Path, default=ROOT / "var" / "dev-archive")
    parser.add_argument("--index-root", type=Path, required=True)
    parser.add_argument("--configs", type=lambda s: s.split(","), default=["a", "b", "c"])
    parser.add_argument("--sets", type=lambda s: s.split(","), default=["web", "old"])
    parser.add_argument("--no-answers", action="store_true", help="recall only")
    parser.add_argument("--full", action="store_true", help="rebuild each index in full first")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    archives = {"web": args.dev_archive, "old": ROOT / "corpus"}
    if "web" in args.sets and not args.dev_archive.is_dir():
        raise SystemExit(f"error: {args.dev_archive} missing: run scripts/make_dev_archive.py first")
    results: dict[str, Any] = {}
    for name in args.sets:
        results[name] = {}
        built: dict[str, dict[str, Any]] = {}
        for config in args.configs:  # every index of the set first, from the same code
            if INDEX_OF[config] not in built:
                built[INDEX_OF[config]] = build(archives[name], args.index_root / f"{name}-{INDEX_OF[config]}",
                                                config, args.full)
        for config in args.configs:
            index = args.index_root / f"{name}-{INDEX_OF[config]}"
            entry = {"chunks": built[INDEX_OF[config]].get("chunks"),
                     "recall": recall(archives[name], index, QUESTIONS[name], config), "answers": {}}
            if not args.no_answers:
                entry["answers"] = answers(archives[name], index, QUESTIONS[name], config)
            results[name][config] = entry
            print(f"# {name} {LABELS[config]}: {json.dumps(entry)}", file=sys.stderr, flush=True)
            if args.out:
                args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
