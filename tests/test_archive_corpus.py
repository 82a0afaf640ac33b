"""The bundled sample archive gives exactly the articles a careful reader sees, in the API and the CLI."""

from __future__ import annotations

import json

import pytest

from archive.load import scan_archive
from archive_qa.cli import main
from core.settings import BUNDLED_ARCHIVE

# id: (title, paragraphs, headings, (first line, first words), (last line, last words), caption start)
EXPECTED = {
    "000_e5515dd9d677a34c.txt#0": (
        "Iranian Proxy Militias in Syria Open Recruitment to Support Hamas", 16, 0,
        (12, "Iranian proxy militias in Syria kicked off"), (42, "The vehicles were moved in small batches"),
        "Iranian proxy militias in Deir Ezzor"),
    "000_e5515dd9d677a34c.txt#1": (
        "Qatar Foreign Ministry: Hamas Political Office in Doha Has Not Been Permanently Closed", 5, 0,
        (57, "The political office of the Palestinian Hamas group"), (63, "During the talks after Hamas's"),
        "A file photo of two Palestinian fighters"),
    "001_4b85ccf491a580e5.txt#0": (
        "Iran Strengthens its Militias in Syria", 12, 0,
        (12, "Iran has increased its diplomatic"), (34, "The militants had attempted to cross"),
        "A man rides a motorbike past damaged buildings"),
    "001_4b85ccf491a580e5.txt#1": (
        "Hezbollah Chief Says It Reviewed Truce Proposal, Ceasefire in Israel’s Hands", 9, 0,
        (49, "Hezbollah chief Sheikh Naim Qassem said"), (65, "After a ceasefire takes effect"),
        "Lebanon's Hezbollah leader Sheikh Naim Qassem delivers a speech"),
    "002_257df2b6438dc5da.txt#0": (
        "Syrian Opposition Websites: Military Experts From Iran-Backed Iraqi Militias, Lebanese Hizbullah "
        "Enter Eastern Syria", 9, 2,
        (8, "Delegation From Iraqi Shi'ite Militias Enters Deir Al-Zour"),
        (24, "Over the past month, there have been multiple reports"), ""),
    "003_52b4fc36533fb985.txt#0": (
        "Report: Iraqi Pro-Iran Factions Establish Operations Room with Hamas", 13, 0,
        (13, "Iranian proxies have established"), (37, "Meanwhile, two leaders from the pro-Iran Badr"),
        "Members of Iraq's Shiite al-Nujaba movement"),
    "003_52b4fc36533fb985.txt#1": (
        "Remains of 30 People Believed Killed by ISIS Found in Syria in a Search by Qatar and FBI", 9, 0,
        (53, "The remains of 30 people believed"), (69, "The United Nations in 2021 estimated"),
        "Journalist James Foley responds to questions"),
    "004_ec4515d8566cb32e.txt#0": (
        "Iran Is Working To Restore Hamas Ties With Damascus – Report", 8, 0,
        (6, "The Palestinian Hamas Movement is working"), (20, "Despite these efforts by Iran and Hezbollah"),
        "Hamas members. FILE IMAGE: AP"),
}

# Text a careful reader would never call article body: comments, paywall and promo lines, captions.
NOT_ARTICLES = [
    "Ivanus59", "hvaiallverden", "Hos Ng", "Barba_Papa", "I see no reason to make diplomacy",
    "HAMAS is history", "controlled opposition", "available to subscribers", "login or register",
    "subscription information", "complimentary offering", "monitors, tracks, translates", "Read More",
]
CAPTIONS = ["A man rides a motorbike", "A file photo of two Palestinian fighters", "FILE IMAGE", "(Reuters)",
            "(AFP)", "Journalist James Foley responds"]
FORBIDDEN = NOT_ARTICLES + CAPTIONS


@pytest.fixture(scope="module")
def scan():
    return scan_archive(BUNDLED_ARCHIVE)


def test_the_sample_archive_holds_eight_articles_in_file_order(scan):
    assert [a.id for a in scan.articles] == list(EXPECTED)
    assert scan.skipped == () and scan.warnings == () and scan.duplicate_groups == ()


@pytest.mark.parametrize("article_id", list(EXPECTED))
def test_each_sample_article_matches_a_careful_reading(scan, article_id):
    article = next(a for a in scan.articles if a.id == article_id)
    title, count, headings, (first_line, first_words), (last_line, last_words), caption = EXPECTED[article_id]
    assert article.title == title
    assert len(article.paragraphs) == count
    assert sum(p.is_heading for p in article.paragraphs) == headings
    first, last = article.paragraphs[0], article.paragraphs[-1]
    assert (first.start_line, last.end_line) == (first_line, last_line)
    assert first.text.startswith(first_words) and last.text.startswith(last_words)
    assert article.caption.startswith(caption)
    if caption:
        assert all(caption not in p.text for p in article.paragraphs)


def test_no_artefact_caption_comment_paywall_or_promo_text_in_any_body(scan):
    for article in scan.articles:
        for paragraph in article.paragraphs:
            assert paragraph.text not in {"TT", "print", "20", "."}
            for text in FORBIDDEN:
                assert text not in paragraph.text, (article.id, text)


def test_repeated_headlines_are_not_body_text(scan):
    for article in scan.articles:
        assert all(p.text != article.title for p in article.paragraphs)


def test_metadata_dates_and_outlets(scan):
    by_id = {a.id: a for a in scan.articles}
    memri = by_id["002_257df2b6438dc5da.txt#0"]
    assert (memri.date, memri.outlet) == ("2023-11-09", "MEMRI")
    assert [p.text for p in memri.paragraphs if p.is_heading][1].startswith("Missile And Drone Experts")
    assert by_id["000_e5515dd9d677a34c.txt#0"].outlet == "Asharq Al-Awsat"
    # Dates in captions ("July 19, 2023 (Reuters)") are not publication dates.
    assert all(a.date == "" for a in scan.articles if a is not memri)


def test_cli_articles_json_lists_the_true_titles(capsys):
    status = main(["articles", "--archive", str(BUNDLED_ARCHIVE), "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [row["title"] for row in rows] == [expected[0] for expected in EXPECTED.values()]
    assert rows[0]["source"] == "000_e5515dd9d677a34c.txt" and rows[0]["lines"] == [1, 42]
    assert rows[4]["paragraphs"] == 9


def test_cli_text_output_holds_no_comment_paywall_promo_or_caption_text(capsys):
    status = main(["articles", "--archive", str(BUNDLED_ARCHIVE), "--text"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Hezbollah would help rebuild Lebanon" in out  # the body is there
    for text in FORBIDDEN:
        assert text not in out


def test_cli_json_text_holds_no_comment_paywall_or_promo_text(capsys):
    status = main(["articles", "--archive", str(BUNDLED_ARCHIVE), "--json", "--text"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert all(row["text"] for row in rows)
    for row in rows:
        for text in FORBIDDEN:
            assert text not in row["text"]
    out = json.dumps(rows, ensure_ascii=False)
    assert all(text not in out for text in NOT_ARTICLES)
