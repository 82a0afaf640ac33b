"""`archive-qa articles --index`: what an index holds, shaped as the archive read, even after the archive changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive_qa.cli import main
from index.build import build_index


def articles(capsys, *args: str) -> tuple[int, list[dict], str]:
    status = main(["articles", *args, "--json"])
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if captured.out else []), captured.err


@pytest.fixture
def built(hashing_settings):
    """The sample archive copied and indexed (hashing embedder); `articles` itself runs with default settings."""
    build_index(hashing_settings, progress=False)
    return str(hashing_settings.archive_dir), str(hashing_settings.resolved_index_dir())


@pytest.mark.parametrize("text", [False, True])
def test_an_index_lists_what_the_archive_read_lists(built, capsys, text):
    archive, index = built
    extra = ("--text",) if text else ()
    status, from_archive, _ = articles(capsys, "--archive", archive, *extra)
    assert status == 0 and len(from_archive) >= 8
    status, from_index, err = articles(capsys, "--archive", archive, "--index", index, *extra)
    assert status == 0 and err == ""

    def key(rows: list[dict]) -> list[tuple]:
        return [(row["id"], row["source"], row["title"], row["lines"]) for row in rows]

    assert key(from_index) == key(from_archive)
    assert from_index == from_archive  # every field: paragraphs, date, outlet, caption, also_in (and text)


def test_an_index_lists_what_it_holds_not_the_archive_as_it_is_now(built, capsys):
    archive, index = built
    _, before, _ = articles(capsys, "--archive", archive)
    first = before[0]
    path = f"{archive}/{first['source']}"
    with open(path, encoding="utf-8") as handle:
        raw = handle.read()
    with open(path, "w", encoding="utf-8") as handle:  # a retitled article, and a new file
        handle.write(raw.replace(first["title"], "A Title Written After The Build", 1))
    with open(f"{archive}/zz_new.txt", "w", encoding="utf-8") as handle:
        handle.write("Arrived After The Build\n\nA paragraph about the quillwort sentinel, long enough to keep.\n")

    _, now, _ = articles(capsys, "--archive", archive)
    assert "A Title Written After The Build" in [row["title"] for row in now]
    assert "zz_new.txt" in [row["source"] for row in now]

    status, held, _ = articles(capsys, "--archive", archive, "--index", index)
    assert status == 0
    assert held == before  # the index still holds the archive as it was built


def test_a_missing_index_or_one_of_another_archive_is_one_clear_line(built, tmp_path, capsys):
    archive, index = built
    status, rows, err = articles(capsys, "--archive", archive, "--index", str(tmp_path / "nowhere"))
    assert status == 1 and rows == []
    assert len(err.strip().splitlines()) == 1
    assert "no index at" in err and "archive-qa build" in err

    other = tmp_path / "other-archive"
    other.mkdir()
    status, rows, err = articles(capsys, "--archive", str(other), "--index", index)
    assert status == 1 and rows == []
    assert len(err.strip().splitlines()) == 1
    assert f"was built from the archive {Path(archive).resolve()}" in err and "--archive" in err
