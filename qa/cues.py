"""Answer-type cues: what kind of thing a question asks for, and how strongly a sentence holds one.

Pure functions over text: no I/O, no models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.text import all_terms, fold
from qa.terms import numbers


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())

NUMBER_WORDS = _words(
    """two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds
    thousand thousands million millions billion dozen dozens several"""
)
MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
WEEKDAYS = _words("monday tuesday wednesday thursday friday saturday sunday")
PERSON_TITLES = _words(
    """sheikh president minister spokesperson spokesman spokeswoman leader commander chief director envoy hajj
    speaker official officer journalist correspondent general colonel king prince emir secretary ambassador
    reporter analyst member head founder"""
)
PLACE_WORDS = _words(
    """province governorate city cities town towns village border borders crossing desert countryside region
    capital neighborhood neighbourhood airport country countries district area areas base bases front
    headquarters"""
)
YEAR = re.compile(r"^(1[89]|20)\d\d$")
CAPITALISED = re.compile(
    r"\b(?:[A-Z][\w'’-]*[a-z][\w'’-]*)(?:\s+(?:(?:al|el|bin|ibn|de|of)[-\s])?[A-Z][\w'’-]*)+"
)
PLACE_AFTER_PREPOSITION = re.compile(
    r"\b(?:in|at|near|from|to|into|towards?|across|along|inside|outside)\s+(?:the\s+)?([A-Z][\w'’-]+)"
)

_ALNUM_RUN = re.compile(r"[a-z0-9]+")


def answer_type(question: str) -> str:
    """The kind of thing a question asks for: number, person, place, date, or "" when unclear."""
    q = " ".join(_ALNUM_RUN.findall(fold(question)))
    if re.search(r"\bhow (many|much|large|big|long|far|old)\b|\bnumber of\b"
                 r"|\bwhat (percentage|share|total)\b", q):
        return "number"
    if re.search(r"\b(when|what (day|date|year|month)|which (day|date|year|month)|since when)\b", q):
        return "date"
    if re.search(r"\b(who|whom|whose)\b"
                 r"|\b(which|what) (person|leader|official|commander|journalist|spokes\w*)\b", q):
        return "person"
    if re.search(r"\bwhere\b|\b(which|what) (city|town|village|province|governorate|country|region|border"
                 r"|crossing|area|place|desert|neighbou?rhood)\b", q):
        return "place"
    return ""

def cue_strength(kind: str, sentence: str, question: str) -> float:
    """How strongly a sentence holds the kind of thing asked for (0-1); words of the question do not count."""
    if not kind:
        return 0.0
    asked = set(all_terms(question))
    words = all_terms(sentence)
    if kind == "number":
        found = {n for n in numbers(sentence) if n not in asked}
        if any(not YEAR.match(n) for n in found):
            return 1.0
        if any(w in NUMBER_WORDS for w in words if w not in asked):
            return 0.7
        return 0.3 if found else 0.0
    if kind == "date":
        fresh = [w for w in words if w not in asked]
        if any(w in MONTHS for w in fresh) or any(YEAR.match(n) for n in numbers(sentence) if n not in asked):
            return 1.0
        relative = {"yesterday", "week", "month", "year"}
        return 0.6 if any(w in WEEKDAYS or w in relative for w in fresh) else 0.0
    if kind == "person":
        names = [m for m in _capitalised_runs(sentence) if not set(all_terms(m)) <= asked]
        titled = any(w in PERSON_TITLES for w in words)
        if names and titled:
            return 1.0
        return 0.6 if names else 0.0
    if kind == "place":
        places = [p for p in PLACE_AFTER_PREPOSITION.findall(sentence) if not set(all_terms(p)) <= asked]
        if places:
            return 1.0
        return 0.5 if any(w in PLACE_WORDS for w in words if w not in asked) else 0.0
    return 0.0

def _capitalised_runs(sentence: str) -> Iterable[str]:
    # The first word of a sentence is capitalised anyway: only runs that start after it count.
    first_space = sentence.find(" ")
    for match in CAPITALISED.finditer(sentence):
        if match.start() > first_space:
            yield match.group()
