"""The Streamlit page driven by AppTest, on the bundled archive indexed with the hashing embedder."""

from __future__ import annotations

import os
import shutil
from html import escape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.settings import PROJECT_ROOT, Settings
from ui import resources

APP = str(PROJECT_ROOT / "ui" / "app.py")
CORPUS = PROJECT_ROOT / "corpus"
HEZBOLLAH = "What did Hezbollah threaten to do if central Beirut were struck?"
HEZBOLLAH_FILE = "001_4b85ccf491a580e5.txt"
UNANSWERABLE = "What is the capital of Australia?"


def _use(monkeypatch, settings: Settings, **extra: str) -> None:
    """Point the app at these settings the way `archive-qa serve` does: ARCHIVE_QA_* variables."""
    for key in list(os.environ):
        if key.startswith("ARCHIVE_QA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ARCHIVE_QA_ARCHIVE_DIR", str(settings.archive_dir))
    monkeypatch.setenv("ARCHIVE_QA_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("ARCHIVE_QA_EMBEDDING_BACKEND", "hashing")
    # Hashed words are no model of meaning, so abstention is forced or disabled here; the browser test
    # meets the calibrated threshold with the real model.
    monkeypatch.setenv("ARCHIVE_QA_ABSTAIN_THRESHOLD", "0")
    for key, value in extra.items():
        monkeypatch.setenv(f"ARCHIVE_QA_{key.upper()}", value)


def _settings(root: Path) -> Settings:
    archive = root / "archive"
    shutil.copytree(CORPUS, archive)
    return Settings(archive_dir=archive, index_dir=root / "index", embedding_backend="hashing")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Settings:
    from index.build import build_index

    settings = _settings(tmp_path_factory.mktemp("ui-app"))
    build_index(settings, progress=False)
    return settings


def _start(monkeypatch, settings: Settings, **extra: str) -> AppTest:
    _use(monkeypatch, settings, **extra)
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    return app


def _ask(app: AppTest, question: str) -> AppTest:
    app.text_input(key="ask_question").input(question)
    app.button(key="ask_submit").click().run()
    assert not app.exception, app.exception
    return app


def _html(app: AppTest) -> str:
    return "\n".join(element.value for element in app.get("html"))


def _texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def test_without_an_index_the_page_says_how_to_build_it_and_builds_it(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    app = _start(monkeypatch, settings)
    assert "No index yet" in _texts(app.info)
    command = _texts(app.code)
    assert f"archive-qa build --archive {settings.archive_dir} --index {settings.index_dir}" in command
    assert not [box for box in app.text_input if box.key == "ask_question"]  # nothing to ask yet

    app.button(key="build_now").click().run()
    job = resources.build_jobs().get(str(settings.index_dir))
    assert job is not None and job.wait(300), "the background build did not finish"
    assert job.error == ""
    app.run()
    assert not app.exception, app.exception
    assert app.text_input(key="ask_question")
    assert "Index rebuilt" in _texts(app.sidebar.success)
    assert [metric.value for metric in app.sidebar.metric][:1] == ["8"]  # articles


def test_asking_shows_the_answer_with_citations_that_open_on_their_evidence(built, monkeypatch):
    app = _ask(_start(monkeypatch, built), HEZBOLLAH)
    html = _html(app)
    assert 'class="aq-answer"' in html and 'class="aq-cite">[1]' in html
    answer = app.session_state["aq_history"][-1].answer
    if answer.phrase:  # the span reader's phrase leads, in bold, above the quote
        assert html.index(f'<div class="aq-phrase"><strong>{escape(answer.phrase)}</strong>') < html.index("aq-quoted")
    else:
        assert 'class="aq-phrase"' not in html
    labels = [expander.label for expander in app.expander if expander.label.startswith("**[")]
    assert labels and any(HEZBOLLAH_FILE in label for label in labels)
    assert "<mark>" in html  # the answering sentence highlighted in its passage
    assert "aq-in-passage" in html  # the whole article with the passage in place
    assert 'class="aq-cited"' in html  # the raw lines of the file
    assert any(button.label == "Export as Markdown" for button in app.get("download_button"))
    assert any("Hezbollah" in button.label for button in app.sidebar.button)  # the question history


def test_the_history_shows_an_earlier_answer_again(built, monkeypatch):
    app = _ask(_start(monkeypatch, built), HEZBOLLAH)
    first = [button for button in app.sidebar.button if button.key and button.key.startswith("history_")][0]
    _ask(app, "Who leads Harakat al-Nujaba?")
    assert "Nujaba" in _texts(app.markdown)
    app.button(key=first.key).click().run()
    headings = [m.value for m in app.markdown if str(m.value).startswith("#### ")]
    assert headings and "Hezbollah" in headings[0]


def test_a_question_the_archive_cannot_answer_is_plainly_declined(built, monkeypatch):
    app = _ask(_start(monkeypatch, built, abstain_threshold="0.99"), UNANSWERABLE)
    assert "No answer in the archive" in _texts(app.info)
    assert not [expander for expander in app.expander if expander.label.startswith("**[")]
    assert 'class="aq-answer"' not in _html(app)


def test_search_mode_lists_passages_with_their_files_and_lines(built, monkeypatch):
    app = _start(monkeypatch, built)
    app.text_input(key="search_query").input("training camps for Harakat al-Nujaba in the Homs desert")
    app.button(key="search_submit").click().run()
    assert not app.exception, app.exception
    html = _html(app)
    assert "aq-passage" in html and HEZBOLLAH_FILE.split("_")[0] in html
    assert "passages for" in _texts(app.caption)
    assert any(expander.label == "Whole article and raw lines" for expander in app.expander)


def test_filters_and_passage_count_reach_the_search(built, monkeypatch):
    app = _start(monkeypatch, built)
    app.slider(key="opt_k").set_value(2)
    app.text_input(key="opt_source").input("003_*")
    app.text_input(key="search_query").input("Hamas")
    app.button(key="search_submit").click().run()
    cards = [m.value for m in app.markdown if str(m.value)[:4] in ("**1.", "**2.", "**3.")]
    assert 1 <= len(cards) <= 2
    assert "003_" in _html(app) and "001_" not in _html(app)


def test_an_unreachable_generative_backend_falls_back_to_extractive_and_says_so(built, monkeypatch):
    app = _start(monkeypatch, built, llm_provider="ollama", llm_base_url="http://127.0.0.1:9",
                 llm_model="none")
    app.radio(key="opt_answerer").set_value("generative").run()
    _ask(app, HEZBOLLAH)
    assert "extractive answer" in _texts(app.warning)
    assert 'class="aq-answer"' in _html(app)


def test_a_changed_archive_offers_an_update(tmp_path, monkeypatch):
    from index.build import build_index

    settings = _settings(tmp_path)
    build_index(settings, progress=False)
    (settings.archive_dir / "005_new.txt").write_text(
        "A new article\n\nIt arrived after the index was built, on November 9, 2023.\n", encoding="utf-8"
    )
    app = _start(monkeypatch, settings)
    assert "archive has changed" in _texts(app.warning)
    assert app.button(key="stale_update")


def test_an_index_built_another_way_is_refused_with_a_full_rebuild_offered(built, monkeypatch):
    app = _start(monkeypatch, built, chunk_max_tokens="128", chunk_target_tokens="100")
    assert app.error, "an index built with other chunker settings must be refused"
    assert "--full" in _texts(app.code)
    assert app.button(key="build_now").label == "Rebuild the index from scratch"
