"""Batch questions: TXT/CSV/JSONL in, JSONL/CSV out, one row per question, resumable, failures in their row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from archive_qa.cli import main
from core.errors import ArchiveError
from index.build import build_index
from qa.batch import run_batch
from qa.batch_io import BatchFileError, read_items

QUESTIONS = [
    "What did Hezbollah threaten to do if central Beirut were struck?",
    "Who leads Hezbollah?",
    "Where are Iran-backed militias deployed in Syria?",
    "What is the capital of Australia?",
    "Who leads Hezbollah?",  # asked twice: two rows
    "What happened in Deir ez-Zor?",
]


@pytest.fixture
def indexed(hashing_settings, monkeypatch):
    build_index(hashing_settings, progress=False)
    monkeypatch.setenv("ARCHIVE_QA_EMBEDDING_BACKEND", "hashing")
    return hashing_settings


def _cli(settings, *args: str) -> int:
    return main([*args, "--archive", str(settings.archive_dir), "--index", str(settings.index_dir), "--quiet"])


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_interrupted_batch_resumes_without_duplicates(indexed, tmp_path):
    questions, out = tmp_path / "questions.txt", tmp_path / "results.jsonl"
    questions.write_text("\n".join(QUESTIONS) + "\n\n", encoding="utf-8")
    assert _cli(indexed, "ask", "--questions", str(questions), "--out", str(out), "--limit", "3") == 0
    assert [row["question"] for row in _jsonl(out)] == QUESTIONS[:3]
    # A crash mid-row: the last line is cut in half.
    text = out.read_text(encoding="utf-8")
    out.write_text(text[: len(text) - 40], encoding="utf-8")
    assert _cli(indexed, "ask", "--questions", str(questions), "--out", str(out)) == 0
    rows = _jsonl(out)
    assert [row["question"] for row in rows] == QUESTIONS  # every question once, the cut one asked again
    for row in rows:
        assert {"question", "answer", "abstained", "citations"} <= set(row)
        for citation in row["citations"]:
            assert {"source", "lines", "quote"} <= set(citation)
    # Nothing left to do: a third run writes no row.
    assert _cli(indexed, "ask", "--questions", str(questions), "--out", str(out)) == 0
    assert len(_jsonl(out)) == len(QUESTIONS)


def test_csv_in_and_out_resumed(indexed, tmp_path):
    questions, out = tmp_path / "questions.csv", tmp_path / "results.csv"
    with questions.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question"])
        writer.writerows([[n, q] for n, q in enumerate(QUESTIONS[:4])])
    assert _cli(indexed, "ask", "--questions", str(questions), "--out", str(out), "--limit", "1") == 0
    assert _cli(indexed, "ask", "--questions", str(questions), "--out", str(out)) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["question"] for row in rows] == QUESTIONS[:4]
    assert {"question", "answer", "abstained", "sources", "lines", "quotes", "error"} <= set(rows[0])
    answered = [row for row in rows if row["abstained"] == "false"]
    assert answered and all(row["sources"] and row["lines"] for row in answered)


def test_search_queries_from_jsonl_to_stdout(indexed, tmp_path, capsys):
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"query": "Hezbollah Beirut"}\n"Nujaba"\n', encoding="utf-8")
    assert _cli(indexed, "search", "--queries", str(queries), "-k", "2") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["query"] for row in rows] == ["Hezbollah Beirut", "Nujaba"]
    assert all(len(row["hits"]) == 2 and {"source", "lines", "text"} <= set(row["hits"][0]) for row in rows)


def test_a_failing_row_is_reported_in_its_row_and_the_batch_goes_on(tmp_path):
    questions, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    questions.write_text("first\nbroken\nthird\n", encoding="utf-8")

    def rows(item: str):
        if item == "broken":
            raise ArchiveError("this one cannot be answered")
        return {"question": item, "answer": item.upper()}, {"question": item, "answer": item.upper()}

    summary = run_batch(questions, out, rows, key="question", columns=("question", "answer", "error"),
                        progress=False)
    assert (summary.written, summary.failed) == (3, 1)
    written = _jsonl(out)
    assert [row["question"] for row in written] == ["first", "broken", "third"]
    assert written[1]["error"] == "this one cannot be answered" and written[2]["answer"] == "THIRD"


def test_reading_items(tmp_path):
    text = tmp_path / "q.txt"
    text.write_text("\ufeffone\n\n  two  \n", encoding="utf-8")
    assert read_items(text) == ["one", "two"]
    bad = tmp_path / "q.csv"
    bad.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(BatchFileError, match="no question or query column"):
        read_items(bad)
    broken = tmp_path / "q.jsonl"
    broken.write_text('{"question": "ok"}\n{not json\n', encoding="utf-8")
    with pytest.raises(BatchFileError, match="q.jsonl:2"):
        read_items(broken)


def test_question_and_file_are_exclusive(indexed, tmp_path, capsys):
    questions = tmp_path / "q.txt"
    questions.write_text("x\n", encoding="utf-8")
    assert _cli(indexed, "ask", "a question", "--questions", str(questions)) == 2
    assert "either a QUESTION or --questions FILE" in capsys.readouterr().err
