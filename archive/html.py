"""HTML into source lines: trafilatura finds the article, html.parser finds where its text sits. Pure.

trafilatura drops navigation, related links, footers and (asked to) comment sections, and returns the
main text as paragraphs, headings and list items. Each piece is then located in the raw HTML by matching
its text, whitespace ignored, against the text nodes html.parser saw with their line numbers.

A block element's edge separates words wherever it sits, empty or not: "on Wednesday.<div class=
"fake-br-for-article-body"></div>The stabbing" is two sentences. trafilatura flattens nested blocks into one
paragraph with their texts glued, so the parsed page gets a space at each block edge before extraction (a
space in a text node moves no line), and trafilatura's output is read the same way: a block nested in another
(a <p> in a <div>, an item in an item, text left between blocks) is a piece of its own, and line breaks, table
rows and cells separate words. Inline elements (a, span, em, trafilatura's hi/ref) are joined as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, cast

from archive.clean import Hints
from archive.dates import html_published_date, normalise_date
from archive.lines import BLANK, SourceLine
from archive.patterns import find_outlet, is_publisher_line
from core.files import LineLocator
from core.text import key_text

if TYPE_CHECKING:
    from trafilatura.settings import Document

_INVISIBLE = {"script", "style", "noscript", "template", "svg"}

# Elements that start and end a block of text: HTML's block-level elements, and the blocks of trafilatura's
# output (p, head, list, item, quote, table, row; it keeps a <div> now and then).
_BLOCKS = frozenset([
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog", "dir", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "tfoot", "thead", "tr", "ul",
    "head", "item", "list", "quote", "row",
])
# Elements that separate words without ending a block: line breaks and table cells (trafilatura's lb, cell).
_BREAKS = frozenset(["br", "hr", "td", "th", "lb", "cell"])
_SEPARATING = _BLOCKS | _BREAKS  # (the page's <head> is spaced too, harmlessly: it holds no body text)


@dataclass(frozen=True)
class HtmlDocument:
    lines: list[SourceLine]
    hints: Hints
    unplaced: int = 0  # paragraphs whose raw lines could not be found (left out)


class _TextNodes(HTMLParser):
    """Visible text with the raw line of every character, whitespace removed; and the first caption."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chars: list[str] = []
        self.lines: list[int] = []
        self.caption_parts: list[str] = []
        self.caption_done = False
        self.body_start = 0  # where <body> begins in the text stream: <title> is not article text
        self.publisher_lines: list[str] = []  # "© 2021 X" lines, wherever they are (often the footer)
        self._hidden = 0
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self._hidden += 1
        elif tag == "body":
            self.body_start = len(self.chars)
        elif tag == "figcaption" and not self.caption_done:
            self._in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE and self._hidden:
            self._hidden -= 1
        elif tag == "figcaption" and self._in_caption:
            self._in_caption, self.caption_done = False, True

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._in_caption:
            self.caption_parts.append(data)
        if is_publisher_line(data):
            self.publisher_lines.append(" ".join(data.split()))
        line = self.getpos()[0]
        for char in data:
            if char == "\n":
                line += 1
            elif not char.isspace():
                self.chars.append(char)
                self.lines.append(line)


class _Locator:
    """Finds extracted text in the raw page, in reading order (core.files.LineLocator over its text nodes)."""

    def __init__(self, nodes: _TextNodes) -> None:
        self.lines = LineLocator(list(zip(nodes.chars, nodes.lines, strict=True)))
        # Keyed offset of the body's first character (minified pages hold <title> and <body> on one line).
        self.cursor = len(key_text("".join(nodes.chars[: nodes.body_start])))

    def locate(self, text: str) -> tuple[int, int] | None:
        found = self.lines.find(text, self.cursor) or (self.lines.find(text) if self.cursor else None)
        if found is None:
            return None
        self.cursor = found[1] + 1
        return self.lines.lines_of(found)

    def locate_title(self, title: str, before: int) -> int | None:
        """The title's line, preferring the visible headline just before the body over <title>."""
        best = None
        found = self.lines.find(title)
        while found is not None and self.lines.lines_of(found)[0] <= before:
            best = self.lines.lines_of(found)[0]
            found = self.lines.find(title, found[0] + 1)
        if best is None and found is not None:
            best = self.lines.lines_of(found)[0]
        return best


def _heading_level(rend: str) -> int:
    """trafilatura marks headings rend="h1".."h6"; anything else counts as a subheading."""
    return int(rend[1]) if len(rend) == 2 and rend[0] == "h" and rend[1].isdigit() else 2


def _raw_line_containing(raw: str, text: str) -> int | None:
    needle = " ".join(text.split())
    for number, line in enumerate(raw.split("\n"), start=1):
        if needle and needle in " ".join(line.split()):
            return number
    return None


def _is_element(node: Any) -> bool:
    """An element, not a comment or processing instruction (whose .tag is a function)."""
    return isinstance(node.tag, str)


def _spaced_blocks(tree: Any) -> Any:
    """The parsed page with a space on either side of every block element and line break, in place.

    The space goes into the text before the element (its parent's text or its previous sibling's tail) and
    into its own tail: text nodes only, so no raw line moves and no word inside an inline element is split.
    """
    for element in list(tree.iter()):
        if not _is_element(element) or element.tag not in _SEPARATING:
            continue
        previous, parent = element.getprevious(), element.getparent()
        if previous is not None:
            previous.tail = (previous.tail or "") + " "
        elif parent is not None:
            parent.text = (parent.text or "") + " "
        element.tail = " " + (element.tail or "")
    return tree


def _holds_block(element: Any) -> bool:
    """Whether a block sits inside: a quote does not count, trafilatura makes one of an inline <q> too (and of
    a <pre> some pages put mid-sentence); a quote between blocks is still a piece of its own."""
    return any(_is_element(inner) and inner.tag in _BLOCKS and inner.tag != "quote"
               for inner in element.iterdescendants())


def _gap(element: Any) -> str:
    """What separates an element from the words around it inside one piece: a space for a line break, a
    cell, a row or a block inside a table; nothing for inline markup and quotes (an inline <q> is one)."""
    separates = _is_element(element) and element.tag != "quote" and element.tag in _SEPARATING
    return " " if separates else ""


def _inline_text(element: Any) -> str:
    """An element's text, its tail left out."""
    parts = [element.text or ""] if _is_element(element) else []
    for child in element:
        gap = _gap(child)
        parts += [gap, _inline_text(child), gap, child.tail or ""]
    return "".join(parts)


def _pieces(element: Any) -> Iterator[tuple[Any, str]]:
    """The blocks of trafilatura's output in reading order, as (element, text) with whitespace normalised.

    A block holding no other block is one piece, and so is a table (its rows and cells separated by spaces:
    a row of figures alone would be dropped as an artefact). A block holding blocks (the body, a <div>, a
    list, an item with a nested list) yields each of them in turn, and the text between them as pieces of its
    own, owned by the holder (so an item's own words stay a bullet).
    """
    if element.tag == "table" or not _holds_block(element):
        text = " ".join(_inline_text(element).split())
        if text:
            yield element, text
        return
    run = [element.text or ""]
    for child in element:
        if _is_element(child) and (child.tag in _BLOCKS or _holds_block(child)):
            if text := " ".join("".join(run).split()):
                yield element, text
            yield from _pieces(child)
            run = [child.tail or ""]
        else:
            gap = _gap(child)
            run += [gap, _inline_text(child), gap, child.tail or ""]
    if text := " ".join("".join(run).split()):
        yield element, text


def visible_characters(raw: str) -> list[tuple[str, int]]:
    """The page's visible text, one (character, raw line) pair a character, whitespace left out.

    What a citation of an HTML page is checked and narrowed against: its raw lines hold tags and entities
    between the words (a minified page holds the whole article on one line).
    """
    nodes = _TextNodes()
    nodes.feed(raw)
    nodes.close()
    return list(zip(nodes.chars, nodes.lines, strict=True))


def lines_from_html(raw: str) -> HtmlDocument:
    """The article of an HTML page as source lines (title first), with its metadata as hints."""
    import trafilatura  # 0.25 s to import: paid by the first HTML page cleaned, not by every `ask`

    # Parsed here (as bare_extraction would) to space the block edges first. The stub's return type also
    # admits a dict, which only as_dict=True produces.
    tree = trafilatura.load_html(raw)
    document = cast("Document | None", trafilatura.bare_extraction(
        raw if tree is None else _spaced_blocks(tree),
        with_metadata=True, include_comments=False, include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    ))
    nodes = _TextNodes()
    nodes.feed(raw)
    nodes.close()
    caption = " ".join("".join(nodes.caption_parts).split())
    if document is None or document.body is None:
        return HtmlDocument([], Hints(caption=caption))
    locator = _Locator(nodes)
    lines: list[SourceLine] = []
    unplaced = 0
    for piece, text in _pieces(document.body):
        span = locator.locate(text)
        if span is None:
            unplaced += 1
            continue
        level = _heading_level(piece.get("rend", "")) if piece.tag == "head" else 0
        lines.append(SourceLine(text, span[0], span[1], heading=level, bullet=piece.tag == "item",
                                joinable=False))
        lines.append(SourceLine("", span[1], span[1], kind=BLANK))
    title = " ".join((document.title or "").split())
    if title:
        first = min((line.start for line in lines), default=10**9)
        number = locator.locate_title(title, first) or _raw_line_containing(raw, title)
        if number is not None:
            lines.insert(0, SourceLine(title, number, number, heading=1, joinable=False))
    outlet = (document.sitename or "").strip() or next(
        (name for name in map(find_outlet, nodes.publisher_lines) if name), "")
    # The page's own publication metadata first (article:published_time, JSON-LD datePublished, <time>); what
    # trafilatura's date search found otherwise (it may pick a modification date: reuters.com.parasite.html).
    hints = Hints(date=html_published_date(raw) or normalise_date(document.date), outlet=outlet, caption=caption)
    return HtmlDocument(lines, hints, unplaced)
