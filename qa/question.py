"""One record of a question, analysed once where it comes in and read by search, scoring, the readers and the
abstention rule (no stage works the type, focus terms, names, terms or dates out again), and the functions that
analyse it: what kind of thing it asks for, which number, which words name the answer.

Pure functions over text: no I/O, no models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.text import all_terms, fold, terms
from qa.dates import DateRange, question_dates
from qa.names import named_terms
from qa.terms import question_terms


@dataclass(frozen=True)
class Question:
    """What a question asks: its text and everything the answering stages read from it."""

    text: str
    kind: str  # expected answer type (answer_type): number, date, person, ... or "" when unclear
    focus: frozenset[str]  # the words naming what the answer is ("carriers" in "how many member carriers")
    number_kind: str  # for number questions: money, percent, count, age, or "" (any number)
    asked: frozenset[str]  # every word of the question, folded: an answer must add something to these
    content: frozenset[str]  # the question's content words (stemmed, no stopwords)
    names: tuple[str, ...]  # runs of capitalised words: the names it asks about (qa.names.named_terms)
    dates: DateRange | None  # the publication dates it restricts itself to ("since March 2024"), if any
    clock: bool  # it asks for a time of day ("what time", "at what hour")
    # Its distinct content terms, each with the term before it (qa.terms.question_terms): what lexical matching reads.
    terms: tuple[tuple[str, str], ...] = ()
    # It asks for more than one thing (a why, a list, two questions in one): the answer may quote more than the
    # sentence that states its phrase.
    several: bool = False


def analyse_question(text: str, today: date | None = None) -> Question:
    """The question record of `text` (stripped); `today` anchors relative dates ("last week")."""
    text = text.strip()
    kind = answer_type(text)
    return Question(text=text, kind=kind, focus=focus_terms(text), number_kind=number_kind(text),
                    asked=frozenset(all_terms(text)), content=frozenset(terms(text)),
                    names=tuple(named_terms(text)), dates=question_dates(text, today),
                    clock=TIME_ASKED.search(fold(text)) is not None, terms=tuple(question_terms(text)),
                    several=asks_for_several(text, kind))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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
    "number": _words("percentage share total amount proportion price age rate rise fall figure sum cost salary fee"
                     " bail budget"),
}
# "what name / nickname / title", "what is X called", "what do you call": the answer is a name or a term, often
# quoted or capitalised, of no one entity type ("Ermine Icing", "ARKit", "Android/Filecoder.C").
NAME_ASKED = re.compile(r"\b(?:what|which) (?:\w+ )?(?:name|names|nickname|title|term)\b|\bcalled$"
                        r"|\bwhat do (?:you|they|people) call\b|\bknown as$")

COPULAS = _words("is was are were")

QUESTION_STOP = _words("did does do was were is are has have had can could will would should")

def answer_type(question: str) -> str:
    """What a question asks for: number, date, person, organisation, place, reason, or "" when unclear."""
    q = " ".join(_ALNUM_RUN.findall(fold(question)))
    if re.search(r"\bhow (many|much|large|big|long|far|old|tall|high|fast|often)\b|\bnumber of\b", q):
        return "number"
    head = _head_noun_type(q)
    if head:
        return head
    if NAME_ASKED.search(q):
        return "name"
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
        following = _after_wh(words, i)
        for j, word in enumerate(following):
            for kind, nouns in HEAD_NOUNS.items():
                if word in nouns:
                    found = kind
            if found and following[j + 1:j + 2] == ["s"]:  # "which professor's lab": the owner is asked for
                break
        if found:
            return found
    return ""


def _after_wh(words: list[str], i: int) -> list[str]:
    """The few words after "which"/"what" at `i` that can hold its head noun, up to the question's verb."""
    following = words[i + 1:i + 7]
    if following[:1] and following[0] in COPULAS:  # "what was the overall success rate"
        following = following[1:]
    kept = []
    for word in following:
        if word in QUESTION_STOP:
            break
        kept.append(word)
    return kept


MONEY_WORDS = re.compile(
    r"\b(?:cost|costs|pay|paid|pays|price|priced|prices|invest|invested|investing|investment|spend|spent|worth"
    r"|raise|raised|donate|donated|contribut\w*|fund|funded|funding|earn|earns|earned|salary|salaries|fee|fees"
    r"|fine|fined|bail|budget|money|revenue|profit|charge|charged|stole|steal|stolen|owe|owed|sell|sold|sale"
    r"|bought|buy|afford|dollars?|euros?|pounds sterling)\b"
)
PERCENT_QUESTION = re.compile(r"\b(?:what|which)\b(?: \w+){0,4} (?:share|percentage|percent|proportion|rate)\b"
                              r"|\bper ?cent\b")

def number_kind(question: str) -> str:
    """Which number a number question asks for: money, percent, count, age, or "" (any number)."""
    q = " ".join(_ALNUM_RUN.findall(fold(question)))
    if PERCENT_QUESTION.search(q):
        return "percent"
    if re.search(r"\bhow old\b", q):
        return "age"
    if re.search(r"\bhow much\b", q) and MONEY_WORDS.search(q) or re.search(
            r"\b(?:what|which)\b(?: \w+){0,3} (?:salary|price|cost|fee|fine|bail|budget|sum|amount of money)\b", q):
        return "money"
    if re.search(r"\bhow many\b|\bnumber of\b", q):
        return "count"
    return ""



TIME_ASKED = re.compile(r"\b(?:what|which) (?:\w+ )?(?:time|hour)\b")

ROLE_AFTER_WHO = re.compile(r"\bwho (?:is|was|are|were) (?:the |a |an )?((?:\w+ ){0,2}\w+)")

def focus_terms(question: str) -> frozenset[str]:
    """The question's words that name what the answer is: "carriers" in "how many member carriers", "newspaper"
    in "which New Hampshire newspaper", "spokesman" in "who is the spokesman of ...". Empty when it has none."""
    q = " ".join(_ALNUM_RUN.findall(fold(question)))
    found: list[str] = []
    count = re.search(r"\bhow many ((?:\w+ ){0,2}\w+)", q)
    if count:
        found = count.group(1).split()
    role = ROLE_AFTER_WHO.search(q)
    if role and not found:
        found = role.group(1).split()
    words = q.split()
    for i, word in enumerate(words):  # the head noun of "which/what ... <noun>"
        if word in ("which", "what"):
            found.extend(w for w in _after_wh(words, i) if any(w in nouns for nouns in HEAD_NOUNS.values()))
    focus: list[str] = []
    for word in found:
        if word in QUESTION_STOP or word in COPULAS:
            break
        focus.extend(terms(word))
    return frozenset(focus)


SEVERAL_ASKED = re.compile(
    r"\b(?:list|name (?:the|all|some|three|two)|what (?:are|were) (?:the|some)|which (?:\w+ ){0,2}(?:are|were)"
    r"|what (?:\w+ ){0,2}(?:and|or) (?:what|why|how|who|when|where)|and (?:what|why|how|who|when|where))\b"
)


def asks_for_several(question: str, kind: str) -> bool:
    """A why (`kind` "reason"), a list ("what were the charges"), or two questions in one: one phrase does not
    answer it."""
    q = " ".join(_ALNUM_RUN.findall(fold(question)))
    return kind == "reason" or SEVERAL_ASKED.search(q) is not None
