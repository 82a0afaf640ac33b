"""Benchmarks of the pieces users wait on, measured side by side in one run.

    .venv/bin/python scripts/bench.py [--archive DIR] [--repeat N] [--markdown]

Measures, on a throwaway copy of the archive and a fresh index:
- a full build (model load excluded and reported apart), chunks embedded per second;
- an unchanged rebuild, and a rebuild after one file changed;
- search latency per ranking mode (dense, bm25, hybrid), p50 and p95 over the question set;
- ask latency for the extractive answerer.
Nothing here asserts a speed: the figures go to docs/BENCHMARKS.md with the command that made them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import BUNDLED_ARCHIVE, load_settings  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[position]


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def load_questions(path: Path) -> list[str]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            questions.append(json.loads(line)["question"])
    return questions


def copy_archive(archive: Path, target: Path, scale: int) -> None:
    """The archive, or `scale` copies of it whose every body line is marked, so each copy is new text."""
    if scale <= 1:
        shutil.copytree(archive, target)
        return
    for copy in range(scale):
        for path in sorted(p for p in archive.rglob("*") if p.is_file()):
            destination = target / f"copy{copy:03d}" / path.relative_to(archive)
            destination.parent.mkdir(parents=True, exist_ok=True)
            lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
            marked = [f"{line} Copy {copy} of the bench archive." if len(line) > 80 else line for line in lines]
            destination.write_text("\n".join(marked), encoding="utf-8")


def run(archive: Path, repeat: int, scale: int = 1) -> dict:
    from index.build import build_index
    from index.embed import make_embedder
    from index.search import Searcher
    from qa.answer import answer_question

    results: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        archive_copy = Path(scratch) / "archive"
        copy_archive(archive, archive_copy, scale)
        settings = load_settings(archive_dir=archive_copy, index_dir=Path(scratch) / "index")

        embedder, load_seconds = timed(make_embedder, settings)
        results["model_load_s"] = load_seconds
        report, seconds = timed(build_index, settings, full=True, progress=False, embedder=embedder)
        results["full_build_s"] = seconds
        results["chunks"] = report.chunks
        results["articles"] = report.articles
        results["chunks_per_s"] = report.chunks / seconds if seconds else float("nan")

        _, results["unchanged_rebuild_s"] = timed(build_index, settings, progress=False, embedder=embedder)
        first_file = sorted(path for path in archive_copy.rglob("*") if path.is_file())[0]
        with open(first_file, "a", encoding="utf-8") as handle:
            handle.write("\n\n\n\nA Late Addition\n\nA new paragraph arrived after the first build of this file.\n")
        changed, results["one_file_changed_rebuild_s"] = timed(build_index, settings, progress=False,
                                                                embedder=embedder)
        results["one_file_changed_counts"] = {"added": changed.added, "updated": changed.updated,
                                              "removed": changed.removed}

        searcher = Searcher.open(settings, embedder=embedder)
        questions = load_questions(ROOT / "tests" / "eval" / "questions.jsonl")
        for mode in ("dense", "bm25", "hybrid"):
            latencies = []
            for _ in range(repeat):
                for question in questions:
                    _, seconds = timed(searcher.search, question, k=5, mode=mode)
                    latencies.append(seconds * 1000)
            results[f"search_{mode}_ms_p50"] = percentile(latencies, 0.5)
            results[f"search_{mode}_ms_p95"] = percentile(latencies, 0.95)

        latencies = []
        for question in questions:
            _, seconds = timed(answer_question, searcher, question, settings, answerer="extractive")
            latencies.append(seconds * 1000)
        results["ask_extractive_ms_p50"] = percentile(latencies, 0.5)
        results["ask_extractive_ms_p95"] = percentile(latencies, 0.95)
        results["questions"] = len(questions)
    return results


def to_markdown(results: dict, command: str) -> str:
    rows = [
        ("model load", f"{results['model_load_s']:.2f} s"),
        (f"full build ({results['articles']} articles, {results['chunks']} chunks)",
         f"{results['full_build_s']:.2f} s"),
        ("embedding throughput in the full build", f"{results['chunks_per_s']:.1f} chunks/s"),
        ("unchanged rebuild", f"{results['unchanged_rebuild_s']:.3f} s"),
        ("rebuild after one file changed ("
         + ", ".join(f"{k} {v}" for k, v in results["one_file_changed_counts"].items()) + ")",
         f"{results['one_file_changed_rebuild_s']:.3f} s"),
    ]
    for mode in ("dense", "bm25", "hybrid"):
        rows.append((f"search, {mode}, p50 / p95",
                     f"{results[f'search_{mode}_ms_p50']:.1f} / {results[f'search_{mode}_ms_p95']:.1f} ms"))
    rows.append(("ask, extractive, p50 / p95",
                 f"{results['ask_extractive_ms_p50']:.1f} / {results['ask_extractive_ms_p95']:.1f} ms"))
    lines = [f"Command: `{command}`", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{results['questions']} questions.", "", "| measure | figure |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=BUNDLED_ARCHIVE)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions for search latency")
    parser.add_argument("--scale", type=int, default=1, help="index this many marked copies of the archive")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table for docs/BENCHMARKS.md")
    args = parser.parse_args()
    results = run(args.archive, args.repeat, args.scale)
    if args.markdown:
        print(to_markdown(results, "python scripts/bench.py " + " ".join(sys.argv[1:])))
    else:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
