"""Pure-function tests of the archive stage: classifiers, dates, splitting, cleaning. No files."""

from __future__ import annotations

import pytest

from archive.clean import Hints, clean_segment, content_hash, to_article
from archive.dates import parse_date_line
from archive.lines import lines_from_text
from archive.load import articles_from_text
from archive.markdown import lines_from_markdown
from archive.patterns import (
    find_outlet,
    is_artefact,
    is_caption_credit,
    is_comment_heading,
    is_heading_like,
    paywall_kind,
)
from archive.split import BLANK_RUN_BOUNDARY, SEPARATOR_BOUNDARY, SIGNATURE_BOUNDARY, split_segments

BODY_A = "The ministry said on Monday that the new road would open to traffic before the end of the year."
BODY_B = "Engineers had worked through the winter to finish the bridge over the river, officials added."
BODY_C = "Residents of the valley have waited more than a decade for a paved road to the nearest town."


def clean(text: str, hints: Hints | None = None):
    return clean_segment(lines_from_text(text), hints)


def texts(cleaned) -> list[str]:
    return [p.text for p in cleaned.paragraphs]


@pytest.mark.parametrize("line", ["TT", "print", "20", ".", "Read More", "Share", "Advertisement", "»",
                                  "Share this: Twitter · Facebook", "Follow us on Telegram", "12:30"])
def test_scraper_artefacts_are_recognised(line):
    assert is_artefact(line)


@pytest.mark.parametrize("line", ["Iran", "Hamas said it would not attend.", "Why the Talks Failed",
                                  "Share prices fell sharply in Tehran on Sunday."])
def test_real_text_is_not_an_artefact(line):
    assert not is_artefact(line)


@pytest.mark.parametrize("line", ["Soldiers at a checkpoint near the border. (Reuters)",
                                  "Hamas members. FILE IMAGE: AP", "Photo: Jane Doe",
                                  "A speech still image from video. Reuters TV/Al-Manar TV via Reuters",
                                  "Villagers wait for aid. (AP Photo/John Smith)"])
def test_photo_credits_mark_captions(line):
    assert is_caption_credit(line)


def test_a_body_sentence_ending_in_an_acronym_is_not_a_caption():
    assert not is_caption_credit("Iran-backed militias attacked the Syrian Democratic Forces (SDF).")


@pytest.mark.parametrize(("line", "iso"), [
    ("November 9, 2023", "2023-11-09"), ("Published: 9 Nov 2023", "2023-11-09"),
    ("Thursday, March 3, 2022 - 10:30 AM", "2022-03-03"), ("2021-07-02T08:30:00Z", "2021-07-02"),
    ("Posted on Sept. 3rd, 2021 at 4:15 pm", "2021-09-03"),
])
def test_standalone_date_lines_become_iso_dates(line, iso):
    assert parse_date_line(line) == iso


@pytest.mark.parametrize("line", ["On November 9, 2023, the delegation arrived.", "February 30, 2023",
                                  "May 2023"])
def test_dates_inside_sentences_or_impossible_dates_are_not_publication_dates(line):
    assert parse_date_line(line) == ""


@pytest.mark.parametrize(("line", "outlet"), [
    ("Iraqi sources told The Daily Star on Monday that talks had resumed.", "The Daily Star"),
    ("This report is a complimentary offering from ACME's Monitor. For details, click here.", "ACME"),
    ("© 2022 The Valley Courier. All rights reserved.", "The Valley Courier"),
    ("Source: Harbour Gazette", "Harbour Gazette"),
])
def test_outlet_patterns(line, outlet):
    assert find_outlet(line) == outlet


def test_a_quoted_official_is_not_an_outlet():
    assert find_outlet("An Iranian official told Al-Monitor that Iran has been mediating.") == ""


@pytest.mark.parametrize(("line", "kind"), [
    ("The full text of this post is available to subscribers.", "truncate"),
    ("Subscribe to continue reading", "truncate"),
    ("Please login or register to request subscription information", "notice"),
    ("For XYZ subscription information, click here.", "notice"),
    ("Subscribers to the newspaper rose by ten percent last year, the company said.", ""),
])
def test_paywall_notices(line, kind):
    assert paywall_kind(line) == kind


@pytest.mark.parametrize("line", ["Comments", "42 Comments", "Leave a Reply", "Join the discussion",
                                  "Reader comments", "3 thoughts on “Ferry cuts”", "Comments (12)"])
def test_comment_headings(line):
    assert is_comment_heading(line)


def test_subheadings_are_heading_like_but_sentences_are_not():
    assert is_heading_like("Missile And Drone Experts Enter Syria And Are Deployed In The East")
    assert not is_heading_like("These groups are also fighting ISIS in the Syrian desert.")


def test_three_blank_lines_separate_articles_but_not_before_any_body():
    text = f"First Headline Here\n\n\n\n{BODY_A}\n\n\n\nSecond Headline Here\n\n{BODY_B}\n"
    segments = split_segments(lines_from_text(text))
    assert [s.lines[0].text for s in segments] == ["First Headline Here", "Second Headline Here"]
    assert segments[1].boundary == BLANK_RUN_BOUNDARY


@pytest.mark.parametrize("separator", ["* * *", "---", "***", "=====", "___", "~~~"])
def test_separator_lines_separate_articles(separator):
    text = f"First Headline Here\n\n{BODY_A}\n{separator}\nSecond Headline Here\n\n{BODY_B}\n"
    segments = split_segments(lines_from_text(text))
    assert len(segments) == 2 and segments[1].boundary == SEPARATOR_BOUNDARY


def test_a_repeated_headline_after_body_text_starts_a_new_article():
    text = (f"First Headline Here\n\n{BODY_A}\n\nSecond Story Headline\nA caption\nA caption\n\n"
            f"Second Story Headline\n\n{BODY_B}\n")
    segments = split_segments(lines_from_text(text))
    assert len(segments) == 2 and segments[1].boundary == SIGNATURE_BOUNDARY
    assert segments[1].lines[0].text == "Second Story Headline"


def test_scraped_header_is_cleaned_title_caption_and_artefacts():
    text = ("Road Opens Across the Valley\n\nA truck on the new road\nA truck on the new road\nTT\n20\n\n"
            "Road Opens Across the Valley\n\n A truck on the new road\nA truck on the new road\n\n"
            f"{BODY_A}\n\n{BODY_B}\n")
    cleaned = clean(text)
    assert cleaned.title == "Road Opens Across the Valley" and cleaned.title_line == 1
    assert cleaned.caption == "A truck on the new road"
    assert texts(cleaned) == [BODY_A, BODY_B]
    assert [(p.start_line, p.end_line) for p in cleaned.paragraphs] == [(13, 13), (15, 15)]


def test_credit_caption_is_kept_once_and_its_date_is_not_the_publication_date():
    text = f"Road Opens\n\nWorkers on the road, May 27, 2011. (AFP)\n\n{BODY_A}\n"
    cleaned = clean(text)
    assert cleaned.caption == "Workers on the road, May 27, 2011. (AFP)"
    assert cleaned.date == "" and texts(cleaned) == [BODY_A]


def test_date_byline_and_subscription_lines_in_the_header():
    text = ("Road Opens\nprint\nBy Jane Doe | March 3, 2021\n\n"
            "This report is a complimentary offering from Acme Monitor. "
            "For subscription information, click here.\n\n"
            f"{BODY_A}\n")
    cleaned = clean(text)
    assert cleaned.date == "2021-03-03" and cleaned.outlet == "Acme Monitor"
    assert texts(cleaned) == [BODY_A]


def test_each_scraped_line_is_a_paragraph_but_hard_wrapped_lines_join():
    scraped = clean(f"Road Opens\n\n{BODY_A}\n{BODY_B}\n{BODY_C}\n")
    assert texts(scraped) == [BODY_A, BODY_B, BODY_C]
    wrapped = clean("Road Opens\n\nThe ministry said on Monday that the new road\n"
                    "would open to traffic before the end of\nthe year, officials said.\n")
    assert texts(wrapped) == ["The ministry said on Monday that the new road would open to traffic before "
                              "the end of the year, officials said."]
    assert (wrapped.paragraphs[0].start_line, wrapped.paragraphs[0].end_line) == (3, 5)


def test_subheadings_are_kept_and_flagged():
    cleaned = clean(f"Road Opens\n\n{BODY_A}\n\nWhat Happens Next for the Villages\n\n{BODY_B}\n")
    assert [(p.text, p.is_heading) for p in cleaned.paragraphs] == [
        (BODY_A, False), ("What Happens Next for the Villages", True), (BODY_B, False)]


def test_bulleted_handles_with_indented_text_are_reader_comments():
    text = (f"Road Opens\n\n{BODY_A}\n\n  • roadwatcher\n\n"
            "    Finally, it only took them ten years to do it.\n\n"
            "  • Jane D\n\n    Who is going to pay for the repairs?\n")
    cleaned = clean(text)
    assert texts(cleaned) == [BODY_A] and cleaned.ended_by == "comments"


def test_a_bullet_holding_a_sentence_is_body_text():
    text = (f"Road Opens\n\n{BODY_A}\n\n• The road will carry up to two thousand vehicles a day.\n"
            f"• A second bridge is planned for next year.\n\n{BODY_B}\n")
    assert texts(clean(text)) == [BODY_A, "The road will carry up to two thousand vehicles a day.",
                                  "A second bridge is planned for next year.", BODY_B]


def test_says_style_comments_are_removed_even_without_a_heading():
    text = (f"Road Opens\n\n{BODY_A}\n\nTom Baker says:\nMarch 3, 2019 at 4:15 pm\nAbout time too.\n\n"
            "Ann Lee says:\nMarch 4, 2019 at 9:00 am\nToo late for us.\n")
    assert texts(clean(text)) == [BODY_A]


def test_a_comment_count_in_the_header_does_not_end_the_article():
    assert texts(clean(f"Road Opens\n12 Comments\n\n{BODY_A}\n")) == [BODY_A]


def test_a_paywall_truncation_drops_the_rest_of_the_article():
    text = f"Road Opens\n\n{BODY_A}\n\nThe full text of this post is available to subscribers.\n\n{BODY_B}\n"
    cleaned = clean(text)
    assert texts(cleaned) == [BODY_A] and cleaned.ended_by == "paywall"


def test_a_promotional_block_is_removed_with_its_heading():
    text = (f"Road Opens\n\n{BODY_A}\n\nThe Valley Fund\n\n"
            "The Valley Fund is a non-profit that supports local reporting across the region.\n\n"
            f"Learn more\n\n{BODY_B}\n")
    assert texts(clean(text)) == [BODY_A, BODY_B]


def test_a_real_section_followed_by_a_read_more_link_is_kept():
    text = f"Road Opens\n\n{BODY_A}\n\nWhat Happens Next for the Villages\n\n{BODY_B}\n\nRead more\n"
    assert texts(clean(text)) == [BODY_A, "What Happens Next for the Villages", BODY_B]


def test_a_segment_that_is_only_a_promotion_or_a_paywall_is_not_an_article():
    promo = clean("Support Our Newsroom\n\nOur newsroom is funded by readers like you.\n\nDonate\n")
    paywall = clean("Road Opens\n\nSubscribe to continue reading\n\nLog in to read more.\n")
    assert to_article(promo, "a.txt", 0) is None and to_article(paywall, "a.txt", 0) is None


def test_hints_from_metadata_fill_date_and_outlet():
    cleaned = clean(f"Road Opens\n\n{BODY_A}\n", Hints(date="2020-01-02", outlet="Valley Post"))
    assert (cleaned.date, cleaned.outlet) == ("2020-01-02", "Valley Post")


def test_article_ids_positions_and_content_hash():
    articles, _ = articles_from_text(f"One Headline\n\n{BODY_A}\n---\nTwo Headline\n\n{BODY_B}\n", "x/y.txt")
    assert [a.id for a in articles] == ["x/y.txt#0", "x/y.txt#1"]
    assert articles[0].content_hash == content_hash(articles[0].title, articles[0].paragraphs)
    assert articles[0].content_hash != articles[1].content_hash


def test_markdown_headings_split_articles_and_keep_line_maps():
    document = lines_from_markdown(f"# One Headline\n\n{BODY_A}\n\n# Two Headline\n\n"
                                   "Some *wrapped*\n[linked](http://x) text that goes on.\n")
    segments = split_segments(document.lines)
    assert [s.lines[0].text for s in segments] == ["One Headline", "Two Headline"]
    last = segments[1].lines[-1]
    assert (last.text, last.start, last.end) == ("Some wrapped linked text that goes on.", 7, 8)


def test_a_loose_list_item_with_an_indented_explanation_is_not_a_comment_thread():
    text = f"Road Opens\n\n{BODY_A}\n\n- Key findings\n\n  {BODY_B}\n\n{BODY_C}\n"
    assert texts(clean(text)) == [BODY_A, "Key findings", BODY_B, BODY_C]


def test_section_headings_that_merely_resemble_comment_or_byline_lines_are_kept():
    by_monday = "By Monday, the road will be open to all traffic."
    text = f"Road Opens\n\n{BODY_A}\n\nReactions\n\n{BODY_B}\n\n{by_monday}\n"
    assert texts(clean(text)) == [BODY_A, "Reactions", BODY_B, by_monday]


def test_a_file_without_a_headline_gets_a_title_from_its_first_words():
    prose = " ".join([BODY_A, BODY_B, BODY_C])
    cleaned = clean(f"{prose}\n\n{BODY_A}\n")
    assert cleaned.title == " ".join(prose.split()[:12]) + "…" and cleaned.title_line == 1
    assert texts(cleaned) == [prose, BODY_A]


def test_a_caption_sentence_printed_twice_does_not_count_as_body_for_splitting():
    caption = "Workers stand on the new road near the village on Sunday, officials said."
    text = (f"Road Opens Across the Valley\n\n{caption}\n{caption}\n\nRoad Opens Across the Valley\n\n"
            f"Road Opens Across the Valley\n\n{BODY_A}\n")
    assert len(split_segments(lines_from_text(text))) == 1
    assert texts(clean(text)) == [BODY_A]
