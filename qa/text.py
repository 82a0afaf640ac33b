"""Text helpers of the answering stage: sentences with offsets, tokens for matching, answer-type cues.

Pure functions: no I/O, no models.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# One transliteration folding for the whole project: the BM25 index and the answer checks must agree.
from index.normalize import skeleton, stem

WORD = re.compile(r"[a-z0-9]+")
# Particles that transliterations of Arabic names carry or drop ("Deir al-Zour" / "Deir Ezzor").
NAME_PARTICLES = {"al", "el"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
    once only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while who
    whom whose why will with would you your yours say says said tell told according ago many much one"""
)
QUESTION_WORDS = _words("what when where which who whom whose why how")
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
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
YEAR = re.compile(r"^(1[89]|20)\d\d$")
CAPITALISED = re.compile(
    r"\b(?:[A-Z][\w'’-]*[a-z][\w'’-]*)(?:\s+(?:(?:al|el|bin|ibn|de|of)[-\s])?[A-Z][\w'’-]*)+"
)
PLACE_AFTER_PREPOSITION = re.compile(
    r"\b(?:in|at|near|from|to|into|towards?|across|along|inside|outside)\s+(?:the\s+)?([A-Z][\w'’-]+)"
)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage, with its character offsets in the passage text."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text` (paragraphs first, then pysbd inside each), each verbatim with its offsets."""
    sentences: list[Sentence] = []
    for block in re.finditer(r"[^\n]+", text):
        if not block.group().strip():
            continue
        cursor = block.start()
        for piece in _segmenter().segment(block.group()):
            piece = piece.strip()
            if not piece:
                continue
            found = text.find(piece, cursor, block.end())
            if found < 0:  # pysbd altered the text; keep what it gave, anchored at the cursor
                found = cursor
            sentences.append(Sentence(piece, found, found + len(piece)))
            cursor = found + len(piece)
    return sentences


def fold(text: str) -> str:
    """Lowercase, strip diacritics, drop apostrophes and turn hyphens into spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = re.sub(r"['’]s\b", "", stripped)  # possessive: "Damascus's" is Damascus
    stripped = re.sub(r"['’‘`ʿʾ]", "", stripped)
    return re.sub(r"[-‐‑–—_/]", " ", stripped).lower()


def tokens(text: str) -> list[str]:
    """All word tokens, folded and lightly stemmed (particles such as "al-" dropped)."""
    return [stem(t) for t in WORD.findall(fold(text)) if t not in NAME_PARTICLES]


def content_tokens(text: str) -> list[str]:
    """Tokens without stopwords: what a lexical match should count."""
    return [t for t in tokens(text) if t not in STOPWORDS and t not in QUESTION_WORDS]


def key_text(text: str) -> str:
    """Only letters and digits, folded: for checking that a quote sits inside raw lines."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


class Vocabulary:
    """What a text holds for matching: content tokens, their skeletons, and skeletons of neighbouring tokens
    run together ("Deir Ezzor" -> drzr, which "Deir al-Zour" also gives)."""

    def __init__(self, text: str, extra: Iterable[str] = ()):
        words = tokens(text)
        self.tokens = {t for t in words if t not in STOPWORDS and t not in QUESTION_WORDS} | set(extra)
        self.skeletons = {skeleton(t) for t in self.tokens}
        self.pairs = {skeleton(a + b) for a, b in zip(words, words[1:], strict=False)}

    def match(self, term: str, previous: str = "") -> float:
        """1 for the word itself, 0.7 for a transliteration variant, else 0."""
        if term in self.tokens:
            return 1.0
        # Three consonants at least: with two, "lead" (ld) would meet "allied" and "Saudi" (sd) "sides".
        shape = skeleton(term)
        if len(term) >= 4 and len(shape) >= 3 and shape in self.skeletons:
            return 0.7
        joined = skeleton(previous + term) if previous else ""
        if len(joined) >= 4 and (joined in self.pairs or joined in self.skeletons):
            return 0.7
        return 0.0


def question_terms(text: str) -> list[tuple[str, str]]:
    """Content tokens of a question, each with the token before it (for matching names run together)."""
    words = tokens(text)
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        if word not in STOPWORDS and word not in QUESTION_WORDS:
            found.setdefault(word, words[i - 1] if i else "")
    return list(found.items())


class TermMatcher:
    """Weighted overlap of a question's content terms with candidate texts; rarer terms weigh more."""

    def __init__(self, question: str, pool: Sequence[str]):
        self.terms = question_terms(question)
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
    """Share of the claim's content tokens that the evidence holds (transliteration variants count)."""
    terms = question_terms(claim)
    if not terms:
        return 0.0
    vocabulary = Vocabulary(evidence)
    return sum(vocabulary.match(term, previous) for term, previous in terms) / len(terms)


def jaccard(first: str, second: str) -> float:
    a, b = set(content_tokens(first)), set(content_tokens(second))
    return len(a & b) / len(a | b) if a | b else 0.0


def numbers(text: str) -> set[str]:
    """Numerals written with digits, without thousands separators."""
    return {match.replace(",", "").rstrip(".") for match in NUMBER.findall(text)}


# ---- answer-type cues -------------------------------------------------------------------------------------

def answer_type(question: str) -> str:
    """The kind of thing a question asks for: number, person, place, date, or "" when unclear."""
    q = " ".join(WORD.findall(fold(question)))
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
    asked = set(tokens(question))
    words = tokens(sentence)
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
        names = [m for m in _capitalised_runs(sentence) if not set(tokens(m)) <= asked]
        titled = any(w in PERSON_TITLES for w in words)
        if names and titled:
            return 1.0
        return 0.6 if names else 0.0
    if kind == "place":
        places = [p for p in PLACE_AFTER_PREPOSITION.findall(sentence) if not set(tokens(p)) <= asked]
        if places:
            return 1.0
        return 0.5 if any(w in PLACE_WORDS for w in words if w not in asked) else 0.0
    return 0.0


_TITLE_CASE_LOWER = _words("a an and as at but by for in nor of on or the to with")


def named_terms(question: str) -> list[str]:
    """Runs of capitalised words after the question's first word: the names a question asks about.

    A question in Title Case names nothing in particular: it gives no names.
    """
    words = question.split()[1:]
    # Title Case capitalises every word but the shortest function words ("Who Is the Leader of Hamas?").
    spelled = [w for w in words if w.lower() not in _TITLE_CASE_LOWER]
    if len(words) >= 2 and spelled and all(w[:1].isupper() for w in spelled):
        return []
    runs: list[list[str]] = []
    for word in words:
        bare = word.strip(",;:?!.'’")
        # A one-letter word ("I") names no one.
        if len(bare) < 2 or not re.sub(r"^(?:al|el)[-‐]", "", word, flags=re.IGNORECASE)[:1].isupper():
            runs.append([])
        elif runs and runs[-1] and not _ends_phrase(runs[-1][-1]):
            runs[-1].append(word)
        else:
            runs.append([word])
    return [" ".join(run) for run in runs if run]


def _ends_phrase(word: str) -> bool:
    return word[-1:] in ",;:?!."


def unmatched_names(question: str, texts: Iterable[str]) -> list[str]:
    """The question's names that none of `texts` holds, allowing transliteration variants.

    A name counts as held when any of its words does, or when its words run together do ("Abu Kamal" and
    "Bukamal" share the skeleton bkml).
    """
    joined_text = "\n".join(texts)
    vocabulary = Vocabulary(joined_text, extra=_initialisms(joined_text))
    missing = []
    for name in named_terms(question):
        terms = question_terms(name)
        if not terms or any(vocabulary.match(term, previous) for term, previous in terms):
            continue
        missing.append(name.strip(",;:?!."))
    return missing


def unheld_names(claim: str, evidence: str) -> list[str]:
    """Names in a claim (capitalised runs after its first word) with a word the evidence does not hold.

    Stricter than `unmatched_names`: every word of the name must be there, so "Sheikh Naim Qassem rejected
    the decision" is not supported by a passage where Ismail Haniyeh rejected it.
    """
    vocabulary = Vocabulary(evidence, extra=_initialisms(evidence))
    unheld = []
    for name in named_terms(claim):
        terms = question_terms(name)
        if any(not vocabulary.match(term, previous) for term, previous in terms):
            unheld.append(name.strip(",;:?!."))
    return unheld


def _initialisms(text: str) -> set[str]:
    """Initials of runs of capitalised words, so that "UN" meets "United Nations"."""
    found = set()
    for match in re.finditer(r"(?:\b[A-Z][\w'’-]*(?:\s+(?:of|for|the|and)\b)?\s+){1,5}[A-Z][\w'’-]*", text):
        words = [w for w in match.group().split() if w[:1].isupper()]
        for start in range(len(words)):
            for end in range(start + 2, len(words) + 1):
                found.add("".join(w[0] for w in words[start:end]).lower())
    return found


def _capitalised_runs(sentence: str) -> Iterable[str]:
    # The first word of a sentence is capitalised anyway: only runs that start after it count.
    first_space = sentence.find(" ")
    for match in CAPITALISED.finditer(sentence):
        if match.start() > first_space:
            yield match.group()
