"""Answering (or searching) a whole file of questions with one loaded index and model.

Each question becomes one row: for `ask`, the `ask --json` document (plus `error` when it failed); for
`search`, the query and its `search --json` hits. A question that fails with a domain error (an empty or
malformed query, an unreachable generative backend) gets a row with the reason in `error` and the batch
goes on. Rows are written and flushed one by one, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ArchiveError
from qa.batch_io import RowWriter, read_items

# The phrase beside the answer it leads: a reader of the CSV finds the short answer next to the long one. A CSV
# written with the columns of before the phrase (no phrase, phrase_score) resumes: qa.batch_io adds them.
ASK_COLUMNS = ("question", "answer", "phrase", "phrase_score", "abstained", "sources", "lines", "quotes", "error")
SEARCH_COLUMNS = ("query", "hits", "sources", "lines", "texts", "error")


@dataclass(frozen=True)
class BatchSummary:
    total: int  # items in the input file
    skipped: int  # already in the output from an earlier run
    written: int
    failed: int  # rows written with an error
    added_columns: tuple[str, ...] = ()  # columns a CSV written by an earlier version lacked, added on resuming

    def line(self) -> str:
        added = (f"; added the columns {', '.join(self.added_columns)} (empty in the rows written before)"
                 if self.added_columns else "")
        return (f"{self.written} rows written ({self.failed} failed), {self.skipped} already done, "
                f"{self.total} in the input{added}")


def ask_rows(answer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSONL row (as `ask --json`, phrase and phrase_score included) and the CSV row of an answer."""
    row = answer.to_json()
    citations = answer.citations
    flat = {
        "question": answer.question,
        "answer": answer.answer,
        "phrase": answer.phrase,
        "phrase_score": "" if answer.phrase_score is None else f"{answer.phrase_score:.4f}",
        "abstained": str(answer.abstained).lower(),
        "sources": "; ".join(dict.fromkeys(c.source for c in citations)),
        "lines": "; ".join(f"[{c.n}] {c.source}:{c.start_line}-{c.end_line}" for c in citations),
        "quotes": "\n".join(f"[{c.n}] {c.quote}" for c in citations),
        "error": "",
    }
    return row, flat


def search_rows(query: str, hits) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSONL row ({"query", "hits": [as `search --json`]}) and the CSV row of a search."""
    row = {"query": query, "hits": [hit.to_json() for hit in hits]}
    flat = {
        "query": query,
        "hits": len(hits),
        "sources": "; ".join(dict.fromkeys(hit.chunk.source for hit in hits)),
        "lines": "; ".join(f"{hit.rank}. {hit.chunk.source}:{hit.chunk.start_line}-{hit.chunk.end_line}"
                           for hit in hits),
        "texts": "\n".join(f"{hit.rank}. {hit.chunk.text}" for hit in hits),
        "error": "",
    }
    return row, flat


RowFunction = Callable[[str], tuple[dict[str, Any], dict[str, Any]]]


def run_batch(questions_file: Path, out: Path | None, make_rows: RowFunction, *, key: str,
              columns: tuple[str, ...], limit: int | None = None, progress: bool = True) -> BatchSummary:
    """Write one row per item of `questions_file` not yet in `out`; at most `limit` new rows."""
    from tqdm import tqdm

    items = read_items(questions_file)
    writer = RowWriter(out, columns, key)
    try:
        pending = [item for item in items if not writer.already_done(item)]
        todo = pending if limit is None else pending[:limit]
        failed = 0
        for item in tqdm(todo, desc=key + "s", unit=key, file=sys.stderr, disable=not progress, dynamic_ncols=True):
            try:
                row, flat = make_rows(item)
            except ArchiveError as error:  # this item's own failure; the next one may well succeed
                failed += 1
                row, flat = {key: item, "error": error.one_line()}, {key: item, "error": error.one_line()}
            writer.write(row, flat)
    finally:
        writer.close()
    return BatchSummary(total=len(items), skipped=len(items) - len(pending), written=len(todo), failed=failed,
                        added_columns=writer.added_columns)
