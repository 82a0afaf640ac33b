"""Markdown into source lines, through markdown-it-py's block tokens and their line maps. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from archive.clean import Hints
from archive.dates import normalise_date, parse_date_line
from archive.lines import BLANK, IMAGE, SEPARATOR, TEXT, SourceLine
from core.files import split_lines

_FRONT_MATTER_FENCE = re.compile(r"^(?:---|\+\+\+)\s*$")
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.|\+\+\+)\s*$")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$")
_OUTLET_KEYS = {"source", "publisher", "outlet", "site", "site_name", "sitename", "publication"}
_CAPTION_KEYS = {"caption", "image_caption", "photo_caption"}
_DATE_KEYS = {"date", "published", "published_at", "pubdate", "publish_date"}


@dataclass(frozen=True)
class MarkdownDocument:
    lines: list[SourceLine]
    hints: Hints


def _front_matter(raw: list[str]) -> tuple[int, dict[str, tuple[str, int]]]:
    """Lines taken by a front matter block at the top, and its keys as (value, 1-based line)."""
    if not raw or not _FRONT_MATTER_FENCE.match(raw[0]):
        return 0, {}
    for end in range(1, min(len(raw), 80)):
        if _FRONT_MATTER_END.match(raw[end]):
            fields: dict[str, tuple[str, int]] = {}
            for offset, line in enumerate(raw[1:end], start=2):
                match = _KEY_VALUE.match(line)
                if match and match.group(2):
                    fields[match.group(1).lower()] = (match.group(2).strip("\"'"), offset)
            return end + 1, fields
    return 0, {}


def _inline_text(inline: Token) -> tuple[str, bool]:
    """The plain text of an inline token, and whether it holds nothing but images."""
    parts: list[str] = []
    only_images = True
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
            only_images = only_images and not child.content.strip()
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return " ".join("".join(parts).split()), only_images and bool(inline.children)


def lines_from_markdown(text: str) -> MarkdownDocument:
    """One source line per block (heading, paragraph, list item paragraph, rule), blank lines kept."""
    raw = split_lines(text.replace("\r\n", "\n").replace("\r", " "))
    skip, fields = _front_matter(raw)
    body = [""] * skip + raw[skip:]  # same numbering, front matter hidden from the parser
    tokens = MarkdownIt("commonmark").parse("\n".join(body))
    blocks: list[SourceLine] = []
    if "title" in fields:
        value, number = fields["title"]
        blocks.append(SourceLine(value, number, number, heading=1, joinable=False))
    heading = 0
    list_item_open = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = int(token.tag[1:])
        elif token.type == "heading_close":
            heading = 0
        elif token.type == "list_item_open":
            list_item_open = True
        elif token.type == "hr" and token.map:
            blocks.append(SourceLine("---", token.map[0] + 1, token.map[1], kind=SEPARATOR))
        elif token.type == "inline" and token.map:
            content, only_images = _inline_text(token)
            if not content:
                continue
            first = token.map[0]
            line = body[first]
            bullet = list_item_open and tokens[index - 1].type == "paragraph_open"
            list_item_open = False if bullet else list_item_open
            blocks.append(SourceLine(
                content, first + 1, token.map[1],
                kind=IMAGE if only_images else TEXT,
                indent=len(line) - len(line.lstrip()),
                bullet=bullet, heading=heading, joinable=False,
            ))
    return MarkdownDocument(_with_blank_lines(blocks, body), _hints(fields))


def _with_blank_lines(blocks: list[SourceLine], body: list[str]) -> list[SourceLine]:
    """Interleave the raw blank lines between blocks, so runs of blank lines still separate articles."""
    lines: list[SourceLine] = []
    previous_end = 0
    for block in sorted(blocks, key=lambda b: b.start):
        lines.extend(SourceLine("", n, n, kind=BLANK) for n in range(previous_end + 1, block.start)
                     if not body[n - 1].strip())
        lines.append(block)
        previous_end = max(previous_end, block.end)
    return lines


def _hints(fields: dict[str, tuple[str, int]]) -> Hints:
    date = next((normalise_date(v) or parse_date_line(v)
                 for k, (v, _) in fields.items() if k in _DATE_KEYS), "")
    outlet = next((v for k, (v, _) in fields.items() if k in _OUTLET_KEYS), "")
    caption = next((v for k, (v, _) in fields.items() if k in _CAPTION_KEYS), "")
    return Hints(date=date, outlet=outlet, caption=caption)
