"""HTML for answers, passages, articles and raw lines.

Article text is data: every piece of it is escaped before highlighting marks are added, so a file
holding `<script>` or markup shows it as text and never injects HTML into the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

from archive.records import Article
from qa.records import PHRASE_SEPARATOR, Answer
from ui.evidence import RawLine, spans_overlap

CSS = """
<style>
.aq-answer { font-size: 1.08rem; line-height: 1.65; }
.aq-cite { font-size: .72em; font-weight: 600; vertical-align: super; padding: 0 .25em; margin-left: .1em;
  border-radius: .35em; background: rgba(49, 130, 206, .16); color: inherit; white-space: nowrap; }
.aq-unsupported { text-decoration: underline dotted rgba(214, 69, 65, .9); text-underline-offset: .2em; }
.aq-flag { font-size: .72em; padding: 0 .35em; margin-left: .3em; border-radius: .35em;
  background: rgba(214, 69, 65, .15); white-space: nowrap; }
.aq-passage { white-space: pre-wrap; line-height: 1.6; padding: .6rem .8rem; border-radius: .4rem;
  border-left: 3px solid rgba(255, 193, 7, .9); background: rgba(128, 128, 128, .06); }
.aq-passage mark, .aq-article mark { background: rgba(255, 214, 0, .5); color: inherit; padding: 0 .1em;
  border-radius: .15em; }
.aq-answer mark.aq-answer-span { background: rgba(255, 214, 0, .55); color: inherit; padding: 0 .1em;
  border-radius: .15em; font-weight: 600; }
.aq-phrase { font-size: 1.3rem; line-height: 1.4; margin: 0 0 .35rem 0; }
.aq-phrase strong { font-weight: 700; }
.aq-answer .aq-quoted { padding-left: .75rem; border-left: 3px solid rgba(128, 128, 128, .35); }
.aq-confidence { font-size: .72rem; font-weight: 400; color: rgba(128, 128, 128, .95); margin-left: .4em;
  white-space: nowrap; cursor: help; }
.aq-meta { font-size: .85rem; opacity: .75; margin: .1rem 0 .5rem 0; }
.aq-meta code { font-size: .85em; }
.aq-article { max-height: 32rem; overflow-y: auto; padding-right: .5rem; line-height: 1.6; }
.aq-article h4 { margin: .2rem 0 .6rem 0; }
.aq-article .aq-para { margin: 0 0 .7rem 0; padding: .15rem .5rem; border-left: 3px solid transparent; }
.aq-article .aq-heading { font-weight: 600; }
.aq-article .aq-in-passage { border-left-color: rgba(255, 193, 7, .9); background: rgba(255, 214, 0, .1); }
.aq-article .aq-lines, .aq-raw .aq-ln { font-family: monospace; font-size: .75rem; opacity: .55; }
.aq-article .aq-caption { font-style: italic; opacity: .8; }
.aq-raw { font-family: monospace; font-size: .82rem; line-height: 1.45; overflow-x: auto;
  padding: .4rem 0; border-radius: .4rem; background: rgba(128, 128, 128, .07); }
.aq-raw div { white-space: pre-wrap; padding: 0 .6rem; }
.aq-raw .aq-cited { background: rgba(255, 214, 0, .22); }
.aq-raw .aq-ln { display: inline-block; min-width: 3.2em; text-align: right; margin-right: .8em;
  user-select: none; }
.aq-also { font-size: .85rem; opacity: .8; }
[class*="st-key-history_"] button { justify-content: flex-start; text-align: left; padding-left: 0; }
[class*="st-key-history_"] button p { text-align: left; }
</style>
"""

_MARKERS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_PIECES = re.compile(r"\s*(?:…|\.\.\.)\s*|(?<=[.!?])\s+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md_escape(text: str) -> str:
    """Text safe to place inside Streamlit Markdown (labels, captions): no formatting, no LaTeX."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def md_code(text: str) -> str:
    """Text as a Markdown code span: shown literally, nothing to escape but the backtick itself."""
    return "`" + text.replace("`", "'") + "`"


def _pattern(quote: str) -> re.Pattern[str] | None:
    words = quote.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(word) for word in words))


def quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Character spans of `quote` in `text`, tolerant of line breaks; else of its sentences or pieces."""
    pattern = _pattern(quote)
    if pattern is None:
        return []
    found = pattern.search(text)
    if found:
        return [found.span()]
    spans = []
    for piece in _PIECES.split(quote):
        if len(piece.strip()) < 12:  # too short to point at one place
            continue
        piece_pattern = _pattern(piece)
        if piece_pattern and (match := piece_pattern.search(text)):
            spans.append(match.span())
    return spans


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, quotes: Sequence[str] = ()) -> str:
    """`text` escaped for HTML, with every quote found in it wrapped in <mark>."""
    spans = _merge(span for quote in quotes for span in quote_spans(text, quote))
    out, position = [], 0
    for start, end in spans:
        out.append(escape(text[position:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def _markers(numbers: Iterable[int]) -> str:
    return "".join(f'<span class="aq-cite">[{n}]</span>' for n in numbers)


CONFIDENCE_HELP = ("The span reader's confidence, from 0 to 1, that this phrase (not \"no answer\") is what "
                   "the quoted passages say")


def phrase_html(answer: Answer) -> str:
    """The phrase the answer leads with, in bold on its own line, its confidence beside it in small grey text."""
    confidence = ""
    if answer.phrase_score is not None:  # after a space, so that copied text reads "Name confidence 0.93"
        confidence = (f' <span class="aq-confidence" title="{escape(CONFIDENCE_HELP)}">'
                      f"confidence {answer.phrase_score:.2f}</span>")
    return f'<div class="aq-phrase"><strong>{escape(answer.phrase)}</strong>{confidence}</div>'


def answer_html(answer: Answer) -> str:
    """The answer: its phrase first, in bold (when the span reader found one), then the quoted sentences with
    the phrase marked inside them, their citation markers as badges and unsupported sentences flagged."""
    body = _sentences_html(answer)
    if answer.phrase and not answer.abstained:
        return f'<div class="aq-answer">{phrase_html(answer)}<div class="aq-quoted">{body}</div></div>'
    return f'<div class="aq-answer">{body}</div>'


def _sentences_html(answer: Answer) -> str:
    if answer.sentences:
        parts = []
        spans = {c.n: (c.quote, c.answer_span) for c in answer.citations if c.answer_span}
        for sentence in answer.sentences:
            text = _with_answer_span(_MARKERS.sub("", sentence.text).strip(), sentence.citations, spans)
            if sentence.supported:
                parts.append(f"<span>{text}</span>{_markers(sentence.citations)}")
            else:
                parts.append(
                    f'<span class="aq-unsupported" title="no cited passage supports it">{text}</span>'
                    f'{_markers(sentence.citations)}<span class="aq-flag">unsupported</span>'
                )
        return " ".join(parts)
    text = answer.answer
    if answer.phrase and text.startswith(answer.phrase + PHRASE_SEPARATOR):  # the phrase is shown above
        text = text[len(answer.phrase + PHRASE_SEPARATOR):]
    return _MARKER.sub(lambda m: _markers(int(n) for n in m.group(1).split(",")), escape(text))


def _with_answer_span(text: str, citations: Iterable[int], spans: dict) -> str:
    """`text` escaped, its answering phrase (the citation's answer_span, when the sentence is the quote) in <mark>."""
    for n in citations:
        quote, span = spans.get(n, (None, None))
        if span and quote == text and 0 <= span[0] < span[1] <= len(text):
            start, end = span
            return (f"{escape(text[:start])}<mark class=\"aq-answer-span\">{escape(text[start:end])}</mark>"
                    f"{escape(text[end:])}")
    return escape(text)


def meta_html(parts: Sequence[str], location: str = "") -> str:
    """One line of metadata: outlet · date · `file:lines`."""
    items = [escape(part) for part in parts if part]
    if location:
        items.append(f"<code>{escape(location)}</code>")
    return f'<div class="aq-meta">{" · ".join(items)}</div>'


def passage_html(text: str, quotes: Sequence[str] = ()) -> str:
    return f'<div class="aq-passage">{highlight(text, quotes)}</div>'


def article_html(article: Article, passage_lines: tuple[int, int] | None, quotes: Sequence[str] = ()) -> str:
    """The whole cleaned article, the passage's paragraphs marked in place, the quotes highlighted."""
    rows = [f"<h4>{escape(article.title)}</h4>"]
    if article.caption:
        rows.append(f'<p class="aq-para aq-caption">Photo caption: {escape(article.caption)}</p>')
    for paragraph in article.paragraphs:
        inside = passage_lines is not None and spans_overlap(
            (paragraph.start_line, paragraph.end_line), passage_lines
        )
        classes = ["aq-para"]
        if paragraph.is_heading:
            classes.append("aq-heading")
        if inside:
            classes.append("aq-in-passage")
        span = (
            f"{paragraph.start_line}"
            if paragraph.start_line == paragraph.end_line
            else f"{paragraph.start_line}-{paragraph.end_line}"
        )
        text = highlight(paragraph.text, quotes if inside else ())
        rows.append(f'<p class="{" ".join(classes)}"><span class="aq-lines">L{span}</span> {text}</p>')
    return f'<div class="aq-article">{"".join(rows)}</div>'


def raw_lines_html(lines: Sequence[RawLine]) -> str:
    """Raw file lines with their numbers; the cited ones shaded."""
    rows = [
        f'<div class="{"aq-cited" if line.cited else ""}"><span class="aq-ln">{line.number}</span>'
        f"{escape(line.text) or '&#8203;'}</div>"
        for line in lines
    ]
    return f'<div class="aq-raw">{"".join(rows)}</div>'
