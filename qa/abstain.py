"""Whether to answer: one calibrated decision over every evidence signal, and the one reason it gives.

A logistic rule, p(answerable) = sigmoid(b + w . signals), fitted on the calibration half of the web question
set (scripts/calibrate_abstention.py), for MiniLM's vectors and for the static model's (FITTED_RULES); each
coefficient can be replaced by a setting (core/settings.py).
No single signal vetoes an answer: a question whose names the passages spell differently can still be
answered when the passage and the sentence match it strongly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from qa.names import unmatched_names
from qa.question import Question

SIGNALS = ("passage", "sentence", "names", "typed", "linked", "reader", "span")


@dataclass(frozen=True)
class Signals:
    """The evidence an answer rests on, each in [0, 1]."""

    passage: float  # best cosine of the question and a retrieved passage
    sentence: float  # score of the best answering sentence (qa.extractive)
    names: float  # share of the question's names that the passages hold in some spelling (1 when it names none)
    typed: float  # the quoted sentences hold an entity of the asked type (1 when no type is asked for)
    # ... and it stands beside the question's own words (qa.cues.phrase_link; 1 when no type is asked for):
    # an in-domain question the archive cannot answer is often quoted a sentence that holds a number or name of
    # the asked type about something else ("how much did it pay" -> "it has a new date: March 31").
    linked: float = 1.0
    # The reader's probability that its best sentence answers the question (qa.reader; 0 when it is off).
    reader: float = 0.0
    # The span reader's confidence that its phrase, not "no answer", is what the passages say: sigmoid of its null
    # margin (qa.phrase; 0 when it is off). Low where the page is about the thing asked but does not state it.
    span: float = 0.0

    def as_vector(self) -> list[float]:
        return [self.passage, self.sentence, self.names, self.typed, self.linked, self.reader, self.span]

    def to_json(self) -> dict:
        return {key: round(value, 4) for key, value in asdict(self).items()}


def name_coverage(question: Question, passages: Sequence[str]) -> tuple[float, list[str]]:
    """Share of the question's names held by the passages, and the names none holds."""
    names = question.names
    if not names:
        return 1.0, []
    missing = unmatched_names(names, passages)
    return 1.0 - len(missing) / len(names), missing


# The rules, fitted with scripts/calibrate_abstention.py on eval runs with the rule off (docs/EVALUATION.md).
# MiniLM's (issue 24): passage, reader, linked and the span reader's confidence over "no answer", fitted on the
# calibration half of tests/eval/web_questions.jsonl together with the old set (tests/eval/questions.jsonl: fitted on
# the web half alone, the span signal refused 9 of its 62 answerable news questions); abstain under 0.3, as before.
# The static model's (fitted before the span reader): passage, reader, linked; its cosines separate answerable from
# unanswerable questions less well, so its passage weight is lower. Signals left out of a rule weigh 0.
FITTED_RULES: dict[str, dict[str, float]] = {
    "minilm": {"intercept": -3.686, "passage": 1.799, "reader": 3.386, "linked": 0.92, "span": 2.237},
    "static": {"intercept": -4.637, "passage": 2.711, "reader": 8.186, "linked": 0.906},
}


def fitted_rule(settings) -> dict[str, float]:
    """The rule fitted for the vectors of the configured backend (torch and both ONNX variants: MiniLM's).

    Static vectors with MiniLM at the question (minilm_at_question, index.question_encoder): the passage signal is
    MiniLM's cosine again, so MiniLM's rule applies.
    """
    static_cosines = getattr(settings, "embedding_backend", "") == "static" and not getattr(
        settings, "minilm_at_question", False)
    return FITTED_RULES["static" if static_cosines else "minilm"]


def coefficients(settings) -> tuple[float, list[float]]:
    """Intercept and weights: each set explicitly in the settings, else the one fitted for the backend."""
    rule = fitted_rule(settings)

    def pick(value: float | None, name: str) -> float:
        return float(value) if value is not None else rule.get(name, 0.0)

    weights = [pick(getattr(settings, f"abstain_weight_{name}"), name) for name in SIGNALS]
    return pick(settings.abstain_intercept, "intercept"), weights


def probability(signals: Signals, settings) -> float:
    """The rule's probability that the archive answers the question."""
    intercept, weights = coefficients(settings)
    z = intercept + sum(w * x for w, x in zip(weights, signals.as_vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def should_abstain(signals: Signals, settings) -> bool:
    return probability(signals, settings) < settings.abstain_probability


def not_stated(question: str, closest: str | None, source: str | None, missing: Sequence[str]) -> str:
    """The one reason given when the rule abstains: what the archive does not state, and what comes closest."""
    if missing and closest is None:
        return f"No retrieved passage mentions {', '.join(missing)}."
    if closest is None:
        return "No passage matched the question and filters."
    return (f"The archive does not state the answer to “{question.strip()}”; the closest passage"
            f"{f' ({source})' if source else ''} says: “{closest}”")
