"""Batch questions: TXT/CSV/JSONL in, JSONL/CSV out, one row per question, resumable, failures in their row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from archive_qa.cli import main
from core.errors import ArchiveError
from index.build import build_index
from qa.batch import ASK_COLUMNS, SEARCH_COLUMNS, ask_rows, run_batch
from qa.batch_io import BatchFileError, read_items
from qa.records import Answer, AnswerSentence, Citation

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
        assert {"question", "answer", "phrase", "phrase_score", "abstained", "citations"} <= set(row)
        # Shaped like `ask --json`: a phrase leads the answer and has a score, or neither is there.
        assert (row["phrase"] is None) == (row["phrase_score"] is None)
        assert row["phrase"] is None or row["answer"].startswith(row["phrase"] + " — ")
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
    assert list(rows[0]) == ["question", "answer", "phrase", "phrase_score", "abstained", "sources", "lines",
                             "quotes", "error"]
    answered = [row for row in rows if row["abstained"] == "false"]
    assert answered and all(row["sources"] and row["lines"] for row in answered)
    for row in rows:
        assert bool(row["phrase"]) == bool(row["phrase_score"])
        assert not row["phrase"] or row["answer"].startswith(row["phrase"] + " — ")
        assert not row["phrase_score"] or 0.0 <= float(row["phrase_score"]) <= 1.0


def _answer(question: str, phrase: str = "", score: float | None = None) -> Answer:
    quote = f"{phrase or 'Nobody'} said so."
    return Answer(question, (f"{phrase} — " if phrase else "") + f"{quote} [1]", False,
                  (Citation(1, "a.txt", "T", 3, 4, quote, answer_span=(0, len(phrase)) if phrase else None),),
                  (AnswerSentence(quote, (1,)),), phrase=phrase, phrase_score=score)


def test_ask_rows_carry_the_phrase_and_its_score():
    row, flat = ask_rows(_answer("Who said so?", "Rami Abdul Rahman", 0.93456))
    assert (row["phrase"], row["phrase_score"]) == ("Rami Abdul Rahman", 0.9346)  # as `ask --json`
    assert tuple(flat) == ASK_COLUMNS  # one value per CSV column, in the columns' order
    assert (flat["phrase"], flat["phrase_score"]) == ("Rami Abdul Rahman", "0.9346")
    assert flat["answer"] == "Rami Abdul Rahman — Rami Abdul Rahman said so. [1]"
    row, flat = ask_rows(_answer("Who said so?"))
    assert (row["phrase"], row["phrase_score"], flat["phrase"], flat["phrase_score"]) == (None, None, "", "")


OLD_ASK_COLUMNS = ("question", "answer", "abstained", "sources", "lines", "quotes", "error")  # before the phrase


def test_a_csv_written_before_the_phrase_columns_resumes_with_them_added(tmp_path):
    questions, out = tmp_path / "q.txt", tmp_path / "answers.csv"
    questions.write_text("first?\nsecond?\n", encoding="utf-8")
    old_row = ("first?", "A, quoted [1]", "false", "a.txt", "[1] a.txt:3-4", "[1] line one\nline two", "")
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([OLD_ASK_COLUMNS, old_row])

    def rows(question: str):
        return ask_rows(_answer(question, "Rami", 0.5))

    summary = run_batch(questions, out, rows, key="question", columns=ASK_COLUMNS, progress=False)
    assert (summary.skipped, summary.written, summary.added_columns) == (1, 1, ("phrase", "phrase_score"))
    assert "added the columns phrase, phrase_score" in summary.line()
    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        written = list(reader)
    assert tuple(reader.fieldnames or ()) == ASK_COLUMNS
    assert written[0] == {**dict(zip(OLD_ASK_COLUMNS, old_row, strict=True)), "phrase": "", "phrase_score": ""}
    assert (written[1]["question"], written[1]["phrase"], written[1]["phrase_score"]) == ("second?", "Rami", "0.5000")
    # Once upgraded, a further run has nothing to add or ask.
    again = run_batch(questions, out, rows, key="question", columns=ASK_COLUMNS, progress=False)
    assert (again.written, again.added_columns) == (0, ())


def test_a_csv_of_other_columns_is_not_resumed_into(tmp_path):
    questions, out = tmp_path / "q.txt", tmp_path / "out.csv"
    questions.write_text("first?\n", encoding="utf-8")
    out.write_text(",".join(SEARCH_COLUMNS) + "\nfirst?,2,a.txt,,,\n", encoding="utf-8")  # a search batch's
    before = out.read_text(encoding="utf-8")
    with pytest.raises(BatchFileError, match="cannot resume .*out.csv: its columns .*move out.csv away"):
        run_batch(questions, out, lambda q: ask_rows(_answer(q)), key="question", columns=ASK_COLUMNS,
                  progress=False)
    assert out.read_text(encoding="utf-8") == before  # left as it was


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
