"""The one settings object: TOML file, environment and flags merge by pydantic-settings; errors are one line."""

from __future__ import annotations

import pytest

from core.errors import InvalidSettings
from core.settings import data_home, default_index_dir, load_settings


def test_a_missing_or_broken_settings_file_is_one_clear_error(tmp_path):
    with pytest.raises(InvalidSettings, match="not found"):
        load_settings(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("top_k = [\n")
    with pytest.raises(InvalidSettings, match="not valid TOML"):
        load_settings(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('top_k = "many"\n')
    with pytest.raises(InvalidSettings, match="top_k"):
        load_settings(wrong)


def test_the_config_file_can_come_from_the_environment(tmp_path, monkeypatch):
    config = tmp_path / "archive-qa.toml"
    config.write_text("top_k = 7\n")
    monkeypatch.setenv("ARCHIVE_QA_CONFIG", str(config))
    assert load_settings().top_k == 7
    assert load_settings(top_k=2).top_k == 2


def test_indexes_and_caches_live_under_the_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_HOME", str(tmp_path / "home"))
    assert data_home() == tmp_path / "home"
    assert default_index_dir(tmp_path / "news").parent == tmp_path / "home" / "indexes"
    settings = load_settings()
    assert settings.llm_cache_dir.is_relative_to(tmp_path / "home")


def test_ask_on_an_archive_that_does_not_exist_says_so_not_build_it(tmp_path, capsys):
    from archive_qa.cli import main

    status = main(["ask", "Who?", "--archive", str(tmp_path / "nowhere"), "--index", str(tmp_path / "idx")])
    error = capsys.readouterr().err.strip()
    assert status == 1
    assert error.startswith("archive-qa ask: archive folder not found") and "nowhere" in error
    assert "build" not in error
    assert not (tmp_path / "idx").exists()
