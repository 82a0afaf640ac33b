"""Names a question or a claim asks about, and whether passages hold them in some spelling.

Pure functions over text: no I/O, no models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qa.terms import Vocabulary, question_terms


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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


def unmatched_names(names: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The names (of a question: Question.names) that none of `texts` holds, allowing transliteration variants.

    A name counts as held when any of its words does, or when its words run together do ("Abu Kamal" and
    "Bukamal" share the skeleton bkml).
    """
    joined_text = "\n".join(texts)
    vocabulary = Vocabulary(joined_text, extra=_initialisms(joined_text))
    missing = []
    for name in names:
        terms = question_terms(name)
        if not terms or any(vocabulary.match(term, previous) for term, previous in terms):
            continue
        missing.append(name.strip(",;:?!."))
    return missing


def unheld_names(names: Iterable[str], evidence: str) -> list[str]:
    """The names (of a question or a claim: named_terms) with a word the evidence does not hold.

    Stricter than `unmatched_names`: every word of the name must be there, so "Sheikh Naim Qassem rejected
    the decision" is not supported by a passage where Ismail Haniyeh rejected it.
    """
    vocabulary = Vocabulary(evidence, extra=_initialisms(evidence))
    unheld = []
    for name in names:
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


