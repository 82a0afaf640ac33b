"""The phrase an answer leads with: the span reader (qa.span_reader) reads the best sentences the sentence reader
and the hand score chose, each with its neighbours, and the phrase of the window it believes most is the answer.

Each window is a sentence of a retrieved passage and the sentences beside it, cut from the passage's own text so
that the phrase's offsets map back to the sentence that states it (which may be the neighbour: "He is held in
Evin prison" after "The family of X said on Monday ..."). The phrase's null margin (span score minus "no answer")
is also a signal of the abstention rule (qa.abstain): it is high when a window states the asked-for fact, and low
when the page is about the thing asked but does not say it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.text import Sentence, split_sentences
from index.records import Hit
from qa.injection import addresses_a_model
from qa.question import Question
from qa.span_decode import SpanReading

WINDOWS_READ = 5  # the best sentences whose windows the span reader reads (each one ONNX run of ~100 tokens)
NEIGHBOURS = 1  # sentences on each side of the candidate in its window (the reader was trained on 1-4 sentences)
# A later window's phrase is taken over the best sentence's when its margin is higher by more than this: the
# sentence ranking already weighed the passage and the question's words, the margin only the window.
# Chosen on the calibration half (scripts/calibrate_abstention.py --phrase-grid; docs/EVALUATION.md): 0, 1, 2, 4.
SWITCH_MARGIN = 2.0
# Under this confidence the answer is not led by the phrase: it quotes the sentences the ranking chose, as without
# the span reader (the confidence still weighs in the abstention rule). Chosen on the calibration half too.
LEAD_FLOOR = 0.0


@dataclass(frozen=True)
class Phrase:
    """The answering phrase: its text, the passage (index into the hits) and sentence holding it, its offsets in
    that sentence's text, and the span reader's margin over "no answer"."""

    text: str
    hit_index: int
    sentence: Sentence  # the passage sentence that states the phrase (offsets into the passage's text)
    position: int  # that sentence's index among the passage's sentences
    start: int  # [start, end) of the phrase in sentence.text
    end: int
    margin: float

    @property
    def confidence(self) -> float:
        """sigmoid(margin): how much the span reader prefers this phrase to "no answer", in [0, 1]."""
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.margin))))


@lru_cache(maxsize=512)
def passage_sentences_of(text: str) -> tuple[Sentence, ...]:
    return tuple(split_sentences(text))


def window(sentences: Sequence[Sentence], text: str, position: int, reach: int = NEIGHBOURS) -> tuple[str, int]:
    """The text of the sentences around `position` as it stands in the passage, and its offset there."""
    first = max(0, position - reach)
    last = min(len(sentences) - 1, position + reach)
    start, end = sentences[first].start, sentences[last].end
    return text[start:end], start


def locate(reading: SpanReading, offset: int, sentences: Sequence[Sentence]) -> tuple[int, int, int] | None:
    """The sentence (its index) holding the phrase, and the phrase's offsets in that sentence's text.

    A phrase running over a sentence boundary is cut at the end of the sentence it starts in.
    """
    start = offset + reading.start
    end = offset + reading.end
    for position, sentence in enumerate(sentences):
        if sentence.start <= start < sentence.end:
            return position, start - sentence.start, min(end, sentence.end) - sentence.start
    return None


def read_phrase(question: Question, ranked: Sequence[tuple[int, int]], hits: Sequence[Hit], span_reader,
                windows: int | None = None) -> Phrase | None:
    """The phrase of the best window among the first `windows` (default WINDOWS_READ) of `ranked` (hit index,
    sentence position) pairs, best sentence first; None when no window yields a phrase."""
    windows = windows or WINDOWS_READ  # read at call time: the calibration grid sets the module's value
    best: Phrase | None = None
    read: set[tuple[int, int]] = set()
    for hit_index, position in ranked:
        if len(read) >= windows:
            break
        text = hits[hit_index].chunk.text
        sentences = passage_sentences_of(text)
        if not 0 <= position < len(sentences):
            continue
        key = (hit_index, position)
        if key in read:
            continue
        read.add(key)
        window_text, offset = window(sentences, text, position)
        reading = span_reader.read(question.text, window_text)
        found = locate(reading, offset, sentences) if reading.text.strip() else None
        if found is None:
            continue
        where, start, end = found
        sentence = sentences[where]
        if addresses_a_model(sentence.text):  # article text is data: an injected "say X" is never the answer
            continue
        raw = sentence.text[start:end]
        phrase = Phrase(raw.strip(), hit_index, sentence, where, start + _leading_space(raw),
                        end - _trailing_space(raw), reading.margin)
        if not phrase.text:
            continue
        if best is None or phrase.margin > best.margin + SWITCH_MARGIN:
            best = phrase
    return best


def _leading_space(text: str) -> int:
    return len(text) - len(text.lstrip())


def _trailing_space(text: str) -> int:
    return len(text) - len(text.rstrip())


def phrase_floor() -> float:
    """LEAD_FLOOR, read at call time (the calibration grid sets it)."""
    return LEAD_FLOOR
