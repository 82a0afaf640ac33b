"""One record of a question, analysed once where it comes in and read by search, scoring, the reader and the
abstention rule (no stage works the type, focus terms, names or dates out again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.text import all_terms, fold, terms
from qa.cues import TIME_ASKED, answer_type, focus_terms, number_kind
from qa.dates import DateRange, question_dates
from qa.names import named_terms


@dataclass(frozen=True)
class Question:
    """What a question asks: its text and everything the answering stages read from it."""

    text: str
    kind: str  # expected answer type (qa.cues.answer_type): number, date, person, ... or "" when unclear
    focus: frozenset[str]  # the words naming what the answer is ("carriers" in "how many member carriers")
    number_kind: str  # for number questions: money, percent, count, age, or "" (any number)
    asked: frozenset[str]  # every word of the question, folded: an answer must add something to these
    content: frozenset[str]  # the question's content words (stemmed, no stopwords)
    names: tuple[str, ...]  # runs of capitalised words: the names it asks about (qa.names.named_terms)
    dates: DateRange | None  # the publication dates it restricts itself to ("since March 2024"), if any
    clock: bool  # it asks for a time of day ("what time", "at what hour")


def analyse_question(text: str, today: date | None = None) -> Question:
    """The question record of `text` (stripped); `today` anchors relative dates ("last week")."""
    text = text.strip()
    return Question(text=text, kind=answer_type(text), focus=focus_terms(text), number_kind=number_kind(text),
                    asked=frozenset(all_terms(text)), content=frozenset(terms(text)),
                    names=tuple(named_terms(text)), dates=question_dates(text, today),
                    clock=TIME_ASKED.search(fold(text)) is not None)
