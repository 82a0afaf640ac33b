"""The sidebar: index status and rebuild, answering options and filters, and the session's questions."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from core.settings import Settings
from qa.answer import ANSWERERS
from qa.records import Answer
from qa.render import answer_to_markdown
from ui import resources, state
from ui.jobs import BuildJob
from ui.links import linked_value
from ui.markup import md_code, md_escape
from ui.state import AskOptions

MODES = ("hybrid", "dense", "bm25")
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)


def short_model(name: str) -> str:
    """A readable model name: the last two parts of a local folder path."""
    parts = Path(name).parts
    return "/".join(parts[-2:]) if len(parts) > 2 else name


def when(value: Any) -> str:
    """A build time as `YYYY-MM-DD HH:MM (N min ago)`; epoch seconds or ISO text accepted."""
    try:
        moment = (
            datetime.fromtimestamp(float(value))
            if isinstance(value, int | float)
            else datetime.fromisoformat(str(value))
        )
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value or "unknown")
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    minutes = int((datetime.now() - moment).total_seconds() // 60)
    ago = "just now" if minutes < 1 else f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"
    return f"{moment:%Y-%m-%d %H:%M} ({ago})"


@st.fragment(run_every=1.0)
def build_progress(index_dir: str) -> None:
    """A progress bar that follows a background build and reloads the page when it ends."""
    job = resources.build_jobs().get(index_dir)
    if job is None:
        return
    if job.running:
        st.progress(job.fraction, text=job.progress_text())
    else:
        st.rerun()


def build_outcome(job: BuildJob | None) -> None:
    """How the last build from this page ended, while it is news."""
    if job is None or job.running:
        return
    if job.error:
        st.error(f"The last build failed: {job.error}")
    elif job.finished_at and time.time() - job.finished_at < 120:
        st.success("Index rebuilt.")
        if job.summary:
            st.caption(md_escape(job.summary))


def index_panel(settings: Settings, health: resources.IndexHealth, job: BuildJob | None) -> None:
    st.subheader("Index")
    if health.searcher is not None:
        status = health.searcher.status()
        left, right = st.columns(2)
        left.metric("Articles", status.get("articles", "?"))
        right.metric("Chunks", status.get("chunks", "?"))
        model = str(status.get("model", settings.embedding_model))
        st.caption(
            f"Model: {md_code(short_model(model))}  \n"
            f"Last build: {md_escape(when(status.get('built_at')))}  \n"
            f"Vector index: {md_escape(str(status.get('vector_index', '?')))}",
            help=f"Model: {model}",
        )
        if health.stale:
            st.caption(":orange[The archive changed since this build.]")
    else:
        st.caption("No usable index yet.")
    st.caption(f"Archive: {md_code(str(settings.archive_dir))}",
               help=f"Index: {settings.resolved_index_dir()}")

    running = job is not None and job.running
    if job is not None and job.running and health.problem == "":
        build_progress(job.index_dir)
    left, right = st.columns(2)
    if left.button("Update index", key="rebuild", disabled=running,
                   help="Embed only added or changed articles, drop removed ones (archive-qa build)."):
        resources.start_build(settings, full=False)
        st.rerun()
    if right.button("Full rebuild", key="rebuild_full", disabled=running,
                    help="Re-embed every article from scratch (archive-qa build --full)."):
        resources.start_build(settings, full=True)
        st.rerun()
    build_outcome(job)


def options_panel(settings: Settings) -> AskOptions:
    st.subheader("Answering")
    answerer = st.radio(
        "Answerer", ANSWERERS, index=ANSWERERS.index(settings.answerer), key="opt_answerer", horizontal=True,
        help="Extractive quotes the archive verbatim and is always available; generative writes an answer "
        "with a language model and checks every sentence against the passages it cites.",
    )
    k = st.slider("Passages", 1, 20, value=linked_value(st.session_state, "k", min(max(settings.top_k, 1), 20)),
                  key="opt_k",
                  help="How many passages search returns and the answerer reads.")
    linked_mode = linked_value(st.session_state, "mode", settings.search_mode)
    mode = st.selectbox("Ranking", MODES, index=MODES.index(linked_mode), key="opt_mode",
                        help="hybrid fuses meaning (embeddings) and exact words (BM25).")
    with st.expander("Filters", expanded=False, key="filters"):
        source = st.text_input("Source files", key="opt_source", placeholder="e.g. 001_*.txt or 2024/*",
                               help="A glob on the file path relative to the archive.")
        since = st.date_input("Dated on or after", value=None, min_value=EARLIEST, max_value=LATEST,
                              key="opt_since", format="YYYY-MM-DD",
                              help="With a date set, articles that state no date are left out.")
        until = st.date_input("Dated on or before", value=None, min_value=EARLIEST, max_value=LATEST,
                              key="opt_until", format="YYYY-MM-DD")
    return AskOptions(answerer=answerer, k=int(k), mode=mode, source_glob=source or "",
                      since=since if isinstance(since, date) else None,
                      until=until if isinstance(until, date) else None)


def history_panel(slot: Any) -> None:
    """The session's questions, newest first; drawn last, into `slot`, so a question just asked is listed."""
    entries = state.history(st.session_state)
    if not entries:
        return
    with slot:
        history_list(entries)


def history_outcome(answer: Answer) -> str:
    """What an earlier question got, for its tooltip in the history: the phrase (else the answer's beginning),
    or that the archive had no answer."""
    if answer.abstained:
        return "No answer in the archive"
    if answer.phrase:
        return f"Answer: **{md_escape(answer.phrase)}**"
    text = answer.answer if len(answer.answer) <= 80 else answer.answer[:77] + "…"
    return f"Answer: {md_escape(text)}"


def history_list(entries: list[state.HistoryEntry]) -> None:
    st.subheader("This session")
    current = st.session_state.get(state.SHOWN_KEY)
    for entry in reversed(entries):
        label = entry.question if len(entry.question) <= 70 else entry.question[:67] + "…"
        text = md_escape(label)
        st.button(
            f"**{text}**" if entry.id == current else text, key=f"history_{entry.id}", type="tertiary",
            help=f"{history_outcome(entry.answer)} · Asked {entry.asked_at:%H:%M:%S} · {entry.options.describe()}",
            on_click=state.show, args=(st.session_state, entry.id),
        )
    document = "\n\n---\n\n".join(answer_to_markdown(entry.answer) for entry in entries)
    st.download_button("Export session as Markdown", data=document, file_name="archive-qa-session.md",
                       mime="text/markdown", key="export_session", on_click="ignore")


def render_sidebar(
    settings: Settings, health: resources.IndexHealth, job: BuildJob | None
) -> tuple[AskOptions, Any]:
    """Draw the sidebar; return the options the page asks and searches with, and the history's slot."""
    with st.sidebar:
        index_panel(settings, health, job)
        st.divider()
        options = options_panel(settings)
        history_slot = st.container(key="history")
    return options, history_slot
