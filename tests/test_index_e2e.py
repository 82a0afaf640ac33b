"""End to end with the default models on the sample archive (the static table distilled from all-MiniLM-L6-v2 in
the index, MiniLM itself at the question): the CLI, and retrieval quality.

The labelled set tests/retrieval_questions.jsonl gives, per question, the file and raw lines that answer
it; a hit counts when it comes from that file and its line span overlaps those lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import BUNDLED_ARCHIVE, PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow

QUESTIONS = Path(__file__).parent / "retrieval_questions.jsonl"


def run_cli(*args: str) -> tuple[object, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("ARCHIVE_QA_EMBEDDING_BACKEND", None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "archive_qa.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=900,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), elapsed


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, list[dict]]:
    root = tmp_path_factory.mktemp("e2e")
    archive, index = root / "archive", root / "index"
    shutil.copytree(BUNDLED_ARCHIVE, archive)
    reports = []
    for _ in range(2):
        report, elapsed = run_cli("build", "--archive", str(archive), "--index", str(index), "--json")
        reports.append({**report, "wall_seconds": round(elapsed, 2)})
    print(
        f"\nbuild timings: full {reports[0]['seconds']}s ({reports[0]['wall_seconds']}s wall), "
        f"unchanged {reports[1]['seconds']}s ({reports[1]['wall_seconds']}s wall)"
    )
    return archive, index, reports


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_build_twice_reports_nothing_the_second_time(built):
    _, _, (first, second) = built
    assert first["articles"] == 8 and first["added"] == 8 and first["chunks"] >= 8
    assert (second["added"], second["updated"], second["removed"]) == (0, 0, 0)
    assert (second["articles"], second["chunks"]) == (first["articles"], first["chunks"])
    assert second["seconds"] < 2.0


def test_search_ranks_the_nujaba_passage_first_with_its_true_lines(built):
    archive, index, _ = built
    hits, _ = run_cli(
        "search",
        "training camps for Harakat al-Nujaba in the Homs desert",
        "--archive",
        str(archive),
        "--index",
        str(index),
        "--json",
    )
    top = hits[0]
    assert top["source"] == "001_4b85ccf491a580e5.txt" and top["rank"] == 1
    start, end = top["lines"]
    raw = (archive / top["source"]).read_text(encoding="utf-8").splitlines()
    window = squash(" ".join(raw[start - 1 : end]))
    assert "Harakat al-Nujaba" in top["text"]
    for piece in top["text"].split("\n\n"):
        assert squash(piece) in window


@pytest.fixture(scope="module")
def searcher(built):
    from index.search import Searcher

    archive, index, _ = built
    return Searcher.open(Settings(archive_dir=archive, index_dir=index))


def test_index_holds_the_real_model_and_chunks_fit_its_window(searcher):
    from index.static_backend import DEFAULT_STATIC_DIR, static_identity

    # The default: the static table distilled from MiniLM in the index, MiniLM itself at the question.
    status = searcher.status()
    assert (status["model"], status["dim"], status["vector_index"]) == (*static_identity(DEFAULT_STATIC_DIR), "flat")
    embedder = searcher.answer_embedder
    assert embedder.name.startswith("all-MiniLM-L6-v2") and embedder.dim == 384
    assert max(embedder.count_tokens(c.embedding_text()) for c in searcher.iter_chunks()) <= 256
    hit = searcher.search("Hezbollah fire onto Tel Aviv if Beirut is struck", k=1, mode="hybrid")[0]
    assert hit.dense_score is not None and 0.2 < hit.dense_score <= 1.0
    # bm25 never embeds the query, so its hits carry no cosine (the CLI's bm25 search loads no model).
    lexical = searcher.search("Hezbollah fire onto Tel Aviv if Beirut is struck", k=1, mode="bm25")[0]
    assert lexical.dense_score is None and lexical.lexical_score and lexical.lexical_score > 0


def evaluate(searcher, mode: str, questions: list[dict]) -> dict[str, float]:
    at1 = at5 = reciprocal = 0.0
    for item in questions:
        hits = searcher.search(item["question"], k=10, mode=mode)
        first, last = item["lines"]
        rank = next(
            (
                h.rank
                for h in hits
                if h.chunk.source == item["source"]
                and h.chunk.start_line <= last
                and h.chunk.end_line >= first
            ),
            None,
        )
        at1 += rank == 1
        at5 += rank is not None and rank <= 5
        reciprocal += 1 / rank if rank else 0.0
    n = len(questions)
    return {"recall@1": at1 / n, "recall@5": at5 / n, "mrr": reciprocal / n}


def test_retrieval_quality_on_the_labelled_questions(searcher):
    questions = [
        json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    assert len(questions) >= 25
    results = {mode: evaluate(searcher, mode, questions) for mode in ("dense", "bm25", "hybrid")}
    print(f"\nretrieval on {len(questions)} questions ({searcher.chunk_count} chunks):")
    for mode, figures in results.items():
        print(
            f"  {mode:<7} recall@1 {figures['recall@1']:.3f}  recall@5 {figures['recall@5']:.3f}  "
            f"MRR {figures['mrr']:.3f}"
        )
    assert results["hybrid"]["recall@5"] >= 0.8
    assert all(figures["recall@5"] >= 0.6 for figures in results.values())
