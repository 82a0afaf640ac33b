"""Every paragraph's line span, read back from the raw file, holds its text: `sed -n 'START,ENDp'` works."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from archive.load import scan_archive
from core.settings import BUNDLED_ARCHIVE

MESSY_ARCHIVE = Path(__file__).parent / "data" / "archive"
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")


def raw_span(archive: Path, source: str, start: int, end: int) -> str:
    """What `sed -n 'START,ENDp' ARCHIVE/SOURCE` prints."""
    lines = (archive / source).read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[start - 1: end])


def words(text: str) -> list[str]:
    return _WORD.findall(html.unescape(_TAG.sub(" ", text)).casefold())


def in_order(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(word == candidate for candidate in remaining) for word in needles)


def assert_span_holds(archive: Path, source: str, text: str, start: int, end: int) -> None:
    assert 1 <= start <= end, (source, start, end)
    raw = raw_span(archive, source, start, end)
    if source.endswith(".txt"):
        # Plain text is quoted verbatim, whitespace aside.
        assert " ".join(text.split()) in " ".join(raw.split()), (source, start, end, text)
        return
    # Markdown and HTML carry markup between the words: every word, in order, and the span is tight.
    expected, found = words(text), words(raw)
    assert in_order(expected, found), (source, start, end, text)
    assert expected[0] in words(raw_span(archive, source, start, start)), (source, start, text)
    assert expected[-1] in words(raw_span(archive, source, end, end)), (source, end, text)


@pytest.mark.parametrize("archive", [BUNDLED_ARCHIVE, MESSY_ARCHIVE], ids=["sample", "messy"])
def test_every_paragraph_span_holds_its_text(archive):
    scan = scan_archive(archive)
    assert scan.articles
    checked = 0
    for article in scan.articles:
        for paragraph in article.paragraphs:
            span = (paragraph.start_line, paragraph.end_line)
            assert_span_holds(archive, article.source, paragraph.text, *span)
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("archive", [BUNDLED_ARCHIVE, MESSY_ARCHIVE], ids=["sample", "messy"])
def test_every_title_line_holds_the_title_and_spans_are_in_order(archive):
    for article in scan_archive(archive).articles:
        assert_span_holds(archive, article.source, article.title, article.title_line, article.title_line)
        starts = [p.start_line for p in article.paragraphs]
        assert starts == sorted(starts) and article.title_line <= starts[0]
