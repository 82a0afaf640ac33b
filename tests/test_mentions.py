"""Mentions: counted from the index, checked against an independent regex over the cleaned articles and sed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive.load import scan_archive
from core.settings import Settings
from index.build import build_index
from index.mentions import find_mentions
from index.name_match import find_in_text, name_forms
from index.search import Searcher

# The spellings a reader would grep for, written out by hand: the expectation does not use the index's rules.
SPELLINGS = {
    "Hezbollah": r"\b(?:Hezbollah|Hizbullah|Hizzbullah|Hizballah|Hizb Allah)\b",
    "Harakat al-Nujaba": r"\b(?:Harakat al-Nujaba|[Aa]l-Nujaba|Nujaba)\b'?",
    "Hamas": r"\bHamas\b",
}
EXTRA = """Hizb Allah And Nujaba' Fighters Seen Near The Border

March 3, 2024

Fighters of Hizb Allah and of Nujaba' crossed the border, witnesses said. Hizballah denied it.

The Hamas delegation met officials in Homs; the homes of residents were searched.
"""


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Settings:
    """The sample archive plus a dated file of other spellings and a copy of one article (a near-duplicate)."""
    from core.settings import BUNDLED_ARCHIVE

    root = tmp_path_factory.mktemp("mentions")
    archive = root / "archive"
    shutil.copytree(BUNDLED_ARCHIVE, archive)
    (archive / "005_spellings.txt").write_text(EXTRA, encoding="utf-8")
    shutil.copy(archive / "002_257df2b6438dc5da.txt", archive / "copy_of_002.txt")
    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=root / "index")
    build_index(settings, progress=False)
    return settings


def _expected(settings: Settings, spellings: str) -> dict[str, int]:
    """Mentions per source by regex over the cleaned paragraphs, one article per near-duplicate group."""
    scan = scan_archive(settings.archive_dir, max_file_bytes=settings.max_file_bytes,
                        near_duplicate_threshold=settings.near_duplicate_threshold)
    pattern = re.compile(spellings)
    counts = {a.id: sum(len(pattern.findall(p.text)) for p in a.paragraphs) for a in scan.articles}
    skipped: set[str] = set()
    for group in scan.duplicate_groups:
        with_mentions = [aid for aid in group if counts[aid]]
        skipped.update(with_mentions[1:])
    by_source: dict[str, int] = {}
    for article in scan.articles:
        if counts[article.id] and article.id not in skipped:
            by_source[article.source] = by_source.get(article.source, 0) + counts[article.id]
    return by_source


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_counts_equal_a_regex_over_the_cleaned_text(indexed, name):
    report = find_mentions(Searcher.open(indexed), name)
    found: dict[str, int] = {}
    for article in report.articles:
        found[article.source] = found.get(article.source, 0) + article.count
    assert found == _expected(indexed, SPELLINGS[name])
    assert report.total == sum(found.values()) > 0


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_every_reported_span_holds_a_spelling_in_the_raw_file(indexed, name):
    pattern = re.compile(SPELLINGS[name])
    report = find_mentions(Searcher.open(indexed), name)
    for article in report.articles:
        lines = (indexed.archive_dir / article.source).read_text(encoding="utf-8").split("\n")  # as sed splits
        for start, end in article.lines:
            assert 1 <= start <= end <= len(lines)
            held = " ".join(lines[start - 1:end])  # what `sed -n 'START,ENDp'` prints
            assert pattern.search(held), (article.source, start, end, held)
    for spelling in report.spellings:
        assert pattern.fullmatch(spelling), spelling


def test_text_removed_by_cleaning_is_not_counted(indexed):
    """004's reader comments name Hezbollah; the raw file holds more mentions than the report counts."""
    source = "004_ec4515d8566cb32e.txt"
    raw = (indexed.archive_dir / source).read_text(encoding="utf-8")
    raw_count = len(re.findall(SPELLINGS["Hezbollah"], raw))
    report = find_mentions(Searcher.open(indexed), "Hezbollah")
    reported = sum(article.count for article in report.articles if article.source == source)
    assert 0 < reported < raw_count


def test_spellings_variants_near_duplicates_and_order(indexed):
    report = find_mentions(Searcher.open(indexed), "Hezbollah")
    assert {"Hezbollah", "Hizbullah", "Hizb Allah", "Hizballah"} <= set(report.spellings)
    sources = [article.source for article in report.articles]
    assert "copy_of_002.txt" not in sources  # the near-duplicate is counted once...
    original = next(a for a in report.articles if a.source == "002_257df2b6438dc5da.txt")
    assert original.also_in == ("copy_of_002.txt",)  # ...and named as "also in"
    dated = [article.date for article in report.articles if article.date]
    assert dated == sorted(dated) and dated[:2] == ["2023-11-09", "2024-03-03"]
    first_undated = next(i for i, a in enumerate(report.articles) if not a.date)
    assert all(not a.date for a in report.articles[first_undated:])
    assert report.per_month()[0] == ("2023-11", original.count)
    assert ("2024-03", 2) in report.per_month() and len(report.per_month()) == 5  # Nov 2023 .. Mar 2024


def test_short_form_and_look_alikes():
    forms = name_forms("Harakat al-Nujaba")
    assert [form.text for form in forms] == ["Harakat al-Nujaba", "al-Nujaba"]
    text = "The Iraqi Harakat al-Nujaba, al-Nujaba's men and Nujaba' fighters; Homs, homes and Hamas's office."
    assert [s for _, _, s in find_in_text(text, forms)] == ["Harakat al-Nujaba", "al-Nujaba", "Nujaba'"]
    assert [s for _, _, s in find_in_text(text, name_forms("Hamas"))] == ["Hamas"]
    assert [s for _, _, s in find_in_text("Californian voters in California", name_forms("California"))] == [
        "California"]  # same skeleton, but a consonant ending: another word
    assert [s for _, _, s in find_in_text("Raqqah, Raqqa and Iranian Iran", name_forms("Raqqa"))] == ["Raqqah", "Raqqa"]
    assert [s for _, _, s in find_in_text("Albukamal and Abu Kamal", name_forms("Al-Bukamal"))] == [
        "Albukamal", "Abu Kamal"]


def test_cli_json_shape(indexed):
    command = [sys.executable, "-m", "archive_qa.cli", "mentions", "Harakat al-Nujaba", "--json",
               "--archive", str(indexed.archive_dir), "--index", str(indexed.index_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={"ARCHIVE_QA_EMBEDDING_BACKEND": "hashing", "PATH": "/usr/bin:/bin",
                                 "HOME": str(Path.home())})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"name", "spellings", "total", "articles"}
    assert document["name"] == "Harakat al-Nujaba" and document["total"] == 4
    assert set(document["articles"][0]) >= {"source", "title", "date", "outlet", "count", "lines"}
    assert "Nujaba'" in document["spellings"]


WEB = Path(__file__).resolve().parents[2] / "shared" / "corpus-web"
WEB_SPELLINGS = {  # written by hand: the upper-case forms are headlines and datelines
    "California": r"\b(?:California|CALIFORNIA)\b(?!n)",
    "Trump": r"\b(?:Trump|TRUMP)\b",
    "Bloomberg": r"\bBloomberg\b",
}


@pytest.mark.skipif(not WEB.is_dir(), reason="../shared/corpus-web not present")
def test_web_pages_counts_and_spans(tmp_path):
    """Real web pages (navigation, share bars, comments left in): counts equal the regex over the cleaned text."""
    archive = tmp_path / "archive"
    archive.mkdir()
    pattern = re.compile("|".join(WEB_SPELLINGS))
    for page in sorted(WEB.glob("*.html")):
        if pattern.search(page.read_text(encoding="utf-8", errors="replace")):
            shutil.copy(page, archive / page.name)
    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=tmp_path / "index")
    build_index(settings, progress=False)
    searcher = Searcher.open(settings)
    for name, spelling in WEB_SPELLINGS.items():
        report = find_mentions(searcher, name)
        found: dict[str, int] = {}
        for article in report.articles:
            found[article.source] = found.get(article.source, 0) + article.count
            lines = (archive / article.source).read_text(encoding="utf-8", errors="replace").split("\n")
            for start, end in article.lines:
                assert re.search(spelling, " ".join(lines[start - 1:end])), (article.source, start, end)
        assert found == _expected(settings, spelling) and report.total > 10, name
