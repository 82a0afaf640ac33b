"""Session state, the generative fallback and background builds of the app, with fakes (no Streamlit run)."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from core.errors import AnswererUnavailable, IndexLocked
from core.settings import Settings
from qa.records import Answer
from ui import state
from ui.jobs import BuildJobs
from ui.state import AskOptions, HistoryEntry


def test_options_become_search_filters():
    options = AskOptions(source_glob=" 00[12]_* ", since=date(2023, 11, 1), until=None)
    filters = options.filters()
    assert (filters.source_glob, filters.since, filters.until) == ("00[12]_*", "2023-11-01", None)
    assert AskOptions().filters().is_empty()
    assert "source 00[12]_*" in options.describe()


def test_an_unreachable_generative_backend_falls_back_to_extractive():
    calls = []

    def answer_question(searcher, question, settings, *, answerer, **_):
        calls.append(answerer)
        if answerer == "generative":
            raise AnswererUnavailable("connection refused by http://127.0.0.1:11434")
        return Answer(question=question, answer="quoted [1]", abstained=False, answerer=answerer)

    generative = AskOptions(answerer="generative")
    answer, warning = state.ask_with_fallback(answer_question, None, "q", None, generative)
    assert calls == ["generative", "extractive"]
    assert answer.answerer == "extractive"
    assert "could not be reached" in warning and "connection refused" in warning

    answer, warning = state.ask_with_fallback(answer_question, None, "q", None, AskOptions())
    assert warning == "" and calls[-1] == "extractive"


def test_an_extractive_failure_is_not_hidden():
    def answer_question(*_, **__):
        raise AnswererUnavailable("broken")

    with pytest.raises(AnswererUnavailable):
        state.ask_with_fallback(answer_question, None, "q", None, AskOptions())


def test_history_records_and_shows_entries_again():
    session: dict = {}
    first = HistoryEntry("first?", Answer(question="first?", answer="a", abstained=False), AskOptions())
    second = HistoryEntry("second?", Answer(question="second?", answer="b", abstained=True), AskOptions())
    state.record(session, first)
    state.record(session, second)
    assert state.shown(session) is second
    state.show(session, first.id)
    assert state.shown(session) is first
    assert [entry.question for entry in state.history(session)] == ["first?", "second?"]


def _settings(tmp_path) -> Settings:
    return Settings(archive_dir=tmp_path, index_dir=tmp_path / "index", embedding_backend="hashing")


def test_one_build_per_index_runs_in_the_background_with_progress(tmp_path):
    release = threading.Event()
    finished = []

    def build(settings, *, full, progress, on_progress):
        for done in range(1, 4):
            on_progress(done, 3)
        release.wait(10)
        return type("Report", (), {"summary": lambda self: "3 chunks embedded"})()

    jobs = BuildJobs()
    job = jobs.start(_settings(tmp_path), full=False, build=build, on_finish=finished.append)
    again = jobs.start(_settings(tmp_path), full=True, build=build)
    assert again is job and job.running  # a second press joins the running build
    release.set()
    assert job.wait(10)
    assert (job.done, job.total, job.fraction, job.summary, job.error) == (3, 3, 1.0, "3 chunks embedded", "")
    assert finished == [job]
    assert jobs.get(job.index_dir) is job


def test_a_failed_build_reports_one_line(tmp_path):
    def build(settings, **_):
        raise IndexLocked("another build holds the index lock\nsecond line")

    job = BuildJobs().start(_settings(tmp_path), full=False, build=build)
    assert job.wait(10)
    # The same one line a terminal shows (ArchiveError.one_line): the reason's lines joined, nothing dropped.
    assert job.error == "another build holds the index lock second line"
    assert not job.running
