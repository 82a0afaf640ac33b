"""What the server loads once and shares between sessions: settings, the searcher (index and model), builds.

`st.cache_resource` keeps one searcher per index folder, model and index build, so the second
question of any session answers at once; a finished rebuild clears it so the next question sees
the new index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import ArchiveError, BuildCommand, IndexCorrupt, IndexMismatch, IndexMissing
from core.settings import Settings, load_settings
from ui.jobs import BuildJob, BuildJobs
from ui.state import AskOptions, ask_with_fallback


def current_settings() -> Settings:
    """The settings of this server process (ARCHIVE_QA_* variables and the optional TOML file)."""
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("ARCHIVE_QA_")))
    return _settings_for(environment)


@st.cache_resource(show_spinner=False, max_entries=8)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings()


def index_stamp(index_dir: Path) -> str:
    """Changes whenever a build swaps in a new index, so a searcher opened before it is not reused."""
    from index.publish import MANIFEST, resolve_build_dir

    build_dir = resolve_build_dir(index_dir)
    if build_dir is None:
        return "missing"
    try:
        return f"{build_dir}@{(build_dir / MANIFEST).stat().st_mtime_ns}"
    except OSError:
        return f"{build_dir}@unreadable"


@st.cache_resource(show_spinner=False, max_entries=2)
def _embedder(model: str, backend: str, batch_size: int, _settings: Settings) -> Any:
    """One model for every session of this server process, loading in the background from the first page on.

    The page does not wait for it: only the first search that needs a vector does. The embedder takes turns
    between threads itself (index/embed.py).
    """
    from index.embed import BackgroundEmbedder

    return BackgroundEmbedder(_settings)


TORCH_FREE_BACKENDS = ("static", "hashing")  # the static index + MiniLM through ONNX Runtime at the question


def start_loading_model(settings: Settings) -> None:
    """Start loading the embedding model, the question-time MiniLM, the reader and spaCy now (cheap after the first
    call of the process)."""
    _embedder(settings.embedding_model, settings.embedding_backend, settings.embed_batch_size, settings)
    if settings.reader:
        _reader_prefetch(str(settings.reader_dir or ""))
    _torch_free_prefetch(settings.embedding_backend in TORCH_FREE_BACKENDS, settings.embedding_backend == "static"
                         and settings.minilm_at_question, settings)


@st.cache_resource(show_spinner=False, max_entries=2)
def _torch_free_prefetch(torch_free: bool, minilm: bool, _settings: Settings) -> Any:
    """Once per process: spaCy imported without torch when nothing else needs torch (as `archive-qa ask` does),
    and the question-time MiniLM (index.question_encoder) loading in the background."""
    from qa.entities import available, import_spacy_without_torch, prefetch_pipeline

    if torch_free:
        import_spacy_without_torch()
    if available():
        prefetch_pipeline()
    if minilm:
        from index.question_encoder import prefetch_encoder

        prefetch_encoder(_settings)
    return True


@st.cache_resource(show_spinner=False, max_entries=2)
def _reader_prefetch(reader_dir: str) -> Any:
    from qa.reader import prefetch_reader

    return prefetch_reader(reader_dir or None)


@st.cache_resource(show_spinner="Opening the index…", max_entries=4)
def _open_searcher(index_dir: str, stamp: str, fingerprint: str, _settings: Settings) -> Any:
    from index.search import Searcher

    if stamp == "missing":  # says so (IndexMissing) without loading the model first
        return Searcher.open(_settings)
    embedder = _embedder(_settings.embedding_model, _settings.embedding_backend, _settings.embed_batch_size,
                         _settings)
    return Searcher.open(_settings, embedder=embedder)


def open_searcher(settings: Settings) -> Any:
    """The shared searcher for these settings; raises IndexMissing, IndexMismatch or IndexCorrupt.

    Keyed by index folder, the build it serves, and every setting (model, chunker, ...), so a changed
    setting is checked against the index again instead of reusing a searcher opened under others.
    """
    index_dir = settings.resolved_index_dir()
    fingerprint = settings.model_dump_json()
    return _open_searcher(str(index_dir.resolve()), index_stamp(index_dir), fingerprint, settings)


@st.cache_data(show_spinner=False, ttl=30, max_entries=16)
def _archive_changed(archive_dir: str, index_dir: str, stamp: str, _settings: Settings) -> bool:
    from index.build import archive_changed

    return bool(archive_changed(_settings))


@dataclass(frozen=True)
class IndexHealth:
    """Whether the page can answer, and if not, why."""

    searcher: Any = None
    problem: str = ""  # "", "missing", "mismatch", "corrupt" or "error"
    message: str = ""
    stale: bool = False


def index_health(settings: Settings) -> IndexHealth:
    try:
        searcher = open_searcher(settings)
    except IndexMissing as error:
        return IndexHealth(problem="missing", message=error.reason)
    except IndexMismatch as error:
        return IndexHealth(problem="mismatch", message=error.reason)
    except IndexCorrupt as error:
        return IndexHealth(problem="corrupt", message=error.reason)
    except ArchiveError as error:
        return IndexHealth(problem="error", message=error.one_line())
    index_dir = settings.resolved_index_dir()
    try:
        stale = _archive_changed(
            str(settings.archive_dir.resolve()), str(index_dir.resolve()), index_stamp(index_dir), settings
        )
    except ArchiveError as error:
        return IndexHealth(searcher=searcher, problem="error", message=error.one_line())
    return IndexHealth(searcher=searcher, stale=stale)


@st.cache_resource(show_spinner="Loading the language model…", max_entries=2)
def _chat_model(provider: str, model: str, base_url: str, max_new_tokens: int, _settings: Settings) -> Any:
    """One generative backend per server process; a failed load is not cached, so it is retried next time."""
    from qa.generative import make_chat_model

    return make_chat_model(_settings)


def answer(searcher: Any, question: str, settings: Settings, options: AskOptions):
    """Answer a question, falling back to the extractive answerer when a generative one is unreachable."""
    from qa.answer import answer_question

    def answer_with_shared_model(searcher: Any, question: str, settings: Settings, *, answerer: str,
                                 **arguments: Any):
        chat_model = None
        if answerer == "generative":
            chat_model = _chat_model(settings.llm_provider, settings.llm_model, settings.llm_base_url,
                                     settings.llm_max_new_tokens, settings)
        return answer_question(searcher, question, settings, answerer=answerer, chat_model=chat_model,
                               **arguments)

    return ask_with_fallback(answer_with_shared_model, searcher, question, settings, options)


@st.cache_resource(show_spinner=False)
def build_jobs() -> BuildJobs:
    """The one build registry of this server process."""
    return BuildJobs()


def forget_loaded_index(_job: BuildJob | None = None) -> None:
    """Drop the cached searcher and staleness, so every session opens the freshly built index."""
    _open_searcher.clear()
    _archive_changed.clear()


def start_build(settings: Settings, *, full: bool) -> BuildJob:
    """Run the same build as `archive-qa build [--full]` in a background thread.

    The build loads its own copy of the model, so questions keep their shared one to themselves meanwhile.
    """
    from index.build import build_index

    return build_jobs().start(settings, full=full, build=build_index, on_finish=forget_loaded_index)


def build_command(settings: Settings, *, full: bool = False) -> str:
    """The shell command that builds this index, for users who prefer a terminal or cron (core.errors renders it)."""
    return BuildCommand(settings.archive_dir, settings.resolved_index_dir(), full=full).shell()
