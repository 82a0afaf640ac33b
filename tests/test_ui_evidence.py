"""Pure helpers of the app: reading only inside the archive, finding passages, safe highlighting."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace

import pytest

from archive.records import Article, Paragraph
from core.files import UnsafePath, safe_source_path
from index.records import Chunk, Hit
from qa.records import Answer, AnswerSentence, Citation
from ui.evidence import passage_for, read_raw_lines
from ui.exports import citations_csv, citations_json
from ui.markup import answer_html, article_html, highlight, md_escape, quote_spans, raw_lines_html
from ui.sidebar import history_outcome


@pytest.fixture()
def archive(tmp_path):
    root = tmp_path / "archive"
    (root / "news").mkdir(parents=True)
    (root / "a.txt").write_text("".join(f"line {n}\n" for n in range(1, 21)), encoding="utf-8")
    (root / "news" / "b.txt").write_text("first\nsecond\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside\n", encoding="utf-8")
    return root


def test_files_inside_the_archive_are_read(archive):
    assert safe_source_path(archive, "a.txt") == (archive / "a.txt").resolve()
    assert safe_source_path(archive, "news/b.txt") == (archive / "news" / "b.txt").resolve()
    assert safe_source_path(archive, "news/../a.txt") == (archive / "a.txt").resolve()


@pytest.mark.parametrize(
    "source",
    ["../../etc/passwd", "../secret.txt", "/etc/passwd", "news/../../secret.txt", "", "news", "missing.txt",
     "a.txt\x00.png"],
)
def test_paths_that_leave_the_archive_are_refused(archive, source):
    with pytest.raises(UnsafePath):
        safe_source_path(archive, source)


def test_symlinks_out_of_the_archive_are_refused(archive, tmp_path):
    os.symlink(tmp_path / "secret.txt", archive / "link.txt")
    os.symlink(tmp_path, archive / "escape")
    os.symlink(archive / "a.txt", archive / "inside.txt")
    with pytest.raises(UnsafePath):
        safe_source_path(archive, "link.txt")
    with pytest.raises(UnsafePath):
        safe_source_path(archive, "escape/secret.txt")
    with pytest.raises(UnsafePath):
        read_raw_lines(archive, "link.txt", 1, 1)
    assert safe_source_path(archive, "inside.txt") == (archive / "a.txt").resolve()


def test_raw_lines_are_numbered_with_context_and_the_cited_ones_marked(archive):
    lines = read_raw_lines(archive, "a.txt", 5, 6, context=2)
    assert [line.number for line in lines] == [3, 4, 5, 6, 7, 8]
    assert [line.text for line in lines if line.cited] == ["line 5", "line 6"]
    assert [line.number for line in read_raw_lines(archive, "a.txt", 1, 1, context=2)] == [1, 2, 3]
    assert [line.number for line in read_raw_lines(archive, "a.txt", 20, 20, context=2)] == [18, 19, 20]


def _hit(source, start, end, rank=1, text="text"):
    chunk = Chunk(id=f"{source}-{start}", article_id=f"{source}#0", ordinal=0, source=source, title="T",
                  text=text, start_line=start, end_line=end)
    return Hit(rank=rank, score=1.0, chunk=chunk)


def test_a_citation_finds_the_passage_that_holds_its_lines():
    hits = [_hit("a.txt", 1, 4, 1), _hit("b.txt", 5, 9, 2), _hit("a.txt", 5, 12, 3)]
    assert passage_for("a.txt", 6, 7, hits) is hits[2]
    assert passage_for("a.txt", 3, 6, hits) is hits[0]  # overlapping, when none holds the span whole
    assert passage_for("c.txt", 1, 2, hits) is None


def test_highlighting_escapes_article_text_before_marking_quotes():
    text = 'Officials said <script>alert("x")</script> that\nthe strikes would continue & escalate.'
    html = highlight(text, ["the strikes would continue & escalate."])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert html.endswith("<mark>the strikes would continue &amp; escalate.</mark>")


def test_quotes_are_found_across_line_breaks_and_by_their_sentences():
    text = "One. Hezbollah threatened to strike\nTel Aviv. Other text. The group said it would retaliate."
    assert quote_spans(text, "Hezbollah threatened to strike Tel Aviv.")
    spans = quote_spans(text, "Hezbollah threatened to strike Tel Aviv. … The group said it would retaliate.")
    assert len(spans) == 2
    assert quote_spans(text, "Nothing like this appears.") == []


def test_answer_markers_and_unsupported_sentences():
    answer = Answer(
        question="q", answer="A <b>bold</b> claim [1]. Another [2].", abstained=False,
        sentences=(AnswerSentence("A <b>bold</b> claim [1].", (1,)), AnswerSentence("Another.", (2,), False)),
    )
    html = answer_html(answer)
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert html.count('class="aq-cite"') == 2
    assert "aq-unsupported" in html
    plain = answer_html(Answer(question="q", answer="Claim [1][2].", abstained=False))
    assert plain.count('class="aq-cite"') == 2


QUOTE = "Rami Abdul Rahman, who heads the Syrian Observatory, said the strikes went on."


def _phrase_answer(phrase: str = "Rami Abdul Rahman", quote: str = QUOTE, score: float | None = 0.9312) -> Answer:
    start = quote.index(phrase)
    return Answer(
        question="Who heads the Syrian Observatory?", answer=f"{phrase} — {quote} [1]", abstained=False,
        citations=(Citation(1, "a.txt", "T", 3, 3, quote, answer_span=(start, start + len(phrase))),),
        sentences=(AnswerSentence(quote, (1,)),), phrase=phrase, phrase_score=score,
    )


def test_the_phrase_leads_in_bold_above_the_quote_that_marks_it():
    html = answer_html(_phrase_answer())
    lead = html.index('<div class="aq-phrase"><strong>Rami Abdul Rahman</strong>')
    quoted = html.index('<div class="aq-quoted">')
    marked = html.index('<mark class="aq-answer-span">Rami Abdul Rahman</mark>')
    assert lead < quoted < marked < html.index('class="aq-cite">[1]')
    assert 'class="aq-confidence"' in html and "confidence 0.93" in html  # discreet, with a tooltip saying what
    assert html.count("Rami Abdul Rahman") == 2  # once bold, once marked in the quote: not "phrase — quote" again
    assert " — " not in html
    without_score = answer_html(_phrase_answer(score=None))
    assert "aq-phrase" in without_score and "confidence" not in without_score


def test_an_answer_without_a_phrase_is_shown_as_before():
    plain = replace(_phrase_answer(), answer=f"{QUOTE} [1]", phrase="", phrase_score=None)
    html = answer_html(plain)
    assert "aq-phrase" not in html and "aq-quoted" not in html
    assert html.startswith('<div class="aq-answer"><span>') and '<mark class="aq-answer-span">' in html
    # Abstained: the phrase (there should be none) is never shown as an answer.
    assert "aq-phrase" not in answer_html(replace(_phrase_answer(), abstained=True))


def test_a_phrase_holding_markup_is_shown_as_text():
    phrase = "<script>alert('x')</script> & <b>Co</b>"
    html = answer_html(_phrase_answer(phrase, f"The note said {phrase} did it."))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    lead = html[html.index('<div class="aq-phrase">'):html.index('<div class="aq-quoted">')]
    assert "<strong>&lt;script&gt;" in lead
    assert '<mark class="aq-answer-span">&lt;script&gt;' in html
    # Without sentences the answer text is shown, its leading "phrase — " left to the bold line, still escaped.
    bare = answer_html(replace(_phrase_answer(phrase, f"The note said {phrase} did it."), sentences=()))
    assert "<script>" not in bare and bare.count("&lt;script&gt;") == 2


def test_the_downloads_of_an_answer_carry_its_phrase():
    rows = list(csv.DictReader(io.StringIO(citations_csv(_phrase_answer()))))
    assert [(row["question"], row["phrase"], row["phrase_score"], row["n"]) for row in rows] == [
        ("Who heads the Syrian Observatory?", "Rami Abdul Rahman", "0.9312", "1")]
    document = json.loads(citations_json(_phrase_answer()))
    assert (document["phrase"], document["phrase_score"]) == ("Rami Abdul Rahman", 0.9312)
    assert document["citations"][0]["answer_span"] == [0, len("Rami Abdul Rahman")]
    empty = list(csv.DictReader(io.StringIO(citations_csv(replace(_phrase_answer(), phrase="", phrase_score=None)))))
    assert (empty[0]["phrase"], empty[0]["phrase_score"]) == ("", "")


def test_the_history_tooltip_names_the_phrase():
    starred = _phrase_answer("A *starred* phrase", "They said A *starred* phrase.")
    assert history_outcome(starred) == r"Answer: **A \*starred\* phrase**"
    assert history_outcome(replace(_phrase_answer(), abstained=True)) == "No answer in the archive"
    plain = replace(_phrase_answer(), answer=f"{QUOTE} [1]", phrase="", phrase_score=None)
    outcome = history_outcome(plain)
    assert outcome.startswith("Answer: Rami Abdul Rahman, who heads") and len(outcome) < 100


def test_article_marks_the_passage_in_place():
    article = Article(
        id="a#0", source="a.txt", position=0, title="Title <i>", title_line=1,
        paragraphs=(Paragraph("Before.", 3, 3), Paragraph("The cited <passage> here.", 5, 6),
                    Paragraph("After.", 8, 8)),
    )
    html = article_html(article, (5, 6), ["cited <passage>"])
    assert html.count("aq-in-passage") == 1
    assert "<mark>cited &lt;passage&gt;</mark>" in html
    assert "Title &lt;i&gt;" in html


def test_raw_lines_html_escapes(archive):
    (archive / "c.html").write_text("<p>hello</p>\n", encoding="utf-8")
    html = raw_lines_html(read_raw_lines(archive, "c.html", 1, 1))
    assert "&lt;p&gt;hello&lt;/p&gt;" in html and "aq-cited" in html


def test_markdown_escaping_neutralises_formatting_and_latex():
    assert md_escape("costs $5 and *more* [x](y)") == r"costs \$5 and \*more\* \[x\]\(y\)"


def test_raw_lines_are_counted_as_sed_counts_them_even_with_a_stray_carriage_return(tmp_path):
    (tmp_path / "cr.txt").write_bytes(b"one\ntwo\rstill two\nthree\n")
    lines = read_raw_lines(tmp_path, "cr.txt", 3, 3, context=0)
    assert [(line.number, line.text) for line in lines] == [(3, "three")]
