"""Turning a span reader's start/end logits into the phrase it reads, or "no answer".

Shared by the reader at answer time (qa.span_reader, ONNX Runtime) and its training script's held-out figures
(scripts/train_span_reader.py, torch), so both score a window the same way. Pure numpy, no model.

The null score is the first token's start + end logits (the [CLS] position, as SQuAD 2.0 readers are trained);
the best span is the highest start + end over context tokens with start <= end and at most `max_tokens` long.
The margin, best span minus null, is what the abstention rule reads: above 0 the reader prefers the span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_ANSWER_TOKENS = 30  # SQuAD answers are short; longer spans are almost always a run-on of two facts


@dataclass(frozen=True)
class SpanReading:
    """What the span reader found in one window: the phrase (character offsets into the window's text), its
    score, the null score and their difference. `start == end == 0` and `text == ""` when no span was possible."""

    text: str
    start: int
    end: int
    score: float
    null_score: float

    @property
    def margin(self) -> float:
        """Best span score minus the null score: how much more the reader believes the phrase than "no answer"."""
        return self.score - self.null_score


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, offsets: Sequence[tuple[int, int]],
              in_context: Sequence[bool], context: str, max_tokens: int = MAX_ANSWER_TOKENS) -> SpanReading:
    """The best-scoring span of context tokens and the null score, for one encoded (question, context) pair.

    `offsets` are each token's character offsets in `context` (meaningful where `in_context` is true).
    """
    start_logits = np.asarray(start_logits, dtype=np.float64).reshape(-1)
    end_logits = np.asarray(end_logits, dtype=np.float64).reshape(-1)
    null = float(start_logits[0] + end_logits[0])
    mask = np.asarray(in_context, dtype=bool)[: len(start_logits)]
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return SpanReading("", 0, 0, float("-inf"), null)
    starts = start_logits[positions]
    ends = end_logits[positions]
    # score[i, j] = start[i] + end[j] over context tokens, kept where i <= j < i + max_tokens.
    scores = starts[:, None] + ends[None, :]
    index = np.arange(positions.size)
    gap = index[None, :] - index[:, None]
    scores = np.where((gap >= 0) & (gap < max_tokens), scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    first, last = int(positions[i]), int(positions[j])
    char_start, char_end = whole_words(context, int(offsets[first][0]), int(offsets[last][1]))
    return SpanReading(context[char_start:char_end], char_start, char_end, float(scores[i, j]), null)


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to whole words: a span that starts or ends inside a word piece ("##rri") is read as the
    word it belongs to ("Berri"), never as a fragment."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end
