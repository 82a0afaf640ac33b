"""The command-line edge: fast help, one-line errors, settings precedence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive_qa.cli import main
from core.settings import load_settings


def test_help_does_not_import_heavy_libraries():
    probe = (
        "import sys, contextlib, io\n"
        "from archive_qa.cli import build_parser\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    build_parser().parse_args(['--help'])\n"
        "heavy = ('torch', 'faiss', 'streamlit', 'sentence_transformers')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", "import json\n" + probe], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_settings_precedence_file_then_env_then_flags(tmp_path, monkeypatch):
    config = tmp_path / "archive-qa.toml"
    config.write_text("top_k = 3\nrrf_k = 10\nport = 7000\n")
    monkeypatch.setenv("ARCHIVE_QA_RRF_K", "20")
    settings = load_settings(config, port=9000, top_k=None)
    assert (settings.top_k, settings.rrf_k, settings.port) == (3, 20, 9000)


def test_unknown_setting_in_file_is_refused(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("chunk_size_typo = 3\n")
    status = main(["articles", "--config", str(config), "--json"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "chunk_size_typo" in captured.err


def test_missing_archive_is_one_clear_line(tmp_path, capsys):
    status = main(["articles", "--archive", str(tmp_path / "nowhere"), "--json"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0]


@pytest.mark.parametrize("command", [["search", "anything"], ["ask", "anything?"]])
def test_missing_index_is_one_clear_line_that_says_how_to_build(tmp_path, capsys, command):
    status = main([*command, "--archive", str(Path("corpus").resolve()), "--index", str(tmp_path / "idx"), "--json"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "archive-qa build" in lines[0]


@pytest.mark.parametrize("flags", [["-k", "0"], ["-k", "-3"]])
def test_a_passage_count_below_one_is_a_usage_error(flags, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["search", "anything", *flags])
    assert caught.value.code == 2 and "must be 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["2024-13-45", "2024-02-30", "yesterday"])
def test_an_impossible_date_is_refused_not_an_empty_result(bad):
    from core.errors import InvalidQuery
    from index.search import _date_bound

    with pytest.raises(InvalidQuery):
        _date_bound(bad, end=False)
    assert _date_bound("2024-02", end=True) == "2024-02-31"  # a month bound compares as text: fine for ISO dates


def test_markdown_export_keeps_links_in_article_text_inert():
    from qa.records import Answer, Citation
    from qa.render import answer_to_markdown

    quote = "See [our tip line](http://phish.example) for more."
    answer = Answer(question="q?", answer=f"{quote} [1]", abstained=False,
                    citations=(Citation(1, "a.txt", "T", 1, 1, quote),))
    exported = answer_to_markdown(answer)
    assert "[our tip line](http" not in exported and r"\[our tip line\]\(http" in exported
