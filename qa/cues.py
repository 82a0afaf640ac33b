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


# Head nouns of "which/what ... <noun>" questions, by the type of thing they ask for.
HEAD_NOUNS = {
    "person": _words(
        """person people man men woman women leader official commander journalist spokesman spokeswoman
        spokesperson officer player coach author reporter director executive ceo founder owner judge lawyer
        attorney politician minister actor actress artist singer user researcher researchers scientist senator
        engineer mp activist children child billionaire governor partner professor president candidate writer
        economist analyst doctor teacher student designer developer chef mayor manager chairman boss pair"""
    ),
    "organisation": _words(
        """company companies firm group organisation organization newspaper paper publication outlet magazine
        network channel agency party militia union bank team club school university college charity department
        ministry court retailer chain brand studio label manufacturer supplier station body institution
        publisher observatory journal platform tribe house lab laboratory startup airline broadcaster
        website site app service newspapers"""
    ),
    "place": _words(
        """city town village province governorate country region border crossing area place desert
        neighborhood neighbourhood state county island islands street district venue port airport base camp
        location beach hospital park river lake mountain restaurant building prison"""
    ),
    "date": _words("day date year month time decade century season"),
    "number": _words("percentage share total amount proportion price age rate rise fall figure sum cost"),
}
QUESTION_STOP = _words("did does do was were is are has have had can could will would should")
REASON_CUES = re.compile(
    r"\b(?:because|due to|owing to|in order to|so that|as a result|after|amid|citing|since|over|for fear"
    r"|in response to|in protest|to (?:avoid|prevent|protect|ensure|help|allow|stop|support|reduce|make))\b",
    re.IGNORECASE,
)


def answer_type(question: str) -> str:
    """What a question asks for: number, date, person, organisation, place, reason, or "" when unclear."""
    q = " ".join(_ALNUM_RUN.findall(fold(question)))
    if re.search(r"\bhow (many|much|large|big|long|far|old|tall|high|fast|often)\b|\bnumber of\b", q):
        return "number"
    head = _head_noun_type(q)
    if head:
        return head
    if re.search(r"\b(when|since when|in what year)\b", q):
        return "date"
    if re.search(r"\b(who|whom|whose)\b", q):
        return "person"
    if re.search(r"\bwhere\b", q):
        return "place"
    if re.search(r"\bwhy\b|\bwhat (led|caused|prompted|drove|made|was the reason|reason)\b"
                 r"|\bfor what reason\b|\bhow come\b", q):
        return "reason"
    return ""


def _head_noun_type(folded: str) -> str:
    """The type of the last known noun in the few words after "which"/"what" ("which Rhodium Group partner")."""
    words = folded.split()
    for i, word in enumerate(words):
        if word not in ("which", "what"):
            continue
        found = ""
        for following in words[i + 1:i + 6]:
            if following in QUESTION_STOP:
                break
            for kind, nouns in HEAD_NOUNS.items():
                if following in nouns:
                    found = kind
        if found:
            return found
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


def answer_phrase(kind: str, sentence: str, question: str, found=None) -> tuple[float, tuple[int, int] | None]:
    """How strongly `sentence` holds the thing asked for (0-1), and where: character offsets or None.

    `found` are the sentence's named entities (qa.entities); an entity of the asked type that the question
    does not already name counts fully. Without one, the hand cues give a weaker score (reasons are cues only).
    """
    if not kind:
        return 0.0, None
    asked = set(all_terms(question))
    if kind == "reason":
        match = REASON_CUES.search(sentence)
        if not match:
            return 0.0, None
        end = re.search(r"[,;:.!?]", sentence[match.end():])
        return 1.0, (match.start(), match.end() + end.start() if end else len(sentence.rstrip()))
    if found is not None:
        from qa.entities import LABELS_BY_TYPE

        labels = LABELS_BY_TYPE.get(kind, frozenset())
        fresh = [e for e in found if e.label in labels and not set(all_terms(e.text)) <= asked]
        if fresh:
            return 1.0, (fresh[0].start, fresh[0].end)
    strength = cue_strength(kind, sentence, question)
    if found is not None and kind in ("person", "organisation", "place"):
        # The model saw no name of the type: a capitalised run alone is weak evidence. Numerals and months
        # stay as the cues score them: the small model misses some ("withdrew 900 troops" has no CARDINAL).
        strength *= 0.5
    return strength, _cue_span(kind, sentence, asked) if strength else None


def _cue_span(kind: str, sentence: str, asked: set[str]) -> tuple[int, int] | None:
    """Offsets of the first number (number, date) or capitalised run (person, place) the question lacks."""
    if kind in ("number", "date"):
        for match in re.finditer(r"(?<![\w.])[$£€]?\d[\d,]*(?:\.\d+)?%?", sentence):
            if match.group().strip("$£€%").replace(",", "") not in asked:
                return match.start(), match.end()
        return None
    for match in CAPITALISED.finditer(sentence):
        if not set(all_terms(match.group())) <= asked:
            return match.start(), match.end()
    return None
