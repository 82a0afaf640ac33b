"""Typed records of the answering stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """A quoted passage that supports (part of) an answer; lines are 1-based, inclusive, in the raw file."""

    n: int
    source: str
    title: str
    start_line: int
    end_line: int
    quote: str
    supported: bool = True
    # [start, end) character offsets in `quote` of the answering phrase (the name, number, date, reason), or None.
    answer_span: tuple[int, int] | None = None

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "lines": [self.start_line, self.end_line],
            "quote": self.quote,
            "supported": self.supported,
            "answer_span": list(self.answer_span) if self.answer_span else None,
        }


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer, the citation numbers it carries, and whether the passages support it."""

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = True


# Between the phrase an extractive answer leads with and the sentence(s) quoted after it: Answer.answer reads
# "<phrase> — <sentence> [1]". The app and the Markdown and text renderings show the phrase on its own instead.
PHRASE_SEPARATOR = " — "


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    answerer: str = "extractive"
    note: str = ""  # e.g. "the generative answer had no supported sentence; showing the extractive answer"
    hits: tuple = field(default=(), compare=False, repr=False)  # the passages the answer was drawn from
    evidence: float = 0.0  # best cosine of question and retrieved passage (one signal of the abstention rule)
    # The date range read from the question and applied as a search filter: {"since": ..., "until": ...} or None.
    date_filter: dict | None = None
    # The signals the abstention rule combined, and its probability that the archive answers (qa.abstain).
    signals: dict | None = field(default=None, compare=False)
    # The phrase the answer leads with (the span reader's, qa.phrase; "" when there is none) and the reader's
    # confidence that it, not "no answer", is what the passages say (sigmoid of its null margin; None: no phrase).
    phrase: str = ""
    phrase_score: float | None = None

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "phrase": self.phrase or None,
            "phrase_score": round(float(self.phrase_score), 4) if self.phrase_score is not None else None,
            "abstained": self.abstained,
            "answerer": self.answerer,
            "note": self.note,
            "evidence": round(float(self.evidence), 4),
            "date_filter": self.date_filter,
            # The abstention rule's inputs and its p_answerable (docs/CLI.md), None when it did not run.
            "signals": self.signals,
            "citations": [c.to_json() for c in self.citations],
            "sentences": [
                {"text": s.text, "citations": list(s.citations), "supported": s.supported}
                for s in self.sentences
            ],
        }
