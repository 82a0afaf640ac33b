"""The main area: index states, ask mode, search mode, and each citation's evidence."""

from __future__ import annotations

import re
import shlex
from html import escape
from typing import Any

import streamlit as st

from core.errors import ArchiveError
from core.settings import Settings
from index.records import Hit
from qa.answer import ABSTAIN_MESSAGE
from qa.records import Answer, Citation
from qa.render import answer_to_markdown
from qa.sources import UnsafePath
from ui import exports, links, resources, state
from ui.evidence import describe_source, meta_parts, passage_for, read_raw_lines
from ui.index_notice import index_notice
from ui.jobs import BuildJob
from ui.markup import answer_html, article_html, md_code, md_escape, meta_html, passage_html, raw_lines_html
from ui.mentions import mentions_tab
from ui.sidebar import build_outcome, build_progress
from ui.state import AskOptions, HistoryEntry, SearchResult

# --- index states -------------------------------------------------------------------------------------------

def index_problem(settings: Settings, health: resources.IndexHealth, job: BuildJob | None) -> None:
    """What to do when there is no usable index: the command that builds it, and a button that does."""
    full = health.problem in ("mismatch", "corrupt")
    if health.problem == "missing":
        st.info(f"**No index yet** for the archive {md_code(str(settings.archive_dir))}. "
                "Build it here, or from a terminal:")
    elif health.problem == "error":
        st.error(health.message)
        return
    else:
        st.error(health.message)
        st.markdown("Rebuild it from scratch here, or from a terminal:")
    st.code(resources.build_command(settings, full=full), language="bash")
    if job is not None and job.running:
        build_progress(job.index_dir)
    else:
        label = "Rebuild the index from scratch" if full else "Build the index now"
        if st.button(label, key="build_now", type="primary"):
            resources.start_build(settings, full=full)
            st.rerun()
        build_outcome(job)


def stale_banner(settings: Settings, job: BuildJob | None) -> None:
    running = job is not None and job.running
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.warning("The archive has changed since the index was built: answers come from the previous "
                 "build until it is updated.")
    if right.button("Update index", key="stale_update", disabled=running, width="stretch"):
        resources.start_build(settings, full=False)
        st.rerun()


def _date_range_words(date_filter: dict) -> str:
    since, until = date_filter.get("since"), date_filter.get("until")
    if since and until:
        return f"from {since} to {until}"
    return f"since {since}" if since else f"until {until}"


# --- evidence ----------------------------------------------------------------------------------------------

def _quotes_in(passage: Hit | None, citation: Citation, citations: tuple[Citation, ...]) -> list[str]:
    """The answering sentences to highlight in a passage: every citation's quote drawn from it."""
    if passage is None:
        return [citation.quote]
    chunk = passage.chunk
    return [
        other.quote for other in citations
        if other.source == chunk.source and chunk.start_line <= other.start_line
        and other.end_line <= chunk.end_line
    ] or [citation.quote]


def whole_article(searcher: Any, passage: Hit | None, quotes: list[str]) -> None:
    if passage is None:
        st.caption("The passage of this citation is not among the retrieved passages.")
        return
    article = searcher.article(passage.chunk.article_id)
    if article is None:
        st.caption("This article is no longer in the index; rebuild to refresh.")
        return
    st.html(meta_html(meta_parts(article.outlet, article.date),
                      describe_source(article.source, *article.lines)))
    st.html(article_html(article, (passage.chunk.start_line, passage.chunk.end_line), quotes))


def raw_lines(settings: Settings, source: str, start_line: int, end_line: int) -> None:
    try:
        lines = read_raw_lines(settings.archive_dir, source, start_line, end_line, context=2)
    except UnsafePath as error:
        st.error(f"Not shown: {error}.")
        return
    except OSError as error:
        st.warning(f"The file could not be read: {error.strerror or error}.")
        return
    if not lines:
        st.warning(f"{source} has fewer than {start_line} lines now; the archive changed since the build.")
        return
    st.html(raw_lines_html(lines))
    command = f"sed -n '{start_line},{end_line}p' {shlex.quote(source)}"
    st.caption(f"{md_code(command)} in the archive folder prints the cited lines.")


def citation_evidence(entry: HistoryEntry, citation: Citation, settings: Settings, searcher: Any) -> None:
    """One citation, collapsed to its title and location, opening to passage, article and raw lines."""
    answer = entry.answer
    passage = passage_for(citation.source, citation.start_line, citation.end_line, answer.hits)
    location = describe_source(citation.source, citation.start_line, citation.end_line)
    flag = " · :red[unsupported]" if not citation.supported else ""
    label = f"**[{citation.n}]** {md_escape(citation.title or citation.source)} · {md_code(location)}{flag}"
    with st.expander(label, key=f"cite_{entry.id}_{citation.n}"):
        chunk = passage.chunk if passage else None
        if chunk is not None and (chunk.outlet or chunk.date):
            st.html(meta_html(meta_parts(chunk.outlet, chunk.date)))
        if passage is not None and passage.also_in:
            st.html(f'<div class="aq-also">Also in: {escape(", ".join(passage.also_in))}</div>')
        quotes = _quotes_in(passage, citation, answer.citations)
        tab_passage, tab_article, tab_raw = st.tabs(
            ["Passage", "Whole article", "Raw file lines"], key=f"cite_tabs_{entry.id}_{citation.n}"
        )
        with tab_passage:
            st.html(passage_html(chunk.text if chunk else citation.quote, quotes))
        with tab_article:
            whole_article(searcher, passage, quotes)
        with tab_raw:
            raw_lines(settings, citation.source, citation.start_line, citation.end_line)


# --- ask ---------------------------------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "answer"


def show_answer(entry: HistoryEntry, settings: Settings, searcher: Any) -> None:
    answer: Answer = entry.answer
    st.markdown(f"#### {md_escape(entry.question)}")
    st.caption(f"{md_escape(entry.options.describe())} · {entry.seconds:.1f} s"
               f" · asked {entry.asked_at:%H:%M:%S}")
    if entry.warning:
        st.warning(entry.warning)
    if answer.note and not answer.abstained:
        st.info(answer.note)
    if answer.date_filter:
        st.caption(f"Searched articles published {_date_range_words(answer.date_filter)} "
                   f"(from “{md_escape(answer.date_filter.get('phrase', ''))}” in the question).")
    if answer.abstained:
        with st.container(key="abstention"):
            # One reason, stated once: the abstention rule's own (qa.abstain), not a second threshold figure.
            st.info(f"**No answer in the archive.** {md_escape(answer.note or answer.answer or ABSTAIN_MESSAGE)}",
                    icon="🔎")
        if answer.hits:
            with st.expander("Closest passages (too weak to count as evidence)", key=f"closest_{entry.id}"):
                for hit in answer.hits:
                    passage_card(hit, settings, searcher, key=f"closest_{entry.id}_{hit.rank}", more=False)
    else:
        with st.container(key="answer"):
            st.html(answer_html(answer))
        if any(not sentence.supported for sentence in answer.sentences):
            st.caption("Sentences underlined in red are not supported by the passages they cite.")
        if answer.citations:
            st.markdown("##### Evidence")
            with st.container(key="citations"):
                for citation in answer.citations:
                    citation_evidence(entry, citation, settings, searcher)
    st.download_button(
        "Export as Markdown", data=answer_to_markdown(answer), file_name=f"answer-{_slug(entry.question)}.md",
        mime="text/markdown", key=f"export_{entry.id}", on_click="ignore", icon=":material/download:",
    )
    exports.citation_downloads(entry, _slug(entry.question))


def ask_tab(settings: Settings, searcher: Any, options: AskOptions) -> None:
    with st.form("ask_form", border=False, enter_to_submit=True):
        left, right = st.columns([6, 1], vertical_alignment="bottom")
        question = left.text_input("Question", key="ask_question",
                                   placeholder="Ask the archive a question, e.g. who, what, where, how many…")
        submitted = right.form_submit_button("Ask", type="primary", key="ask_submit", width="stretch")
    linked = "" if submitted else links.take_pending_question(st.session_state)  # a shared link's question
    if linked:
        question, submitted = linked, True
    if submitted and question and question.strip():
        try:
            working = ("Searching the archive; the language model writes the answer (its first use loads it, "
                       "which can take a minute)…" if options.answerer == "generative"
                       else "Searching the archive and choosing the sentences that answer…")
            with st.spinner(working):
                (answer, warning), seconds = state.timed(
                    lambda: resources.answer(searcher, question.strip(), settings, options)
                )
        except ArchiveError as error:
            st.error(str(error))
            return
        state.record(st.session_state, HistoryEntry(question.strip(), answer, options, warning, seconds))
        links.write_link(st.query_params, question.strip(), options.k, options.mode)
    entry = state.shown(st.session_state)
    if entry is None:
        st.caption("Answers quote the archive; every sentence carries a citation that opens on the passage, "
                   "the whole article and the raw lines of its file.")
        return
    show_answer(entry, settings, searcher)


# --- search ------------------------------------------------------------------------------------------------

def passage_card(hit: Hit, settings: Settings, searcher: Any, *, key: str, more: bool = True) -> None:
    chunk = hit.chunk
    location = describe_source(chunk.source, chunk.start_line, chunk.end_line)
    with st.container(border=True, key=key):
        st.markdown(f"**{hit.rank}. {md_escape(chunk.title or chunk.source)}**")
        st.html(meta_html(meta_parts(chunk.outlet, chunk.date, f"score {hit.score:.3f}"), location))
        st.html(passage_html(chunk.text))
        if hit.also_in:
            st.html(f'<div class="aq-also">Also in: {escape(", ".join(hit.also_in))}</div>')
        if more:
            with st.expander("Whole article and raw lines", key=f"{key}_more"):
                tab_article, tab_raw = st.tabs(["Whole article", "Raw file lines"], key=f"{key}_tabs")
                with tab_article:
                    whole_article(searcher, hit, [])
                with tab_raw:
                    raw_lines(settings, chunk.source, chunk.start_line, chunk.end_line)


def search_tab(settings: Settings, searcher: Any, options: AskOptions) -> None:
    with st.form("search_form", border=False, enter_to_submit=True):
        left, right = st.columns([6, 1], vertical_alignment="bottom")
        query = left.text_input("Search passages", key="search_query",
                                placeholder="Names, places, events… passages only, no answer")
        submitted = right.form_submit_button("Search", key="search_submit", width="stretch")
    if submitted and query and query.strip():
        try:
            with st.spinner("Searching…"):
                hits, seconds = state.timed(lambda: searcher.search(
                    query.strip(), k=options.k, mode=options.mode, filters=options.filters()))
        except ArchiveError as error:
            st.error(str(error))
            return
        st.session_state[state.SEARCH_KEY] = SearchResult(query.strip(), tuple(hits), options, seconds)
    result: SearchResult | None = st.session_state.get(state.SEARCH_KEY)
    if result is None:
        return
    st.caption(f"{len(result.hits)} passages for “{md_escape(result.query)}” · "
               f"{md_escape(result.options.describe(answering=False))} · {result.seconds:.2f} s")
    if not result.hits:
        st.info("No passage matches. Loosen the filters or try other words.")
    for hit in result.hits:
        passage_card(hit, settings, searcher, key=f"hit_{hit.rank}")


# --- page --------------------------------------------------------------------------------------------------

def main_area(settings: Settings, health: resources.IndexHealth, job: BuildJob | None,
              options: AskOptions) -> None:
    counts = ""
    if health.searcher is not None:
        status = health.searcher.status()
        counts = f" · {status.get('articles', '?')} articles, {status.get('chunks', '?')} passages"
    st.markdown("### Archive QA")
    st.caption(f"Questions answered from {md_code(str(settings.archive_dir))}{counts}, "
               "every claim cited to file and lines.")
    if health.searcher is None:
        index_problem(settings, health, job)
        return
    if health.problem:
        st.error(health.message)
    if health.stale:
        stale_banner(settings, job)
    index_notice(settings, health)
    ask, search, mentions = st.tabs(["Ask", "Search passages", "Mentions"], key="aq_mode")
    with ask:
        ask_tab(settings, health.searcher, options)
    with search:
        search_tab(settings, health.searcher, options)
    with mentions:
        mentions_tab(settings, health.searcher)
