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

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "lines": [self.start_line, self.end_line],
            "quote": self.quote,
            "supported": self.supported,
        }


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer, the citation numbers it carries, and whether the passages support it."""

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = True


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
    evidence: float = 0.0  # best cosine of question and retrieved passage: what abstention is decided on

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "answerer": self.answerer,
            "note": self.note,
            "evidence": round(float(self.evidence), 4),
            "citations": [c.to_json() for c in self.citations],
            "sentences": [
                {"text": s.text, "citations": list(s.citations), "supported": s.supported}
                for s in self.sentences
            ],
        }
