"""A regular expression that finds, at C speed, the words whose consonant skeleton starts a name's skeleton.

Used to jump straight to the few words of a paragraph that can begin a mention, instead of splitting every
word in Python; each hit is then checked exactly by index.name_match. It is a superset of core.text's
`skeleton` rules for Latin-script words (over-matching is harmless, missing is not): vowels, y, w and
apostrophes between consonants, doubled consonants, the digraphs that fold to one letter (ph, dh, th, kh,
gh, sh, ck, q, c), a glued article ("Albukamal") and a final h after a vowel.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_APOSTROPHES = "'’‘`´ʼʻ′ʹʾʿ"
_BETWEEN = f"[aeiouyw{re.escape(_APOSTROPHES)}]*"
_SPELLINGS = {  # skeleton letter -> the letters that fold to it (longest first)
    "f": ("ph", "f"),
    "z": ("dh", "z"),
    "t": ("th", "t"),
    "k": ("kh", "ck", "k", "q", "c", "x"),
    "g": ("gh", "g"),
    "s": ("sh", "s"),
}


def _consonant(letter: str) -> str:
    spellings = "|".join(_SPELLINGS.get(letter, (letter,)))
    return f"(?:(?:{spellings}){_BETWEEN})+"


def _prefix_pattern(target: str) -> str:
    """Words whose skeleton is a non-empty prefix of `target`: c1 (c2 (c3 ...)?)?"""
    pattern = ""
    for letter in reversed(target[1:]):
        pattern = f"(?:{_consonant(letter)}{pattern})?"
    return _consonant(target[0]) + pattern


@lru_cache(maxsize=256)
def prefix_regex(targets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for every target, or None when a target is not plain ASCII letters (no shortcut then)."""
    if not targets or not all(target.isascii() and target.isalpha() for target in targets):
        return None
    if any("ks" in target for target in targets):  # 'x' spells two skeleton letters: leave it to the slow path
        return None
    alternatives = "|".join(_prefix_pattern(target) for target in sorted(set(targets), key=len, reverse=True))
    return re.compile(
        rf"(?<![^\W_])(?:[ae]l)?[aeiou{re.escape(_APOSTROPHES)}]*(?:{alternatives})(?:(?<=[aeiou])h)?(?![^\W_])",
        re.IGNORECASE,
    )


_ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")


@lru_cache(maxsize=1)
def _latin_table() -> dict[int, str]:
    """Accented Latin letters -> their base letter, one character for one, so offsets do not move."""
    table: dict[int, str] = {}
    for code in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        base = "".join(ch for ch in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(ch))
        if len(base) == 1 and base != chr(code) and base.isascii():
            table[code] = base
    return table


def plain_letters(text: str) -> str:
    """`text` with accents removed, same length: regex offsets on the result are offsets in `text`."""
    if text.isascii() or not _ACCENTED.search(text):  # curly quotes alone need no translation
        return text
    return text.translate(_latin_table())


# Letters that spell each skeleton letter, as literals to look for (a digraph's first letter is enough
# when that letter alone also spells it: "kh" holds "k").
_LITERALS: dict[str, tuple[str, ...]] = {"f": ("f", "ph"), "z": ("z", "dh"), "k": ("k", "c", "q", "x"), "s": ("s", "x")}
# Approximate share of each letter in English text, in percent: rarer anchors mean fewer places to look.
_FREQUENCY = dict(zip("etaoinshrdlcumwfgypbvkjxqz", (12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8,
                                                     2.8, 2.4, 2.4, 2.2, 2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.15, 0.15,
                                                     0.1, 0.07), strict=True))


def _cost(literals: Iterable[str]) -> float:
    return sum(_FREQUENCY.get(literal, 0.2) if len(literal) == 1 else 0.2 for literal in literals)


@lru_cache(maxsize=256)
def anchors(targets: tuple[str, ...]) -> tuple[str, ...]:
    """Lower-case literals one of which every spelling of every target contains (its rarest letter's spellings)."""
    found: set[str] = set()
    for target in targets:
        options: list[tuple[str, ...]] = [_LITERALS.get(letter, (letter,)) for letter in sorted(set(target))]
        found.update(min(options, key=_cost))
    return tuple(sorted(found))
