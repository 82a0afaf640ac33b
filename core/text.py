"""The one text module: sentences with offsets, folding, words, stopwords, stems and transliteration skeletons.

The lexical index, the answerers and the citation checks all tokenise through here, so a word the index
matched is a word the answer check finds ("U.S." is `us` everywhere, "Deir ez-Zor" is `deir zor`).

Names from Arabic and Persian reach English text in many spellings: "Deir Ezzor", "Deir al-Zour",
"Dayr az Zawr"; "Hezbollah", "Hizbullah", "Hizballah"; "Al-Bukamal", "Abu Kamal". Every word yields its
term (case, diacritics, apostrophes folded, a light plural stem) and a consonant skeleton (vowels dropped,
doubled letters collapsed, common digraphs unified). Each pair of neighbouring words also yields the
skeleton of the two joined, so "Abu Kamal" meets "Bukamal". Arabic articles written as separate words
("al-", "ez-", "as ") are dropped. Nothing here names a particular place or group.

Pure functions: no I/O, no models (pysbd is a rule-based splitter).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Bump whenever the tokens produced for a text change: an index built with older rules is refused.
VERSION = 2

SKELETON_MARK = "~"  # prefix of skeleton tokens, so they never collide with plain words

# The Arabic definite article as transliterated, including the sun-letter assimilations (ash-, az-, ...).
ARABIC_ARTICLES = frozenset(
    ["al", "el", "il", "ul", "ad", "adh", "ar", "as", "ash", "at", "ath", "az", "an", "ed", "es", "et", "ez", "er"]
)

# Words beyond bm25s' English list that carry no content in a news question ("how many", "according to").
_EXTRA_STOPWORDS = frozenset(
    ["according", "ago", "also", "could", "many", "much", "one", "said", "say", "says", "tell", "told", "whose",
     "would"]
)
QUESTION_WORDS = frozenset(["what", "when", "where", "which", "who", "whom", "whose", "why", "how"])

_APOSTROPHES = str.maketrans({ch: "'" for ch in "’‘`´ʼʻ′ʹʾʿ"})
_DASHES = str.maketrans({ch: "-" for ch in "‐‑‒–—―−"})
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
_DIGIT_GROUPS = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?![,\d])")  # 1,200,000 -> 1200000
_LETTERS_DIGITS = re.compile(r"[^\W\d_]+|\d+")
_VOWELS = frozenset("aeiou")
# Spellings of one sound, folded before vowels are dropped (order matters: digraphs first).
_DIGRAPHS = (
    ("ph", "f"), ("dh", "z"), ("th", "t"), ("kh", "k"), ("gh", "g"), ("sh", "s"), ("ck", "k"),
    ("q", "k"), ("c", "k"), ("x", "ks"),
)


# ---- sentences -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sentence:
    """A sentence of a text, verbatim, with its character offsets in that text."""

    text: str
    start: int
    end: int


_THREAD = threading.local()


def _segmenter():
    """This thread's pysbd splitter. A Segmenter keeps the text it is splitting on itself (`original_text`),
    so one instance shared by threads (app sessions, test workers) mixed their sentences up: one per thread."""
    segmenter = getattr(_THREAD, "segmenter", None)
    if segmenter is None:
        import pysbd  # imported on first use: it is slow to import

        segmenter = _THREAD.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    return segmenter


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text`: lines first, then pysbd inside each, each verbatim with its offsets.

    Should pysbd ever alter a line's text, the rest of that line becomes one sentence: offsets stay true.
    """
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
            if found < 0:
                rest = text[cursor : block.end()].strip()
                if rest:
                    at = text.find(rest, cursor)
                    sentences.append(Sentence(rest, at, at + len(rest)))
                break
            sentences.append(Sentence(piece, found, found + len(piece)))
            cursor = found + len(piece)
    return sentences


# ---- folding and words -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English stopwords (bm25s' list, apostrophes removed as the words themselves are) and a few more."""
    return frozenset(word.replace("'", "") for word in _bm25s_stopwords()) | _EXTRA_STOPWORDS


def _bm25s_stopwords() -> tuple[str, ...]:
    """bm25s' STOPWORDS_EN_PLUS, read from its module file alone: `import bm25s.stopwords` runs the package's
    __init__ first, which imports scipy and numba (0.3 s of every cold `search` and `ask`). The file imports
    nothing."""
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("bm25s")
    locations = list(package.submodule_search_locations or []) if package else []
    spec = importlib.util.spec_from_file_location("_bm25s_stopwords", Path(locations[0]) / "stopwords.py") \
        if locations else None
    if spec is None or spec.loader is None:
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        return tuple(STOPWORDS_EN_PLUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.STOPWORDS_EN_PLUS)


def _strip_marks(text: str) -> str:
    """Diacritics and invisible format characters gone: a soft hyphen ("bran\u00adches") splits no word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")


def fold(text: str) -> str:
    """Casefold, strip diacritics (NFKD), and unify apostrophes and dashes."""
    return _strip_marks(text).casefold().translate(_APOSTROPHES).translate(_DASHES)


def key_text(text: str) -> str:
    """Only letters and digits, folded: for finding a quote inside raw lines whatever the spacing."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


@dataclass(frozen=True)
class Word:
    """A word of a text after folding: `text` is folded, `capitalised` says how it was written."""

    text: str
    capitalised: bool
    stop: bool  # an English stopword or a question word


def split_words(text: str) -> list[Word]:
    """Every word of a text, in order: folded, acronyms joined ("U.S." -> us), digit groups joined
    ("1,200" -> 1200), possessives and apostrophes removed, hyphenated words split, Arabic articles dropped."""
    marked = _strip_marks(text).translate(_APOSTROPHES).translate(_DASHES)
    marked = _ACRONYM.sub(lambda match: match.group(0).replace(".", ""), marked)
    marked = _DIGIT_GROUPS.sub(lambda match: match.group(0).replace(",", ""), marked)
    common = stopwords()
    result: list[Word] = []
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
                if word in ARABIC_ARTICLES:
                    continue
                result.append(Word(word, piece[:1].isupper(), word in common or word in QUESTION_WORDS))
    return result


def words(text: str) -> list[str]:
    """Content words of a text, before stemming: stopwords and question words left out."""
    return [word.text for word in split_words(text) if not word.stop]


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


def terms(text: str) -> list[str]:
    """The stemmed content words of a text, in order: what lexical matching counts, in the index and in qa."""
    return [stem(word) for word in words(text)]


def all_terms(text: str) -> list[str]:
    """Stemmed words including stopwords: for asking whether a word was already in the question."""
    return [stem(word.text) for word in split_words(text)]


# ---- transliteration skeletons ---------------------------------------------------------------------------

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


def glued_article_rest(word: str, capitalised: bool) -> str | None:
    """The name inside a capitalised word that carries a glued article: 'Albukamal' -> 'bukamal'."""
    if capitalised and len(word) >= 4 and word[:2] in ("al", "el") and word[2] not in _VOWELS | {"l", "y", "w"}:
        return word[2:]
    return None


@dataclass(frozen=True)
class TermForms:
    """What a text offers lexical matching: its terms, and the skeletons of its words and word pairs."""

    terms: tuple[str, ...]
    skeletons: tuple[str, ...]  # single words and neighbouring pairs, unmarked, in order, repeats kept


def term_forms(text: str) -> TermForms:
    """Terms, word skeletons and joined-pair skeletons of a text.

    A capitalised word starting with a glued article ('Albu', 'Alboukamal') also yields the skeletons of
    the name without it, alone and joined with its neighbours.
    """
    content = [word for word in split_words(text) if not word.stop]
    forms: list[list[str]] = []  # skeleton forms of each word: as written, and without a glued article
    for word in content:
        rest = glued_article_rest(word.text, word.capitalised)
        forms.append([skeleton(word.text)] + ([skeleton(rest)] if rest else []))
    keys = [key for keys in forms for key in keys if len(key) >= 2]
    for left_forms, right_forms in zip(forms, forms[1:], strict=False):
        for left in left_forms:
            for right in right_forms:
                if left and right and (left + right).isalpha():
                    keys.append(left + right)
    return TermForms(tuple(stem(word.text) for word in content), tuple(keys))


def lexical_tokens(text: str) -> list[str]:
    """The BM25 tokens of a document or a query: terms, word skeletons and joined-pair skeletons."""
    forms = term_forms(text)
    return list(forms.terms) + [SKELETON_MARK + key for key in forms.skeletons]
