"""The command-line edge: fast help, one-line errors, settings precedence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive_qa.cli import main
from archive_qa.settings import load_settings


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
