"""Block elements separate text in HTML pages: an empty <div> between two sentences is a break, not glue.

Some pages mark paragraph breaks with empty blocks (`<div class="fake-br-for-article-body"></div>`); read
naively, "on Wednesday.<div ...></div>The stabbing" becomes "on Wednesday.The stabbing", the sentence
splitter keeps the two sentences as one, and an answer quotes both. Inline elements (a, em, span) still join
their words as they were, and every paragraph keeps the raw lines it came from.
"""

from __future__ import annotations

import json

from archive.load import articles_from_text
from archive_qa.cli import main
from core.text import split_sentences

FIRST = "A 34-year-old man was charged with attempted murder by harbour police on Wednesday."
SECOND = "The stabbing occurred outside a bar on the quay late on Saturday night, officers said."
THIRD = "The victim, a local fisherman, was taken to the regional hospital with serious injuries."
FOURTH = "He is expected to recover, according to a spokeswoman for the hospital."
FIFTH = "Police asked anyone with dashcam footage of the quay to contact detectives at the harbour station."

FAKE_BR = '<div class="fake-br-for-article-body"></div>'
PAGE = "\n".join([
    "<!DOCTYPE html>",                                                                   # 1
    "<html><head><title>Man Charged After Harbour Stabbing</title></head>",             # 2
    "<body>",                                                                            # 3
    '<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>',  # 4
    "<article>",                                                                         # 5
    "<h1>Man Charged After Harbour Stabbing</h1>",                                       # 6
    '<div class="article-body">',                                                        # 7
    f'<div class="text">{FIRST}{FAKE_BR}{SECOND}</div>',                                 # 8
    '<div class="text">The victim, a local fisherman, was taken to the regional hospital with',  # 9
    f"<em>serious</em> injuries.{FAKE_BR}He is expected to recover,",                    # 10
    "according to a spokeswoman for the hospital.</div>",                                # 11
    '<p>Police asked anyone with <a href="/appeal">dash</a>cam footage of the quay to contact detectives'
    " at the <span>harbour</span> station.</p>",                                         # 12
    "</div>",                                                                            # 13
    "</article>",                                                                        # 14
    "<footer><p>Copyright 2023 Harbour Gazette. All rights reserved.</p></footer>",      # 15
    "</body></html>",                                                                    # 16
    "",
])


def read(page: str = PAGE):
    articles, warning = articles_from_text(page, "stabbing.html", "html")
    assert warning == "" and len(articles) == 1
    return articles[0]


def test_an_empty_block_between_two_sentences_separates_them():
    article = read()
    texts = [p.text for p in article.paragraphs]
    assert texts == [f"{FIRST} {SECOND}", f"{THIRD} {FOURTH}", FIFTH]
    assert "Wednesday.The" not in " ".join(texts) and "injuries.He" not in " ".join(texts)
    assert [s.text for s in split_sentences(texts[0])] == [FIRST, SECOND]
    assert [s.text for s in split_sentences(texts[1])] == [THIRD, FOURTH]


def test_inline_elements_join_their_words_as_before():
    text = read().paragraphs[-1].text
    assert "dashcam footage" in text and "the harbour station." in text and "serious injuries" in read().body


def test_paragraphs_keep_their_raw_line_spans():
    article = read()
    assert article.title == "Man Charged After Harbour Stabbing" and article.title_line == 6
    assert [(p.start_line, p.end_line) for p in article.paragraphs] == [(8, 8), (9, 11), (12, 12)]


def test_text_after_an_empty_block_inside_a_paragraph_is_kept():
    # <div> cannot sit in <p>: the parser closes the <p> there, and the second sentence is left between blocks.
    page = PAGE.replace(f'<div class="text">{FIRST}{FAKE_BR}{SECOND}</div>', f"<p>{FIRST}{FAKE_BR}{SECOND}</p>")
    article = read(page)
    texts = [p.text for p in article.paragraphs]
    assert texts[:2] == [FIRST, SECOND] and texts[-1] == FIFTH
    assert [(p.start_line, p.end_line) for p in article.paragraphs][:2] == [(8, 8), (8, 8)]


def test_line_breaks_list_items_and_table_cells_separate_words():
    body = ("<p>The ferry leaves at noon.<br>It returns at six.</p>\n"
            "<ul><li>Tickets cost four dollars.<ul><li>Children travel free.</li></ul></li></ul>\n"
            "<table><tr><td>Monday</td><td>Closed</td></tr><tr><td>Tuesday</td><td>Open</td></tr></table>\n")
    page = PAGE.replace("<p>Police asked", body + "<p>Police asked")
    text = read(page).body
    assert "noon. It returns" in text
    assert "Tickets cost four dollars." in text and "dollars.Children" not in text
    assert "Monday Closed Tuesday Open" in text


def test_cli_shows_the_two_sentences_apart(tmp_path, capsys):
    (tmp_path / "stabbing.html").write_text(PAGE, encoding="utf-8")
    status = main(["articles", "--archive", str(tmp_path), "--json", "--text"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0 and len(rows) == 1
    assert f"{FIRST} {SECOND}" in rows[0]["text"] and rows[0]["lines"] == [6, 12]
