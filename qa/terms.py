"""Lexical matching of questions and claims against passages, on the index's own terms (core.text).

A term matches exactly (1.0) or as a transliteration variant (0.7): the same word skeleton, or the
skeleton of two neighbouring words run together ("Abu Kamal" / "Bukamal").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from core.text import skeleton, term_forms, terms

NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


class Vocabulary:
    """What a text holds for matching: its terms, the skeletons of its words, and of neighbouring pairs."""

    def __init__(self, text: str, extra: Iterable[str] = ()):
        forms = term_forms(text)
        self.tokens = set(forms.terms) | set(extra)
        stemmed = list(forms.terms)
        self.skeletons = (
            set(forms.skeletons)
            | {skeleton(term) for term in self.tokens}
            | {skeleton(a) + skeleton(b) for a, b in zip(stemmed, stemmed[1:], strict=False)}
        )

    def match(self, term: str, previous: str = "") -> float:
        """1 for the term itself, 0.7 for a transliteration variant, else 0."""
        if term in self.tokens:
            return 1.0
        # Three consonants at least: with two, "lead" (ld) would meet "allied" and "Saudi" (sd) "sides".
        shape = skeleton(term)
        if len(term) >= 4 and len(shape) >= 3 and shape in self.skeletons:
            return 0.7
        joined = skeleton(previous) + shape if previous else ""
        if len(joined) >= 4 and joined in self.skeletons:
            return 0.7
        return 0.0


def question_terms(text: str) -> list[tuple[str, str]]:
    """Distinct content terms of a question, each with the term before it (for names run together)."""
    found: dict[str, str] = {}
    sequence = terms(text)
    for i, term in enumerate(sequence):
        found.setdefault(term, sequence[i - 1] if i else "")
    return list(found.items())


class TermMatcher:
    """Weighted overlap of a question's content terms with candidate texts; rarer terms weigh more."""

    def __init__(self, question_terms: Sequence[tuple[str, str]], pool: Sequence[str]):
        """`question_terms`: the question's terms as qa.terms.question_terms gives them (Question.terms)."""
        self.terms = list(question_terms)
        vocabularies = [Vocabulary(text) for text in pool]
        total = len(vocabularies)
        self.weights = {}
        for term, previous in self.terms:
            df = sum(1 for vocabulary in vocabularies if vocabulary.match(term, previous))
            self.weights[term] = math.log(1 + (total + 1) / (df + 0.5))

    def coverage(self, text: str) -> float:
        """Share of the question's term weight found in `text` (exact 1, transliteration variant 0.7)."""
        total = sum(self.weights.values())
        if total == 0:
            return 0.0
        vocabulary = Vocabulary(text)
        found = sum(self.weights[term] * vocabulary.match(term, previous) for term, previous in self.terms)
        return found / total


def token_overlap(claim: str, evidence: str) -> float:
    """Share of the claim's content terms that the evidence holds (transliteration variants count)."""
    claim_terms = question_terms(claim)
    if not claim_terms:
        return 0.0
    vocabulary = Vocabulary(evidence)
    return sum(vocabulary.match(term, previous) for term, previous in claim_terms) / len(claim_terms)


def jaccard(first: str, second: str) -> float:
    a, b = set(terms(first)), set(terms(second))
    return len(a & b) / len(a | b) if a | b else 0.0


def numbers(text: str) -> set[str]:
    """Numerals written with digits, without thousands separators."""
    return {match.replace(",", "").rstrip(".") for match in NUMBER.findall(text)}
