"""Finding a name in a text in every spelling the index folds together. Pure: no I/O, no index.

A text is split into words with the project's one tokeniser (core.text), and a run of words is a mention
when its consonant skeletons, joined, equal the name's ("Hizb Allah", "Hizbullah" and "Hezbollah" all
give "hzbl").

Skeletons are lossy, so three guards keep look-alikes out: a name typed capitalised only matches capitalised
text ("homes" is not "Hamas"); the last word must end the same way, in a vowel sound or a consonant
("Californian" is not "California", "Raqqah" is "Raqqa"); and a short skeleton (under four letters) also
needs the same number of vowel groups ("Homs" is not "Hamas").

A name written "X al-Y" ("Harakat al-Nujaba") is also found by its definite short form "al-Y" ("al-Nujaba",
"Nujaba"), as the Arabic construct is usually shortened; other short forms are asked for with `aliases`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from core.text import ARABIC_ARTICLES, SKELETON_MARK, glued_article_rest, skeleton, split_words, stem
from index.skeleton_regex import anchors, plain_letters, prefix_regex

_DASH_CHARS = "-‐‑‒–—―−"
_APOSTROPHE_CHARS = "'’‘`´ʼʻ′ʹʾʿ"
# A word as the index reads one: letters/digits joined by apostrophes or dashes ("al-Nujaba", "Kata'ib").
_TOKEN = re.compile(rf"[^\W_]+(?:[{re.escape(_APOSTROPHE_CHARS + _DASH_CHARS)}][^\W_]+)*")
_DASHES = re.compile(rf"[{re.escape(_DASH_CHARS)}]")
_WINDOW_BACK = 30  # characters a word of a mention can take before the anchor letter, per word
_WINDOW_AHEAD = 40  # characters after it (the rest of the word)
_JOINERS = frozenset(_APOSTROPHE_CHARS + _DASH_CHARS)
_POSSESSIVE = re.compile(rf"[{re.escape(_APOSTROPHE_CHARS)}][sS]$")
_OPEN = frozenset("aeiouy")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
SHORT_SKELETON = 4  # skeletons shorter than this also compare their vowel groups


class _Piece(NamedTuple):  # a tuple: made for every word near an anchor, so cheap to create
    """One content word of a paragraph: its skeleton(s), how it was written, and its place in the text."""

    skeleton: str
    rest: str  # skeleton without a glued article ('Albukamal' -> 'bkml'), or ""
    capitalised: bool
    vowels: int
    open_end: bool  # ends in a vowel sound ("California", "Hezbollah"), not a consonant ("Californian")
    start: int  # character span in the paragraph, article prefix included ("al-Nujaba")
    end: int


@dataclass(frozen=True)
class NameForm:
    """One way of writing the name that is searched for: the full name, its short form, or an alias."""

    text: str
    target: str  # the skeletons of its words, joined
    vowels: int
    open_end: bool
    capitalised: bool
    words: int
    tokens: tuple[str, ...]  # lexical tokens whose postings hold every chunk that can contain it

    def matches_run(self, pieces: Sequence[_Piece]) -> bool:
        if self.capitalised and not pieces[0].capitalised:
            return False
        if pieces[-1].open_end != self.open_end:  # "Californian" folds to "California"'s skeleton
            return False
        return not (len(self.target) < SHORT_SKELETON and sum(piece.vowels for piece in pieces) != self.vowels)


# ---------------------------------------------------------------- words with offsets


@lru_cache(maxsize=200_000)
def _token_parts(token: str) -> tuple[tuple[int, int, tuple[tuple[str, bool], ...], bool], ...]:
    """The dash-separated parts of one token: (start, end, content words, is an article only)."""
    parts = []
    position = 0
    for piece in [*_DASHES.split(token)]:
        start, end = position, position + len(piece)
        position = end + 1
        possessive = _POSSESSIVE.search(piece)
        if possessive:  # "Hamas's": the spelling is "Hamas"
            end -= len(possessive.group())
        words = split_words(piece)
        content = tuple((word.text, word.capitalised) for word in words if not word.stop)
        parts.append((start, end, content, not words and piece.casefold() in ARABIC_ARTICLES))
    return tuple(parts)


@lru_cache(maxsize=200_000)
def _word_shape(word: str, capitalised: bool) -> tuple[str, str, int, bool]:
    """Skeleton, skeleton without a glued article, vowel groups, and whether it ends in a vowel sound."""
    rest = glued_article_rest(word, capitalised)
    bare = word[:-1] if len(word) > 2 and word.endswith("h") and word[-2] in "aeiou" else word  # -ah is -a
    return skeleton(word), skeleton(rest) if rest else "", len(_VOWEL_GROUPS.findall(word)), bare[-1:] in _OPEN


@lru_cache(maxsize=200_000)
def _token_pieces(token: str) -> tuple[tuple[str, str, bool, int, bool, int, int], ...]:
    """(skeleton, rest, capitalised, vowels, open end, start, end) of each content word of a token (offsets in it).

    A word's span starts at an article glued before it ("al-Nujaba"), so the spelling shows it.
    """
    result = []
    article_start = None
    for start, end, content, is_article in _token_parts(token):
        if is_article:
            article_start = start if article_start is None else article_start
            continue
        begin = article_start if article_start is not None else start
        article_start = None
        for word, capitalised in content:
            shape, rest, vowels, open_end = _word_shape(word, capitalised)
            result.append((shape, rest, capitalised, vowels, open_end, begin, end))
    return tuple(result)


def _pieces_of(token: re.Match[str]) -> list[_Piece]:
    offset = token.start()
    return [_Piece(shape, rest, capitalised, vowels, open_end, offset + start, offset + end)
            for shape, rest, capitalised, vowels, open_end, start, end in _token_pieces(token.group())]


def _pieces(text: str) -> list[_Piece]:
    return [piece for token in _TOKEN.finditer(text) for piece in _pieces_of(token)]


def _spelling(text: str, start: int, end: int) -> str:
    closing = end < len(text) and text[end] in _APOSTROPHE_CHARS
    if closing and text[end - 1] not in "sS" and (end + 1 == len(text) or not text[end + 1].isalnum()):
        end += 1  # "Nujaba'" keeps its final apostrophe (a hamza); "Hamas' leader" is a possessive
    return " ".join(text[start:end].split())


def find_in_text(text: str, forms: Sequence[NameForm]) -> list[tuple[int, int, str]]:
    """Character spans and spellings of the mentions of any form in `text`; longer forms win."""
    targets = tuple(form.target for form in forms)
    starts = prefix_regex(targets)
    if starts is None:
        return _find_everywhere(text, forms)
    plain = plain_letters(text)
    reach = max(form.words for form in forms) + 2  # tokens a mention can span, with a split article
    found: list[tuple[int, int, str]] = []
    covered = 0
    for window_start, window_end in _windows(plain, anchors(targets), reach):
        for hit in starts.finditer(plain, max(window_start, covered), window_end):
            if hit.start() < covered:
                continue
            match = _match_from(text, hit.start(), forms)
            if match is not None:
                found.append(match)
                covered = match[1]
    return found


def _windows(plain: str, literals: tuple[str, ...], reach: int) -> list[tuple[int, int]]:
    """Stretches of the text around the letters every mention holds; where they are common, the whole text."""
    lower = plain.lower()
    if len(lower) != len(plain):  # a letter that lower-cases to two: offsets would move
        return [(0, len(plain))]
    positions: list[int] = []
    for literal in literals:
        at = lower.find(literal)
        while at >= 0:
            positions.append(at)
            at = lower.find(literal, at + 1)
    if len(positions) * _WINDOW_BACK * reach > len(plain):
        return [(0, len(plain))]
    windows: list[tuple[int, int]] = []
    for at in sorted(positions):
        start, end = max(at - _WINDOW_BACK * reach, 0), min(at + _WINDOW_AHEAD, len(plain))
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def _match_from(text: str, position: int, forms: Sequence[NameForm]) -> tuple[int, int, str] | None:
    """The mention starting with the word at `position`, if one does; words are split only as far as needed."""
    tokens = _TOKEN.finditer(text, _token_start(text, position))
    pieces: list[_Piece] = []

    def more() -> bool:
        for token in tokens:
            found = _pieces_of(token)
            if found:
                pieces.extend(found)
                return True
        return False

    while not pieces or pieces[-1].end <= position:
        if not more():
            return None
    index = next(i for i, piece in enumerate(pieces) if piece.end > position)
    width = _match_at(pieces, index, forms, more)
    if not width:
        return None
    start, end = pieces[index].start, pieces[index + width - 1].end
    return start, end, _spelling(text, start, end)


def _token_start(text: str, position: int) -> int:
    """Start of the word (apostrophes and dashes inside it included) that holds `position`."""
    while position > 0 and (
        text[position - 1].isalnum()
        or (text[position - 1] in _JOINERS and position > 1 and text[position - 2].isalnum())
    ):
        position -= 1
    return position


def _find_everywhere(text: str, forms: Sequence[NameForm]) -> list[tuple[int, int, str]]:
    """The slow path: every word of the text split and tried (names in other scripts, with digits, ...)."""
    pieces = _pieces(text)
    found: list[tuple[int, int, str]] = []
    index = 0
    while index < len(pieces):
        width = _match_at(pieces, index, forms)
        if width:
            start, end = pieces[index].start, pieces[index + width - 1].end
            found.append((start, end, _spelling(text, start, end)))
            index += width
        else:
            index += 1
    return found


def _match_at(pieces: list[_Piece], index: int, forms: Sequence[NameForm], more=None) -> int:
    """Number of pieces from `index` that spell one of `forms` (tried longest first), or 0.

    `more()`, when given, appends the next word's pieces to `pieces` (False at the end of the text).
    """
    first = pieces[index]
    for form in forms:
        for head in (first.skeleton, first.rest):
            if not head or not form.target.startswith(head):
                continue
            joined, width = head, 1
            while True:
                if joined == form.target:
                    if form.matches_run(pieces[index:index + width]):
                        return width
                    break
                if width > form.words or (index + width >= len(pieces) and not (more and more())):
                    break
                following = pieces[index + width].skeleton
                if not following or not form.target.startswith(joined + following, 0):
                    break
                joined, width = joined + following, width + 1
    return 0


# ---------------------------------------------------------------- the forms of a name


def _form(text: str) -> NameForm | None:
    words = [(word.text, word.capitalised) for word in split_words(text) if not word.stop]
    if not words:
        return None
    shapes = [_word_shape(word, capitalised) for word, capitalised in words]
    target = "".join(shape[0] for shape in shapes)
    if not target:
        return None
    tokens = tuple(SKELETON_MARK + shape[0] for shape in shapes if len(shape[0]) >= 2)
    return NameForm(
        text=text,
        target=target,
        vowels=sum(shape[2] for shape in shapes),
        open_end=shapes[-1][3],
        capitalised=words[0][1],
        words=len(words),
        tokens=tokens or tuple(stem(word) for word, _ in words),
    )


def short_form(name: str) -> str | None:
    """'Harakat al-Nujaba' -> 'al-Nujaba': the part from the last Arabic article on, if words precede it."""
    tokens = name.split()
    for position in range(len(tokens) - 1, 0, -1):
        head = _DASHES.split(tokens[position])[0].casefold()
        if head in ARABIC_ARTICLES and tokens[position].casefold() != head:
            return " ".join(tokens[position:])
        if tokens[position].casefold() in ARABIC_ARTICLES and position + 1 < len(tokens):
            return " ".join(tokens[position:])
    return None


def name_forms(name: str, aliases: Iterable[str] = ()) -> tuple[NameForm, ...]:
    """The forms searched for, longest skeleton first so a full name wins over its short form."""
    texts = [name]
    short = short_form(name)
    if short:
        texts.append(short)
    texts.extend(alias for alias in aliases if alias.strip())
    forms: dict[str, NameForm] = {}
    for text in texts:
        form = _form(text)
        if form is not None and form.target not in forms:
            forms[form.target] = form
    return tuple(sorted(forms.values(), key=lambda form: (-len(form.target), form.text)))
