"""Answer-type cues: how strongly a sentence holds the kind of thing a question asks for, where, and how closely it
stands to the question's own words (what the question asks is its record's, qa.question).

Pure functions over text: no I/O, no models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.text import all_terms, split_words, stem
from qa.question import Question
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



QUOTED = re.compile(r"[“\"‘]([^”\"’]{2,60})[”\"’]|\(([A-Z][^)]{1,60})\)")
NAMED_TYPES = frozenset({"person", "organisation", "place"})
REASON_CUES = re.compile(
    r"\b(?:because|due to|owing to|in order to|so that|as a result|after|amid|citing|since|over|for fear"
    r"|in response to|in protest|to (?:avoid|prevent|protect|ensure|help|allow|stop|support|reduce|make))\b",
    re.IGNORECASE,
)


def cue_strength(question: Question, sentence: str) -> float:
    """How strongly a sentence holds the kind of thing asked for (0-1); words of the question do not count."""
    kind = question.kind
    if not kind:
        return 0.0
    asked = question.asked
    words = all_terms(sentence)
    if kind == "number":  # numbers have their own scorer, which knows which number is asked for
        return number_phrase(question, sentence, None)[0]
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
    if kind == "name":
        if _name_span(sentence, asked, quoted_only=True):
            return 1.0
        return 0.6 if _name_span(sentence, asked) else 0.0
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


# What a number question asks for, beyond "a number": the amount of money asked by "how much did it cost",
# the share asked by "what percentage", the count asked by "how many". Each prefers the entities (spaCy
# labels) and written forms of its own kind; another number counts only partly (OTHER_NUMBER), and a numeral
# inside a date ("March 31, 2021") or a list's own numbering ("3. How long ...") does not count at all.
MONEY_FORM = re.compile(r"[$£€¥₹]\s?\d|\d\s*(?:million|billion|bn|m|k)?\s*(?:dollars|euros|pounds|yuan|yen|rupees"
                        r"|francs|pesos|usd|eur|gbp)\b", re.IGNORECASE)
PERCENT_FORM = re.compile(r"\d\s*(?:%|percent\b|per cent\b|percentage points?\b)", re.IGNORECASE)
NUMBER_LABELS: dict[str, frozenset[str]] = {
    "money": frozenset({"MONEY"}),
    "percent": frozenset({"PERCENT"}),
    "count": frozenset({"CARDINAL", "QUANTITY"}),
    "age": frozenset({"CARDINAL", "DATE"}),
    "": frozenset({"CARDINAL", "MONEY", "QUANTITY", "PERCENT"}),
}
# Labels whose numerals answer no count or amount: the 31 of "March 31, 2021", the 10 of "10:00 a.m.".
DATE_LABELS = frozenset({"DATE", "TIME"})
OTHER_NUMBER = 0.4  # a number of another kind than asked (a count where money was asked for)
LIST_NUMBER = re.compile(r"^\s*\d{1,3}[.)]\s")


def _numerals(sentence: str) -> list[tuple[int, int]]:
    """Offsets of the digit numerals of a sentence, a list's leading "3." excluded."""
    skip = LIST_NUMBER.match(sentence)
    return [(m.start(), m.end()) for m in re.finditer(r"(?<![\w.])[$£€¥₹]?\d(?:[\d,]*\d)?(?:\.\d+)?%?", sentence)
            if not (skip and m.start() < skip.end())]


def number_phrase(question: Question, sentence: str, found) -> tuple[float, tuple[int, int] | None]:
    """How strongly a sentence holds the number asked for (0-1), and where.

    An entity or written form of the asked kind (money, percent, count, age) that the question does not hold
    counts fully; a number of another kind counts OTHER_NUMBER; numerals inside dates or times, years, and a
    list's own numbering do not count (for a count, "March 31" is no answer to "how many").
    """
    kind = question.number_kind
    asked = question.asked
    listed = LIST_NUMBER.match(sentence)
    entities = [e for e in found or () if not (listed and e.start < listed.end())]

    def fresh(start: int, end: int) -> bool:
        words = set(all_terms(sentence[start:end]))
        return bool(words) and not words <= asked

    # Numerals that cannot answer this kind: inside a date or time, and for a count inside an amount or share.
    excluded = DATE_LABELS | ({"MONEY", "PERCENT"} if kind == "count" else set())

    def in_other(start: int, end: int) -> bool:
        return any(e.label in excluded and e.start <= start and end <= e.end for e in entities)

    def counts(text: str) -> bool:
        return kind != "count" or not re.search(r"[$£€¥₹%]", text)

    wanted = NUMBER_LABELS.get(kind, NUMBER_LABELS[""])
    for entity in entities:
        if (entity.label in wanted and fresh(entity.start, entity.end) and not YEAR.match(entity.text.strip(" ,."))
                and (kind != "age" or re.search(r"\d", entity.text))):
            return 1.0, (entity.start, entity.end)
    form = {"money": MONEY_FORM, "percent": PERCENT_FORM}.get(kind)
    if form is not None:
        match = form.search(sentence)
        if match and fresh(match.start(), match.end()):
            return 1.0, (match.start(), match.end())
    usable = [(s, e) for s, e in _numerals(sentence)
              if fresh(s, e) and not YEAR.match(sentence[s:e]) and counts(sentence[s:e])
              and (kind == "age" or not in_other(s, e))]
    if usable:
        start, end = usable[0]
        # A bare numeral answers a count or an age as written; money and shares need their unit.
        return (1.0 if kind in ("", "count", "age") else OTHER_NUMBER), (start, end)
    if kind in ("", "count") and any(w in NUMBER_WORDS for w in all_terms(sentence) if w not in asked):
        return 0.7, None
    other = [e for e in entities if e.label in NUMBER_LABELS[""] and fresh(e.start, e.end)]
    if other:
        return OTHER_NUMBER, (other[0].start, other[0].end)
    return 0.0, None




VAGUE_DATE = 0.6  # a time of day, or a date without a number, month or weekday ("a new season", "later")


def _precise_date(text: str) -> bool:
    folded = set(all_terms(text))
    return bool(re.search(r"\d", text)) or bool(folded & (MONTHS | WEEKDAYS))


def answer_phrase(question: Question, sentence: str, found=None) -> tuple[float, tuple[int, int] | None]:
    """How strongly `sentence` holds the thing asked for (0-1), and where: character offsets or None.

    `found` are the sentence's named entities (qa.entities); an entity of the asked type that the question
    does not already name counts fully, and so does a name the model missed right after the role a "who"
    question asks about. Without one, the hand cues give a weaker score (reasons are cues only).
    """
    kind = question.kind
    if not kind:
        return 0.0, None
    asked = question.asked
    if kind == "reason":
        match = REASON_CUES.search(sentence)
        if not match:
            return 0.0, None
        end = re.search(r"[,;:.!?]", sentence[match.end():])
        return 1.0, (match.start(), match.end() + end.start() if end else len(sentence.rstrip()))
    if kind == "number":
        return number_phrase(question, sentence, found)
    if kind == "name":  # a quoted or bracketed term is the name asked for before any entity
        quoted = _name_span(sentence, asked, quoted_only=True)
        if quoted:
            return 1.0, quoted
    if found is not None:
        named = _entity_phrase(question, found)
        if named:
            return named
    if kind == "person":
        beside_role = role_apposition(question, sentence)
        if beside_role:
            return 1.0, beside_role
    strength = cue_strength(question, sentence)
    if found is not None and kind in ("person", "organisation", "place"):
        # The model saw no name of the type: a capitalised run alone is weak evidence. Numerals and months
        # stay as the cues score them: the small model misses some ("withdrew 900 troops" has no CARDINAL).
        strength *= 0.5
    return strength, _cue_span(kind, sentence, asked) if strength else None


def _entity_phrase(question: Question, found) -> tuple[float, tuple[int, int]] | None:
    """The strength and span of the first named entity of the asked type that the question does not name."""
    from qa.entities import LABELS_BY_TYPE

    kind, asked = question.kind, question.asked
    labels = LABELS_BY_TYPE.get(kind, frozenset())
    # An all-capitals word is a call sign or an acronym ("KTRK"), not a person's name, whatever the model says.
    fresh = [e for e in found if e.label in labels and not set(all_terms(e.text)) <= asked
             and not (kind == "person" and e.text.upper() == e.text)]
    if kind == "date":
        # "August 28", "2019", "Tuesday" answer "when"; "a new season" or "10:00 a.m." only partly.
        # "what time / at what hour" asks for the time of day itself ("10 a.m. Eastern Time").
        clock = question.clock
        dated = [e for e in fresh if (e.label == "DATE" or clock and e.label == "TIME") and _precise_date(e.text)]
        if dated:
            return 1.0, (dated[0].start, dated[0].end)
        if fresh:
            return VAGUE_DATE, (fresh[0].start, fresh[0].end)
    elif fresh:
        return 1.0, (fresh[0].start, fresh[0].end)
    if kind in NAMED_TYPES:
        # "which hospital" -> "HCA Florida Kendall Hospital", whatever label the model gave the name.
        focus = question.focus
        named = LABELS_BY_TYPE["name"] | LABELS_BY_TYPE["organisation"]
        for e in found:
            if e.label in named and focus & set(all_terms(e.text)) and not set(all_terms(e.text)) <= asked:
                return 1.0, (e.start, e.end)
    return None


def role_apposition(question: Question, sentence: str) -> tuple[int, int] | None:
    """A capitalised name right after the role the question asks about ("Ramdehol's sister, Inderdai Deyal",
    "trainer Kelsey Ellis" for "who is the sister / trainer"): a name the small NER model often misses."""
    focus, asked = question.focus, question.asked
    if not focus:
        return None
    for match in CAPITALISED.finditer(sentence):
        if set(all_terms(match.group())) <= asked:
            continue
        before = split_words(sentence[:match.start()])[-2:]
        if any(stem(w.text) in focus for w in before):
            return match.start(), match.end()
    return None


def _name_span(sentence: str, asked: frozenset[str], quoted_only: bool = False) -> tuple[int, int] | None:
    """A quoted or bracketed term the question lacks ("(Ermine Icing)"), else a capitalised run or a word
    with capitals inside ("ARKit", "Filecoder.C")."""
    for match in QUOTED.finditer(sentence):
        group = 1 if match.group(1) else 2
        if set(all_terms(match.group(group))) - asked:
            return match.start(group), match.end(group)
    if quoted_only:
        return None
    for match in re.finditer(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*|\b\w+[A-Z][\w./]*", sentence):
        if set(all_terms(match.group())) - asked and match.start() > 0:
            return match.start(), match.end()
    return None


def _cue_span(kind: str, sentence: str, asked: frozenset[str]) -> tuple[int, int] | None:
    """Offsets of the first number (number, date) or capitalised run (person, place) the question lacks."""
    if kind == "name":
        return _name_span(sentence, asked)
    if kind in ("number", "date"):
        for match in re.finditer(r"(?<![\w.])[$£€]?\d[\d,]*(?:\.\d+)?%?", sentence):
            if match.group().strip("$£€%").replace(",", "") not in asked:
                return match.start(), match.end()
        return None
    for match in CAPITALISED.finditer(sentence):
        if not set(all_terms(match.group())) <= asked:
            return match.start(), match.end()
    return None


# ---- how the answering phrase links to the question ----------------------------------------------------------

LINK_WINDOW = 5  # words on either side of the answering phrase that can tie it to the question



def phrase_link(question: Question, sentence: str, span: tuple[int, int] | None) -> float:
    """How closely the answering phrase stands to the question's own words (0-1).

    1 when a focus word of the question ("spokesman", "carriers") is within LINK_WINDOW words of the phrase,
    or, for a question without one, any of its content words; 0.5 when only other content words are; 0 else.
    A name beside the asked-for role ("ISD spokesman Tahir Della") answers "who is the spokesman" better than
    a name elsewhere in a sentence that repeats the question's topic.
    """
    if span is None:
        return 0.0
    before = split_words(sentence[:span[0]])[-LINK_WINDOW:]
    after = split_words(sentence[span[1]:])[:LINK_WINDOW]
    near = {stem(w.text) for w in before + after if not w.stop}
    focus = question.focus
    content = question.content
    if focus:
        return 1.0 if near & focus else 0.5 if near & content else 0.0
    return 1.0 if near & content else 0.0
