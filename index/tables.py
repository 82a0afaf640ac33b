"""The SQLite tables of an index: files, articles, chunks, lexical postings (FTS5), near-duplicate links.

Rows carry `born` (the generation that added them) and `died` (the generation that removed them, NULL while
alive). A reader pinned to generation G sees a row when born <= G and (died IS NULL or died > G); chunk ids
are vector slots, handed out in increasing order and never reused, so "slot < the slot count of G, and not
died at or before G" is the same test, cheap enough to apply to FAISS and FTS5 results. See index.publish.

Text is stored once: article paragraphs (with their raw-file lines, zlib-compressed JSON) in `articles`; a
chunk stores the paragraph/character span its text covers, and its own text only when that span does not
reproduce it.
The lexical postings are a contentless FTS5 table of the chunks' lexical tokens (core.text), ranked by
bm25(); a removed chunk's postings are deleted (re-tokenised from its text) once no kept generation sees it.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archive.records import Article, Paragraph
from index.records import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (gen INTEGER PRIMARY KEY, articles INTEGER, chunks INTEGER,
    files INTEGER, slots INTEGER);
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, source TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,
    sha256 TEXT, reason TEXT, warning TEXT, born INTEGER NOT NULL, died INTEGER);
CREATE INDEX IF NOT EXISTS files_source ON files(source);
CREATE TABLE IF NOT EXISTS articles (id INTEGER PRIMARY KEY, file INTEGER, article_id TEXT, source TEXT,
    position INTEGER, title TEXT, title_line INTEGER, caption TEXT, outlet TEXT, date TEXT, content_hash TEXT,
    key TEXT, body_chars INTEGER, paragraphs BLOB, signature BLOB, record TEXT, born INTEGER NOT NULL,
    died INTEGER);
CREATE INDEX IF NOT EXISTS articles_file ON articles(file);
CREATE INDEX IF NOT EXISTS articles_article_id ON articles(article_id);
CREATE INDEX IF NOT EXISTS articles_key ON articles(key);
CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY, article INTEGER, ordinal INTEGER, start_line INTEGER,
    end_line INTEGER, p0 INTEGER, s0 INTEGER, p1 INTEGER, e1 INTEGER, text TEXT, born INTEGER NOT NULL,
    died INTEGER, purged INTEGER DEFAULT 0, dropped INTEGER);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article);
CREATE INDEX IF NOT EXISTS chunks_died ON chunks(died) WHERE died IS NOT NULL;
CREATE TABLE IF NOT EXISTS bands (key INTEGER, article INTEGER);
CREATE INDEX IF NOT EXISTS bands_key ON bands(key);
CREATE TABLE IF NOT EXISTS near (a INTEGER, b INTEGER);
CREATE INDEX IF NOT EXISTS near_a ON near(a);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical USING fts5(tokens, content='',
    tokenize="unicode61 remove_diacritics 0 tokenchars '~'");
"""

ARTICLE_COLUMNS = "id, article_id, source, position, title, title_line, caption, outlet, date, content_hash, paragraphs"


def visible(alias: str, generation: int) -> str:
    """SQL condition: the row `alias` is alive at `generation` (an int, never user input)."""
    g = int(generation)
    return f"({alias}.born <= {g} AND ({alias}.died IS NULL OR {alias}.died > {g}))"


def connect(path: Path, *, write: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); readers are read-only."""
    if write:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # a published generation's commit survives power loss
        connection.execute("PRAGMA journal_size_limit=67108864")  # a full build's WAL shrinks back after it
        connection.executescript(SCHEMA)
    else:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA cache_size=-16000")  # 16 MB page cache, whatever the index size
    return connection


# ---------------------------------------------------------------- text stored once


def paragraphs_json(article: Article) -> str:
    return json.dumps(
        [[p.text, p.start_line, p.end_line, int(p.is_heading)] for p in article.paragraphs], ensure_ascii=False
    )


def pack_paragraphs(article: Article) -> bytes:
    """The stored form: the paragraphs' JSON, zlib-compressed (article text is most of an index's bytes)."""
    return zlib.compress(paragraphs_json(article).encode("utf-8"), 6)


def paragraphs_from_json(stored: bytes | str) -> tuple[Paragraph, ...]:
    text = zlib.decompress(stored).decode("utf-8") if isinstance(stored, bytes) else stored
    return tuple(Paragraph(item[0], item[1], item[2], bool(item[3])) for item in json.loads(text))


def text_span(chunk: Chunk, paragraphs: Sequence[Paragraph]) -> tuple[int, int, int, int, str | None]:
    """(p0, s0, p1, e1, text or None): where the chunk's text lies in its article, and the text itself only
    when slicing the paragraphs there does not give it back exactly."""
    p0, p1 = chunk.paragraph_span or (0, len(paragraphs) - 1)
    if not paragraphs or not 0 <= p0 <= p1 < len(paragraphs):
        return p0, 0, p1, 0, chunk.text
    first = paragraphs[p0].text
    if p0 == p1:
        s0 = first.find(chunk.text)
        e1 = s0 + len(chunk.text)
    else:  # a chunk spanning paragraphs ends one and starts the other: a suffix, then a prefix
        head, tail = chunk.text.split("\n\n", 1)[0], chunk.text.rsplit("\n\n", 1)[-1]
        s0 = len(first) - len(head) if first.endswith(head) else -1
        e1 = len(tail)
    if s0 >= 0 and slice_text(paragraphs, p0, s0, p1, e1) == chunk.text:
        return p0, s0, p1, e1, None
    return p0, 0, p1, 0, chunk.text


def slice_text(paragraphs: Sequence[Paragraph], p0: int, s0: int, p1: int, e1: int) -> str:
    if p0 == p1:
        return paragraphs[p0].text[s0:e1]
    middle = [p.text for p in paragraphs[p0 + 1 : p1]]
    return "\n\n".join([paragraphs[p0].text[s0:], *middle, paragraphs[p1].text[:e1]])


# ---------------------------------------------------------------- rows -> records


@dataclass(frozen=True)
class ArticleRow:
    """An article row: the record, and the facts search needs beside it."""

    row: int
    article: Article


def article_from_row(values: Sequence[Any]) -> ArticleRow:
    row, article_id, source, position, title, title_line, caption, outlet, date, content_hash, paragraphs = values
    article = Article(
        id=article_id,
        source=source,
        position=position,
        title=title,
        paragraphs=paragraphs_from_json(paragraphs),
        title_line=title_line,
        caption=caption,
        outlet=outlet,
        date=date,
        content_hash=content_hash,
    )
    return ArticleRow(row, article)


def chunk_from_row(values: Sequence[Any], article: Article) -> Chunk:
    ordinal, start_line, end_line, p0, s0, p1, e1, text = values
    return Chunk(
        id=f"{article.id}:{ordinal}",
        article_id=article.id,
        ordinal=ordinal,
        source=article.source,
        title=article.title,
        text=text if text is not None else slice_text(article.paragraphs, p0, s0, p1, e1),
        start_line=start_line,
        end_line=end_line,
        date=article.date,
        outlet=article.outlet,
        paragraph_span=(p0, p1),
    )


CHUNK_COLUMNS = "ordinal, start_line, end_line, p0, s0, p1, e1, text"


def read_chunks(connection: sqlite3.Connection, ids: Iterable[int], articles: Any) -> dict[int, Chunk]:
    """Chunks by id; `articles(row)` returns the Article of an article row (the caller caches them)."""
    wanted = [int(i) for i in ids]
    found: dict[int, Chunk] = {}
    for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        query = f"SELECT id, article, {CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})"
        for values in connection.execute(query, part):
            found[values[0]] = chunk_from_row(values[2:], articles(values[1]))
    return found


def chunk_articles(connection: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
    """Article row of each chunk id."""
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        part = [int(i) for i in ids[start : start + 500]]
        marks = ",".join("?" * len(part))
        found.update(connection.execute(f"SELECT id, article FROM chunks WHERE id IN ({marks})", part))
    return found


def hidden_slots(connection: sqlite3.Connection, generation: int) -> np.ndarray:
    """Ids of chunks removed at or before `generation` (sorted): slots a reader of it must never show.

    A slot whose vector a merge left out at or before `generation` (`dropped`, index.compact) is not among
    them: no segment of that generation holds it, so there is nothing to hide (and opening costs what
    the dead rows still held cost, not what the whole history does)."""
    try:
        rows = connection.execute("SELECT id FROM chunks WHERE died IS NOT NULL AND died <= ? "
                                  "AND (dropped IS NULL OR dropped > ?) ORDER BY id", (generation, generation))
    except sqlite3.OperationalError:  # tables written before compaction existed: no `dropped` column
        rows = connection.execute("SELECT id FROM chunks WHERE died IS NOT NULL AND died <= ? ORDER BY id",
                                  (generation,))
    return np.fromiter((row[0] for row in rows), dtype=np.int64)


def generation_counts(connection: sqlite3.Connection, generation: int) -> dict[str, int] | None:
    row = connection.execute(
        "SELECT articles, chunks, files, slots FROM generations WHERE gen = ?", (generation,)
    ).fetchone()
    return None if row is None else dict(zip(("articles", "chunks", "files", "slots"), row, strict=True))
