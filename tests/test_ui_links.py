"""Shareable answers (the URL's q, k and mode), citation exports, the Mentions tab and the new-build notice, in AppTest.

A real browser follows a link in tests/test_browser_links.py."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.settings import PROJECT_ROOT, Settings
from ui import links
from ui.exports import citations_csv, citations_json
from ui.index_notice import observe

APP = str(PROJECT_ROOT / "ui" / "app.py")
HEZBOLLAH = "What did Hezbollah threaten to do if central Beirut were struck?"


def test_parse_params_reads_and_checks_each_value():
    link = links.parse_params({"q": "  Who leads   Hezbollah? ", "k": "7", "mode": "BM25"})
    assert (link.q, link.k, link.mode, link.notes) == ("Who leads Hezbollah?", 7, "bm25", ())
    assert links.parse_params({"q": ["old", "new"]}).q == "new"  # a repeated key: the last one
    odd = links.parse_params({"q": "x", "k": "many", "mode": "fuzzy"})
    assert (odd.k, odd.mode) == (None, None) and len(odd.notes) == 2
    assert links.parse_params({"k": "99"}).k == 20 and links.parse_params({"k": "0"}).k == 1
    assert links.parse_params({}) == links.LinkParams()


def test_a_written_link_reads_back_the_same():
    link = links.link_for("Who leads Hezbollah & why?", 3, "dense")
    assert link.query_string() == "q=Who+leads+Hezbollah+%26+why%3F&k=3&mode=dense"
    assert links.parse_params(link.to_query()) == link


def test_the_link_is_read_once_per_session():
    session: dict = {}
    link = links.read_link_once(session, {"q": "Who?", "k": "4"})
    assert link is not None and links.linked_value(session, "k", 5) == 4
    assert links.linked_value(session, "mode", "hybrid") == "hybrid"
    assert links.take_pending_question(session) == "Who?" and links.take_pending_question(session) == ""
    assert links.read_link_once(session, {"q": "Again?"}) is None and links.take_pending_question(session) == ""


def test_index_update_notice_counts_added_articles():
    session: dict = {}
    assert observe(session, "build-1", 2, "2026-11-22T08:00:00+00:00") is None
    assert observe(session, "build-1", 2, "2026-11-22T08:00:00+00:00") is None
    update = observe(session, "build-2", 4, "2026-11-22T08:00:00+00:00")
    assert (update.added, update.removed, update.articles) == (2, 0, 4)
    from datetime import UTC, datetime

    text = update.text(datetime(2026, 11, 22, 8, 0, 42, tzinfo=UTC))
    assert text.startswith("Index updated 42 seconds ago: 2 articles added")
    assert observe(session, "build-3", 3, None).text(datetime.now(UTC)).startswith(
        "Index updated just now: 0 articles added, 1 removed")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Settings:
    from index.build import build_index

    root = tmp_path_factory.mktemp("ui-links")
    shutil.copytree(PROJECT_ROOT / "corpus", root / "archive")
    settings = Settings(archive_dir=root / "archive", index_dir=root / "index", embedding_backend="hashing")
    build_index(settings, progress=False)
    return settings


def _env(monkeypatch, settings: Settings) -> None:
    for key in list(os.environ):
        if key.startswith("ARCHIVE_QA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ARCHIVE_QA_ARCHIVE_DIR", str(settings.archive_dir))
    monkeypatch.setenv("ARCHIVE_QA_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("ARCHIVE_QA_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("ARCHIVE_QA_ABSTAIN_THRESHOLD", "0")


def test_opening_a_link_asks_its_question_with_its_settings(built, monkeypatch):
    _env(monkeypatch, built)
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"q": HEZBOLLAH, "k": "3", "mode": "bm25"})
    app.run()
    assert not app.exception, app.exception
    assert app.slider(key="opt_k").value == 3 and app.selectbox(key="opt_mode").value == "bm25"
    assert any(HEZBOLLAH in block.value for block in app.markdown)
    assert app.text_input(key="ask_question").value == HEZBOLLAH
    # Asking another question writes it, and the sidebar's settings, into the URL.
    app.text_input(key="ask_question").input("Who leads Hezbollah?")
    app.button(key="ask_submit").click().run()
    assert app.query_params["q"] in ("Who leads Hezbollah?", ["Who leads Hezbollah?"])
    assert app.query_params["mode"] in ("bm25", ["bm25"])


def test_mentions_tab_lists_articles(built, monkeypatch):
    _env(monkeypatch, built)
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.text_input(key="mentions_name").input("Harakat al-Nujaba")
    app.button(key="mentions_submit").click().run()
    assert not app.exception, app.exception
    assert any("mentions of" in block.value and "Nujaba" in block.value for block in app.caption)
    table = app.dataframe[0].value
    assert list(table["source"]) == ["002_257df2b6438dc5da.txt", "001_4b85ccf491a580e5.txt"]


def test_citation_exports(built):
    from index.search import Searcher
    from qa.answer import answer_question

    settings = built.model_copy(update={"abstain_threshold": 0.0})
    answer = answer_question(Searcher.open(settings), HEZBOLLAH, settings)
    assert answer.citations
    rows = list(csv.DictReader(io.StringIO(citations_csv(answer))))
    assert list(rows[0]) == ["question", "phrase", "phrase_score", "n", "source", "title", "start_line", "end_line",
                             "quote", "supported"]
    assert len(rows) == len(answer.citations)
    score = "" if answer.phrase_score is None else f"{answer.phrase_score:.4f}"
    assert all((row["phrase"], row["phrase_score"]) == (answer.phrase, score) for row in rows)
    document = json.loads(citations_json(answer))
    assert document["question"] == HEZBOLLAH and len(document["citations"]) == len(answer.citations)
    assert document["phrase"] == (answer.phrase or None) and "phrase_score" in document




def test_the_page_notices_a_build_made_elsewhere(built, monkeypatch, tmp_path):
    """A build from outside the app (archive-qa watch, cron) shows up on the next run, with what it added."""
    from index.build import build_index

    root = tmp_path / "copy"
    shutil.copytree(built.archive_dir, root / "archive")
    settings = Settings(archive_dir=root / "archive", index_dir=root / "index", embedding_backend="hashing")
    build_index(settings, progress=False)
    _env(monkeypatch, settings)
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not any("Index updated" in block.value for block in app.success)
    (settings.archive_dir / "009_new.txt").write_text(
        "Aid Convoy Reaches Deir ez-Zor\n\nMarch 5, 2024\n\nAn aid convoy reached the city on Tuesday.\n",
        encoding="utf-8")
    build_index(settings, progress=False)
    app.run()
    assert not app.exception, app.exception
    notices = [block.value for block in app.success if "Index updated" in block.value]
    assert notices and "seconds ago: 1 article added" in notices[0]
