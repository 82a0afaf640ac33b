"""The publish step's table work: one SQLite transaction that turns generation G into G + 1.

It erases what a crashed build left (rows of a generation no manifest names), purges rows no kept
generation shows any more, marks the rows of dropped and edited files dead, then adds each FileResult as it
arrives: file row, article rows (an article whose record did not change keeps its row), chunk rows with
fresh slots, vectors appended to this build's segment (reused ones copied from the old slots), lexical
postings and near-duplicate links found through the stored LSH bands. See index.publish for the model.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field

import numpy as np

from archive import dedup
from archive.records import Article, SkippedFile
from index import lexical, tables
from index.engine import ArticleResult, FileResult
from index.plan import SKIPPED_SIZE, Plan
from index.vectors import SegmentWriter, VectorStore


def article_record(article: Article) -> str:
    """Digest of everything stored for an article: an equal digest means its row can stay as it is."""
    fields = [article.title, article.title_line, article.caption, article.outlet, article.date, article.position,
              article.content_hash, tables.paragraphs_json(article)]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass
class Tally:
    """What the build changed, for the report and the generation's counts."""

    before: dict[str, str] = field(default_factory=dict)  # article id -> record of the articles it may replace
    seen: set[str] = field(default_factory=set)
    added: int = 0
    updated: int = 0
    articles_delta: int = 0
    chunks_delta: int = 0
    embedded: int = 0

    @property
    def removed(self) -> int:
        return len(set(self.before) - self.seen)


@dataclass(frozen=True)
class Reuse:
    """Where vectors of unchanged content can be copied from: a published generation and its vectors."""

    connection: sqlite3.Connection
    generation: int
    vectors: VectorStore

    def slots(self, key: str) -> np.ndarray | None:
        shown = tables.visible("articles", self.generation)
        row = self.connection.execute(f"SELECT id FROM articles WHERE key = ? AND {shown} LIMIT 1",
                                      (key,)).fetchone()
        if row is None:
            return None
        found = self.connection.execute("SELECT id FROM chunks WHERE article = ? ORDER BY ordinal", row).fetchall()
        return np.array([item[0] for item in found], dtype=np.int64)


class TableWriter:
    """Writes generation `generation` into an open write connection, inside one transaction."""

    def __init__(self, connection: sqlite3.Connection, generation: int, segment: SegmentWriter,
                 threshold: float, full: bool, reuse: Reuse | None) -> None:
        self.db = connection
        self.gen = generation
        self.segment = segment
        self.threshold = threshold
        self.full = full
        self.reuse = reuse
        self.tally = Tally()
        self._pending: dict[str, list[tuple[int, str, str]]] = {}  # source -> (row, article id, record)
        self.reusable: set[str] = set()  # content keys of the articles this build may replace

    # ------------------------------------------------------------ before the results

    def begin(self, published: int) -> None:
        """Start the transaction; undo a crashed build's rows; purge rows no kept generation shows."""
        self.db.execute("BEGIN IMMEDIATE")
        # A committed but unpublished build removed chunks of the serving generation: give their postings back.
        revived = self._postings("c.died > ? AND c.born <= ? AND c.purged = 1", (published, published))
        lexical.add_postings(self.db, revived)
        self.db.executemany("UPDATE chunks SET purged = 0 WHERE id = ?", [(item[0],) for item in revived])
        for table in ("files", "articles", "chunks"):
            self.db.execute(f"UPDATE {table} SET died = born WHERE born > ? AND died IS NULL", (published,))
            self.db.execute(f"UPDATE {table} SET died = NULL WHERE died > ? AND born <= ?", (published, published))
        self._purge(published - 1)

    def _purge(self, oldest_kept: int) -> None:
        """Delete postings and rows that neither `oldest_kept` nor any later generation shows."""
        doomed = "died IS NOT NULL AND (died <= ? OR born >= died)"
        self._drop_postings("c.purged = 0 AND c.died IS NOT NULL AND (c.died <= ? OR c.born >= c.died)",
                            (oldest_kept,))
        dead_articles = f"SELECT id FROM articles WHERE {doomed}"
        self.db.execute(f"DELETE FROM bands WHERE article IN ({dead_articles})", (oldest_kept,))
        self.db.execute(f"DELETE FROM near WHERE a IN ({dead_articles}) OR b IN ({dead_articles})",
                        (oldest_kept, oldest_kept))
        self.db.execute(f"DELETE FROM articles WHERE {doomed}", (oldest_kept,))
        self.db.execute(f"DELETE FROM files WHERE {doomed}", (oldest_kept,))

    def apply_plan(self, plan: Plan) -> None:
        """Drop removed and edited files; articles of edited files wait for the file's new version."""
        coming = {task.source for task in plan.tasks}
        for source in plan.dropped:
            self.db.execute("UPDATE files SET died = ? WHERE source = ? AND died IS NULL", (self.gen, source))
            articles = self.db.execute(
                "SELECT id, article_id, record, key FROM articles WHERE source = ? AND died IS NULL", (source,)
            ).fetchall()
            records = [(row, article_id, record) for row, article_id, record, _ in articles]
            for _, article_id, record, key in articles:
                self.tally.before[article_id] = record
                self.reusable.add(key)
            if source in coming:
                self._pending[source] = records
            else:
                self._kill([row for row, _, _ in records])
        self.db.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                            [(size, mtime, row) for row, size, mtime in plan.restat])
        for item in plan.walk_skipped:
            self._insert_file(item.source, SKIPPED_SIZE, SKIPPED_SIZE, "", item.reason, "")

    def _postings(self, where: str, args: tuple) -> list[tuple[int, str]]:
        """(chunk id, lexical tokens) of the chunks matching `where` (alias c), re-derived from their text."""
        columns = ", ".join(f"c.{name.strip()}" for name in tables.CHUNK_COLUMNS.split(","))
        rows = self.db.execute(
            f"SELECT c.id, a.title, a.paragraphs, {columns} FROM chunks c JOIN articles a ON a.id = c.article "
            f"WHERE {where}", args).fetchall()
        postings = []
        for chunk_id, title, paragraphs, *values in rows:
            article = Article(id="", source="", position=0, title=title,
                              paragraphs=tables.paragraphs_from_json(paragraphs), title_line=0)
            postings.append((chunk_id, lexical.tokens_text(tables.chunk_from_row(values, article).embedding_text())))
        return postings

    def _drop_postings(self, where: str, args: tuple) -> None:
        postings = self._postings(where, args)
        lexical.delete_postings(self.db, postings)
        self.db.executemany("UPDATE chunks SET purged = 1 WHERE id = ?", [(item[0],) for item in postings])

    def _kill(self, article_rows: list[int]) -> None:
        """Removed articles die now. Their chunks' postings go at once, so the new generation's BM25
        statistics are exactly those of a fresh build of the same archive (a reader still on the previous
        generation then ranks its lexical results with the new statistics, minus those chunks)."""
        for row in article_rows:
            self.db.execute("UPDATE articles SET died = ? WHERE id = ?", (self.gen, row))
            self._drop_postings("c.article = ? AND c.died IS NULL AND c.purged = 0", (row,))
            killed = self.db.execute("UPDATE chunks SET died = ? WHERE article = ? AND died IS NULL", (self.gen, row))
            self.tally.chunks_delta -= killed.rowcount
        self.tally.articles_delta -= len(article_rows)

    def _insert_file(self, source: str, size: int, mtime: int, sha: str, reason: str, warning: str) -> None:
        self.db.execute(
            "INSERT INTO files (source, size, mtime_ns, sha256, reason, warning, born) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (source, size, mtime, sha, reason, warning, self.gen),
        )

    # ------------------------------------------------------------ each result

    def add(self, result: FileResult) -> None:
        task = result.task
        self._insert_file(task.source, task.size, task.mtime_ns, task.sha256, result.skip_reason, result.warning)
        old = {article_id: (row, record) for row, article_id, record in self._pending.pop(task.source, [])}
        kept: set[int] = set()
        for item in result.articles:
            article = item.article
            self.tally.seen.add(article.id)
            record = article_record(article)
            previous = old.get(article.id)
            if previous is not None and previous[1] == record and not self.full:
                kept.add(previous[0])
                continue
            if article.id in self.tally.before:
                self.tally.updated += 1
            else:
                self.tally.added += 1
            self._insert_article(item, record)
        self._kill([row for row, _ in old.values() if row not in kept])

    def _insert_article(self, item: ArticleResult, record: str) -> None:
        article = item.article
        signature = np.asarray(item.signature, dtype=np.uint32)  # MinHash values are below 2**32
        cursor = self.db.execute(
            "INSERT INTO articles (article_id, source, position, title, title_line, caption, outlet, date, "
            "content_hash, key, body_chars, paragraphs, signature, record, born) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.source, article.position, article.title, article.title_line, article.caption,
             article.outlet, article.date, article.content_hash, item.key, len(article.body),
             tables.pack_paragraphs(article), signature.tobytes(), record, self.gen),
        )
        row = int(cursor.lastrowid or 0)
        self.tally.articles_delta += 1
        self._insert_chunks(row, item)
        self._link_near_duplicates(row, signature)

    def _insert_chunks(self, article_row: int, item: ArticleResult) -> None:
        if not item.chunks:
            return
        vectors = item.vectors
        if vectors is None:
            vectors = self._reused_vectors(item)
        else:
            self.tally.embedded += len(item.chunks)
        first = self.segment.add(vectors)
        paragraphs = item.article.paragraphs
        rows = []
        for offset, chunk in enumerate(item.chunks):
            p0, s0, p1, e1, text = tables.text_span(chunk, paragraphs)
            rows.append((first + offset, article_row, chunk.ordinal, chunk.start_line, chunk.end_line,
                         p0, s0, p1, e1, text, self.gen))
        self.db.executemany(
            "INSERT INTO chunks (id, article, ordinal, start_line, end_line, p0, s0, p1, e1, text, born) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        lexical.add_postings(self.db, [(first + offset, tokens) for offset, tokens in enumerate(item.lexical)])
        self.tally.chunks_delta += len(rows)

    def _reused_vectors(self, item: ArticleResult) -> np.ndarray:
        slots = self.reuse.slots(item.key) if self.reuse is not None else None
        if slots is None or len(slots) != len(item.chunks):
            raise RuntimeError(f"engine left {item.article.id} without vectors, and none are stored for it")
        assert self.reuse is not None
        return self.reuse.vectors.vectors(slots)

    def _link_near_duplicates(self, row: int, signature: np.ndarray) -> None:
        keys = dedup.band_keys(signature.astype(np.uint64), self.threshold)
        marks = ",".join("?" * len(keys))
        candidates = self.db.execute(
            f"SELECT DISTINCT a.id, a.signature FROM bands b JOIN articles a ON a.id = b.article "
            f"WHERE b.key IN ({marks}) AND a.died IS NULL AND a.id != ?", (*keys, row)).fetchall()
        for other, blob in candidates:
            if dedup.similarity(signature, np.frombuffer(blob, dtype=np.uint32)) >= self.threshold:
                self.db.execute("INSERT INTO near (a, b) VALUES (?, ?)", (min(row, other), max(row, other)))
        self.db.executemany("INSERT INTO bands (key, article) VALUES (?, ?)", [(key, row) for key in keys])

    # ------------------------------------------------------------ after the results

    def finish(self, previous_counts: dict[str, int]) -> dict[str, int]:
        """Record the generation's counts (not committed yet: see `commit`). Returns the counts."""
        for rows in self._pending.values():  # a planned file the engine did not return: its articles go
            self._kill([row for row, _, _ in rows])
        self._pending.clear()
        live_files = self.db.execute("SELECT COUNT(*) FROM files WHERE died IS NULL").fetchone()[0]
        counts = {
            "articles": previous_counts.get("articles", 0) + self.tally.articles_delta,
            "chunks": previous_counts.get("chunks", 0) + self.tally.chunks_delta,
            "files": int(live_files),
            "slots": self.segment.first + self.segment.count,
        }
        self.db.execute("INSERT OR REPLACE INTO generations (gen, articles, chunks, files, slots) "
                        "VALUES (?, ?, ?, ?, ?)", (self.gen, counts["articles"], counts["chunks"],
                                                   counts["files"], counts["slots"]))
        return counts

    def commit(self) -> None:
        """The last step before the swap: until now a kill leaves no trace in the tables (the transaction
        rolls back), so even BM25's collection statistics stay those of the serving generation."""
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


def skipped_files(connection: sqlite3.Connection, generation: int) -> tuple[list[SkippedFile], list[SkippedFile]]:
    """(skipped, warnings) of the files a generation shows, sorted by source."""
    shown = tables.visible("f", generation)
    skipped = connection.execute(
        f"SELECT source, reason FROM files f WHERE {shown} AND reason != '' ORDER BY source").fetchall()
    warnings = connection.execute(
        f"SELECT source, warning FROM files f WHERE {shown} AND warning != '' ORDER BY source").fetchall()
    return [SkippedFile(*row) for row in skipped], [SkippedFile(*row) for row in warnings]
