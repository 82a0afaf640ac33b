"""The Mentions tab: every article naming a person, group or place, in every spelling, by date."""

from __future__ import annotations

import csv
import io
import json
import re
from html import escape
from typing import Any

import streamlit as st

from core.errors import ArchiveError
from ui.markup import md_code, md_escape

RESULT_KEY = "aq_mentions"
SHOWN_ARTICLES = 50  # articles opened as passages; the table lists them all


def mentions_csv(report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("date", "outlet", "title", "source", "count", "lines", "also_in"))
    for article in report.articles:
        spans = "; ".join(f"{start}-{end}" for start, end in article.lines)
        writer.writerow((article.date, article.outlet, article.title, article.source, article.count, spans,
                         "; ".join(article.also_in)))
    return buffer.getvalue()


def timeline(report) -> None:
    """Mentions per month, as a bar chart (Vega-Lite through st.bar_chart)."""
    months = report.per_month()
    if not months:
        st.caption("No mentioning article carries a date, so there is no timeline.")
        return
    import pandas as pd

    frame = pd.DataFrame({"month": [month for month, _ in months], "mentions": [count for _, count in months]})
    st.bar_chart(frame, x="month", y="mentions", height=220)
    undated = sum(article.count for article in report.articles if len(article.date) < 7)
    if undated:
        st.caption(f"{undated} mentions in undated articles are not on the timeline.")


def _highlight(text: str, spellings: tuple[str, ...]) -> str:
    if not spellings:
        return escape(text)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True)))
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append(escape(text[last:match.start()]) + f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    return "".join(parts) + escape(text[last:])


def article_passages(searcher: Any, article, spellings: tuple[str, ...]) -> None:
    record = searcher.article(article.article_id)
    spans = set(article.lines)
    paragraphs = [p for p in (record.paragraphs if record else ()) if (p.start_line, p.end_line) in spans]
    for paragraph in paragraphs:
        where = f"{article.source}:{paragraph.start_line}" + (
            f"-{paragraph.end_line}" if paragraph.end_line != paragraph.start_line else "")
        st.html(f'<div class="aq-passage"><small><code>{escape(where)}</code></small><br>'
                f"{_highlight(paragraph.text, spellings)}</div>")


def results(report, searcher: Any) -> None:
    st.caption(f"**{report.total}** mentions of “{md_escape(report.name)}” in **{len(report.articles)}** articles"
               + (f" · searched as {', '.join(md_code(form) for form in report.forms)}" if report.forms else ""))
    if not report.articles:
        st.info("No article names it. Try another spelling, or add a short form as an alias.")
        return
    st.markdown("**Spellings found:** " + ", ".join(md_code(spelling) for spelling in report.spellings))
    timeline(report)
    import pandas as pd

    table = pd.DataFrame([{
        "date": article.date or "undated", "outlet": article.outlet, "title": article.title,
        "source": article.source, "mentions": article.count,
        "lines": ", ".join(f"{s}" if s == e else f"{s}-{e}" for s, e in article.lines),
        "also in": ", ".join(article.also_in),
    } for article in report.articles])
    st.dataframe(table, hide_index=True, width="stretch", key="mentions_table")
    left, right = st.columns(2)
    slug = re.sub(r"[^a-z0-9]+", "-", report.name.lower()).strip("-")[:40] or "name"
    left.download_button("Mentions as CSV", data=mentions_csv(report), file_name=f"mentions-{slug}.csv",
                         mime="text/csv", key="mentions_csv", on_click="ignore")
    right.download_button("Mentions as JSON", data=json.dumps(report.to_json(), ensure_ascii=False, indent=2),
                          file_name=f"mentions-{slug}.json", mime="application/json", key="mentions_json",
                          on_click="ignore")
    for number, article in enumerate(report.articles[:SHOWN_ARTICLES]):
        label = f"{article.date or 'undated'} · {md_escape(article.title or article.source)} · {article.count}"
        with st.expander(label, key=f"mention_article_{number}"):
            if article.also_in:
                st.caption(f"Also in: {md_escape(', '.join(article.also_in))}")
            article_passages(searcher, article, report.spellings)
    if len(report.articles) > SHOWN_ARTICLES:
        st.caption(f"The first {SHOWN_ARTICLES} articles are shown as passages; the table and downloads hold all.")


def mentions_tab(settings: Any, searcher: Any) -> None:
    from index.mentions import find_mentions

    with st.form("mentions_form", border=False, enter_to_submit=True):
        left, middle, right = st.columns([4, 3, 1], vertical_alignment="bottom")
        name = left.text_input("Name", key="mentions_name", placeholder="A person, group or place, e.g. Hezbollah")
        aliases = middle.text_input("Also count (comma-separated)", key="mentions_aliases",
                                    placeholder="short forms, e.g. KH, Nujaba")
        submitted = right.form_submit_button("Find", key="mentions_submit", width="stretch")
    if submitted and name and name.strip():
        try:
            report = find_mentions(searcher, name.strip(), [a.strip() for a in (aliases or "").split(",")])
        except ArchiveError as error:
            st.error(str(error))
            return
        st.session_state[RESULT_KEY] = report
    shown = st.session_state.get(RESULT_KEY)
    if shown is None:
        st.caption("Every article and passage naming someone or something, in every spelling the index folds "
                   "together (Hezbollah, Hizbullah, Hizb Allah), counted once per near-duplicate, by date.")
        return
    results(shown, searcher)
