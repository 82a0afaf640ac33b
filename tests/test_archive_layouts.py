"""Messy files in layouts other than the sample's (tests/data/archive/): the rules generalise."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.load import scan_archive

MESSY_ARCHIVE = Path(__file__).parent / "data" / "archive"


@pytest.fixture(scope="module")
def scan():
    return scan_archive(MESSY_ARCHIVE)


def article(scan, article_id):
    return next(a for a in scan.articles if a.id == article_id)


def body(item) -> str:
    return "\n".join(p.text for p in item.paragraphs)


def test_every_messy_file_is_read_and_split(scan):
    assert [a.id for a in scan.articles] == [
        "html/desert_patrols.html#0", "html/reservoir_blog.htm#0", "markdown/field_notes.md#0",
        "markdown/two_dispatches.md#0", "markdown/two_dispatches.md#1", "text/blog_comments.txt#0",
        "text/harbour_roundup.txt#0", "text/harbour_roundup.txt#1", "text/paywalled_promo.txt#0",
    ]
    assert scan.skipped == () and scan.warnings == ()


def test_html_page_without_navigation_related_links_or_footer(scan):
    page = article(scan, "html/desert_patrols.html#0")
    assert page.title == "Border Guards Step Up Desert Patrols After Convoy Attack"
    assert (page.date, page.outlet) == ("2022-03-14", "The Valley Courier")
    assert page.caption == "Soldiers patrol a desert road near the border. (AFP)"
    assert [p.is_heading for p in page.paragraphs] == [False, False, True, False, False, False]
    assert page.paragraphs[2].text == "New checkpoints on the highway"
    assert page.paragraphs[0].text.startswith("Border guards have doubled")
    assert page.paragraphs[-1].text.startswith("“We have nowhere else to buy diesel,”")
    for text in ("Home", "Politics", "Related stories", "Fuel prices climb", "Smugglers arrested",
                 "All rights reserved", "Privacy policy", "Facebook", "Soldiers patrol", "dataLayer"):
        assert text not in body(page)


def test_html_blog_loses_its_comment_thread_and_finds_its_publisher_in_the_footer(scan):
    post = article(scan, "html/reservoir_blog.htm#0")
    assert post.title == "Drought Forces Farmers to Abandon Wheat Fields"
    assert (post.date, post.outlet) == ("2021-07-02", "Plains Watch")
    assert len(post.paragraphs) == 4 and post.paragraphs[-1].text.startswith("Engineers warned")
    for text in ("12 Comments", "Farmer Joe", "nobody listened", "Rita K.", "says:", "Donate"):
        assert text not in body(post)


def test_markdown_post_with_front_matter_lists_promo_and_comments(scan):
    post = article(scan, "markdown/field_notes.md#0")
    assert post.title == "Fishermen Return to the Lagoon After the Spill"
    assert (post.date, post.outlet) == ("2020-08-21", "Coastal Review")
    assert post.caption == "Boats moored at the lagoon harbour. Photo: Coastal Review"
    texts = [p.text for p in post.paragraphs]
    assert texts[0].startswith("Fishermen returned to the lagoon on Thursday")
    assert (post.paragraphs[0].start_line, post.paragraphs[0].end_line) == (13, 15)
    assert "What the tests found" in [p.text for p in post.paragraphs if p.is_heading]
    # A bulleted list of sentences is body text, not a comment thread.
    assert "Fish caught near the harbour showed no trace of contamination." in texts
    assert texts[-1].startswith("Local cooperatives say")
    for text in ("Share this", "Advertisement", "Coastal Review Weekly", "newsletter", "Leave a Reply",
                 "saltydog", "lost season", "boats.jpg"):
        assert text not in body(post)


def test_markdown_file_with_one_h1_per_article(scan):
    first = article(scan, "markdown/two_dispatches.md#0")
    second = article(scan, "markdown/two_dispatches.md#1")
    assert first.title == "Rail Link Between the Two Capitals Reopens" and len(first.paragraphs) == 3
    assert second.title == "Power Cuts Return as Fuel Deliveries Stall" and len(second.paragraphs) == 2
    assert second.title_line == 11 and "Power Cuts" not in body(first)


def test_says_style_comments_under_a_count_heading(scan):
    post = article(scan, "text/blog_comments.txt#0")
    assert post.title == "City Council Votes to Close Old Market Hall"
    assert [p.start_line for p in post.paragraphs] == [6, 8, 9]
    for text in ("42 Comments", "John Smith", "says:", "Typical", "fresh fish", "Reply", "TT"):
        assert text not in body(post)


def test_two_articles_separated_by_a_star_line_with_bylines_and_wrapped_lines(scan):
    first = article(scan, "text/harbour_roundup.txt#0")
    second = article(scan, "text/harbour_roundup.txt#1")
    assert first.title == "Harbour Authority Approves New Container Terminal"
    assert (first.date, first.outlet) == ("2021-03-03", "The Harbour Gazette")
    assert [(p.start_line, p.end_line) for p in first.paragraphs] == [(5, 6), (8, 9), (13, 14)]
    assert second.title == "Ferry Operator Cuts Winter Crossings"
    assert [(p.start_line, p.end_line) for p in second.paragraphs] == [(23, 24), (25, 26)]
    for text in ("By Lena Marsh", "Read also", "Port workers strike", "Source:", "* * *", "By Tom Reyes",
                 "Share this"):
        assert text not in body(first) + body(second)


def test_promo_block_and_paywall_tail_are_removed(scan):
    post = article(scan, "text/paywalled_promo.txt#0")
    assert post.title == "Mountain Villages Cut Off by Snowstorm"
    assert post.date == "2022-02-14" and post.caption == "Villages cut off by snow. (AP Photo/Jane Doe)"
    assert [p.text.split()[0] for p in post.paragraphs] == ["Dozens", "Rescue"]
    for text in ("Support Independent Reporting", "Highland Newsroom Fund", "Donate", "Subscribe",
                 "Already have an account", "Premium subscribers"):
        assert text not in body(post)
