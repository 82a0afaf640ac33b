"""Lexical normalisation shared by documents and queries, tolerant of transliteration variants.

Names from Arabic and Persian reach English text in many spellings: "Deir Ezzor", "Deir al-Zour",
"Dayr az Zawr"; "Hezbollah", "Hizbullah", "Hizballah"; "Al-Bukamal", "Abu Kamal". Every word yields
its plain form (case, diacritics, apostrophes folded, a light plural stem) and a consonant skeleton
(vowels dropped, doubled letters collapsed, common digraphs unified). Each pair of neighbouring words
also yields the skeleton of the two joined, so "Abu Kamal" meets "Bukamal" and "Deir Ezzor" meets
"deirezzor". Arabic articles written as separate words ("al-", "ez-", "as ") are dropped. Nothing here
names a particular place or group: the same rules apply to every word of every document and query.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Bump whenever the tokens produced for a text change: an index built with older rules is refused.
VERSION = 1

SKELETON_MARK = "~"  # prefix of skeleton tokens, so they never collide with plain words

# The Arabic definite article as transliterated, including the sun-letter assimilations (ash-, az-, ...).
ARABIC_ARTICLES = frozenset(
    {
        "al",
        "el",
        "il",
        "ul",
        "ad",
        "adh",
        "ar",
        "as",
        "ash",
        "at",
        "ath",
        "az",
        "an",
        "ed",
        "es",
        "et",
        "ez",
        "er",
    }
)

_APOSTROPHES = str.maketrans({ch: "'" for ch in "’‘`´ʼʻ′ʹʾʿ"})
_DASHES = str.maketrans({ch: "-" for ch in "‐‑‒–—―−"})
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
_LETTERS_DIGITS = re.compile(r"[^\W\d_]+|\d+")
_VOWELS = frozenset("aeiou")
# Spellings of one sound, folded before vowels are dropped (order matters: digraphs first).
_DIGRAPHS = (
    ("ph", "f"),
    ("dh", "z"),
    ("th", "t"),
    ("kh", "k"),
    ("gh", "g"),
    ("sh", "s"),
    ("ck", "k"),
    ("q", "k"),
    ("c", "k"),
    ("x", "ks"),
)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English stopwords (bm25s' list), apostrophes removed as the words themselves are."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS  # imported on first use: it loads all of bm25s

    return frozenset(word.replace("'", "") for word in STOPWORDS_EN_PLUS)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Casefold, strip diacritics (NFKD), and unify apostrophes and dashes."""
    return _strip_marks(text).casefold().translate(_APOSTROPHES).translate(_DASHES)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """(folded word, written capitalised) for the words of a text; articles and stopwords dropped."""
    marked = _strip_marks(text).translate(_APOSTROPHES).translate(_DASHES)
    marked = _ACRONYM.sub(lambda match: match.group(0).replace(".", ""), marked)
    result: list[tuple[str, bool]] = []
    common = stopwords()
    for raw in _WORD.findall(marked):
        if raw.casefold().endswith("'s"):
            raw = raw[:-2]
        for part in raw.split("-"):
            head, apostrophe, rest = part.partition("'")
            if apostrophe and head.casefold() in ARABIC_ARTICLES:  # al'Ummal -> Ummal
                part = rest
            part = part.replace("'", "")  # Kata'ib -> kataib, Shi'ite -> shiite
            for piece in _LETTERS_DIGITS.findall(part):  # deirezzor24 -> deirezzor, 24
                word = piece.casefold()
                if word in ARABIC_ARTICLES or word in common:
                    continue
                result.append((word, piece[:1].isupper()))
    return result


def words(text: str) -> list[str]:
    """Plain words of a text, before stemming: case and diacritics folded, hyphens split, articles
    ("al-", "ez-", "as ") and English stopwords dropped."""
    return [word for word, _ in _pieces(text)]


def glued_article_rest(word: str, capitalised: bool) -> str | None:
    """The name inside a capitalised word that carries a glued article: 'Albukamal' -> 'bukamal'."""
    if (
        capitalised
        and len(word) >= 4
        and word[:2] in ("al", "el")
        and word[2] not in _VOWELS | {"l", "y", "w"}
    ):
        return word[2:]
    return None


def stem(word: str) -> str:
    """A light English plural stemmer (Harman's S-stemmer): 'militias' -> 'militia', 'bases' -> 'base'."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def skeleton(word: str) -> str:
    """Consonant skeleton of a Latin-script word: 'hizbullah' and 'hezbollah' both give 'hzbl'.

    A final h after a vowel goes (Arabic ta marbuta: -ah/-a), digraphs fold to one letter, vowels go
    (y and w too, except as the first letter), and doubled letters collapse. Other words pass through.
    """
    if not (word.isascii() and word.isalpha()):
        return word
    if len(word) > 2 and word.endswith("h") and word[-2] in _VOWELS:
        word = word[:-1]
    for spelling, sound in _DIGRAPHS:
        word = word.replace(spelling, sound)
    kept = [ch for index, ch in enumerate(word) if ch not in _VOWELS and (index == 0 or ch not in "yw")]
    collapsed: list[str] = []
    for ch in kept:
        if not collapsed or collapsed[-1] != ch:
            collapsed.append(ch)
    return "".join(collapsed)


def lexical_tokens(text: str) -> list[str]:
    """The BM25 tokens of a document or a query: plain stems, word skeletons and joined-pair skeletons.

    A capitalised word starting with a glued article ('Albu', 'Alboukamal') also yields the skeletons of
    the name without it, alone and joined with its neighbours.
    """
    pieces = _pieces(text)
    tokens = [stem(word) for word, _ in pieces]
    forms: list[list[str]] = []  # skeleton forms of each word: as written, and without a glued article
    for word, capitalised in pieces:
        rest = glued_article_rest(word, capitalised)
        forms.append([skeleton(word)] + ([skeleton(rest)] if rest else []))
    tokens.extend(SKELETON_MARK + key for keys in forms for key in keys if len(key) >= 2)
    for left_forms, right_forms in zip(forms, forms[1:], strict=False):
        for left in left_forms:
            for right in right_forms:
                if left and right and (left + right).isalpha():
                    tokens.append(SKELETON_MARK + left + right)
    return tokens
