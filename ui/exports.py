"""An answer's citations as CSV and JSON, offered beside the Markdown export."""

from __future__ import annotations

import csv
import io
import json

import streamlit as st

CITATION_COLUMNS = ("n", "source", "title", "start_line", "end_line", "quote", "supported")


def citations_csv(answer) -> str:
    """One row per citation; lines are 1-based and inclusive in the raw file (sed -n 'START,ENDp')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("question",) + CITATION_COLUMNS)
    for c in answer.citations:
        writer.writerow((answer.question, c.n, c.source, c.title, c.start_line, c.end_line, c.quote,
                         str(c.supported).lower()))
    return buffer.getvalue()


def citations_json(answer) -> str:
    """The answer as `archive-qa ask --json` prints it: question, answer, abstained and citations."""
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
