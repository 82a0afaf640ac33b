"""An answer's citations as CSV and JSON, offered beside the Markdown export."""

from __future__ import annotations

import csv
import io
import json

import streamlit as st

ANSWER_COLUMNS = ("question", "phrase", "phrase_score")  # the answer's, repeated on each citation's row
CITATION_COLUMNS = ("n", "source", "title", "start_line", "end_line", "quote", "supported")


def citations_csv(answer) -> str:
    """One row per citation, each led by the question, the answer's phrase and its confidence (empty when the
    answer has no phrase); lines are 1-based and inclusive in the raw file (sed -n 'START,ENDp')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ANSWER_COLUMNS + CITATION_COLUMNS)
    score = "" if answer.phrase_score is None else f"{answer.phrase_score:.4f}"
    for c in answer.citations:
        writer.writerow((answer.question, answer.phrase, score, c.n, c.source, c.title, c.start_line, c.end_line,
                         c.quote, str(c.supported).lower()))
    return buffer.getvalue()


def citations_json(answer) -> str:
    """The answer as `archive-qa ask --json` prints it: question, answer, phrase, phrase_score, abstained and
    citations."""
    return json.dumps(answer.to_json(), ensure_ascii=False, indent=2) + "\n"


def citation_downloads(entry, slug: str) -> None:
    """Two download buttons for the shown answer's citations."""
    left, right = st.columns(2)
    left.download_button("Citations as CSV", data=citations_csv(entry.answer), file_name=f"citations-{slug}.csv",
                         mime="text/csv", key=f"export_csv_{entry.id}", on_click="ignore",
                         icon=":material/table:")
    right.download_button("Answer and citations as JSON", data=citations_json(entry.answer),
                          file_name=f"answer-{slug}.json", mime="application/json", key=f"export_json_{entry.id}",
                          on_click="ignore", icon=":material/data_object:")
