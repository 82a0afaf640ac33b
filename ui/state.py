"""What one browser session remembers: the options it asks with and the answers it has seen."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

from core.errors import AnswererUnavailable
from index.records import Hit, SearchFilters
from qa.records import Answer

HISTORY_KEY = "aq_history"
SHOWN_KEY = "aq_shown"
SEARCH_KEY = "aq_search"
_ids = itertools.count(1)

# A plain dict in tests; st.session_state (a MutableMapping keyed by str | int) on the page.
Session: TypeAlias = MutableMapping[str, Any] | MutableMapping[str | int, Any]


@dataclass(frozen=True)
class AskOptions:
    """The sidebar's choices, as used for one question or search."""

    answerer: str = "extractive"
    k: int = 5
    mode: str = "hybrid"
    source_glob: str = ""
    since: date | None = None
    until: date | None = None

    def filters(self) -> SearchFilters:
        return SearchFilters(
            source_glob=self.source_glob.strip() or None,
            since=self.since.isoformat() if self.since else None,
            until=self.until.isoformat() if self.until else None,
        )

    def describe(self, *, answering: bool = True) -> str:
        parts = [f"{self.answerer} answerer"] if answering else []
        parts += [f"{self.mode}", f"k={self.k}"]
        if self.source_glob.strip():
            parts.append(f"source {self.source_glob.strip()}")
        if self.since or self.until:
            parts.append(f"{self.since or '…'} to {self.until or '…'}")
        return ", ".join(parts)


@dataclass(frozen=True)
class HistoryEntry:
    """One question asked in this session, with everything needed to show it again without recomputing."""

    question: str
    answer: Answer
    options: AskOptions
    warning: str = ""  # e.g. the generative backend was unreachable and the extractive answer is shown
    seconds: float = 0.0
    asked_at: datetime = field(default_factory=datetime.now)
    id: int = field(default_factory=lambda: next(_ids))


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[Hit, ...]
    options: AskOptions
    seconds: float = 0.0


AnswerFunction = Callable[..., Answer]


def ask_with_fallback(
    answer_question: AnswerFunction, searcher: Any, question: str, settings: Any, options: AskOptions
) -> tuple[Answer, str]:
    """Answer with the chosen answerer; if a generative backend cannot be reached, answer extractively.

    Returns the answer and a warning to show (empty when the chosen answerer answered).
    """
    arguments = {"k": options.k, "mode": options.mode, "filters": options.filters()}
    try:
        return answer_question(searcher, question, settings, answerer=options.answerer, **arguments), ""
    except AnswererUnavailable as error:
        if options.answerer == "extractive":
            raise
        answer = answer_question(searcher, question, settings, answerer="extractive", **arguments)
        warning = f"The generative answerer could not be reached ({error}). Showing the extractive answer."
        return answer, warning


def history(session: Session) -> list[HistoryEntry]:
    return session.setdefault(HISTORY_KEY, [])


def record(session: Session, entry: HistoryEntry) -> None:
    """Add an answered question to the history and show it."""
    history(session).append(entry)
    session[SHOWN_KEY] = entry.id


def show(session: Session, entry_id: int) -> None:
    session[SHOWN_KEY] = entry_id


def shown(session: Session) -> HistoryEntry | None:
    """The entry on display: the one last clicked or asked."""
    wanted = session.get(SHOWN_KEY)
    return next((entry for entry in history(session) if entry.id == wanted), None)


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started
