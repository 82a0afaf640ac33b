"""The lexical index: BM25 over transliteration-tolerant tokens (core.text), kept in SQLite FTS5.

Each chunk's lexical tokens (its title and text through `core.text.lexical_tokens`) are stored space-joined
in a contentless FTS5 table whose rowid is the chunk id; FTS5 splits them back on spaces (the `~` of
skeleton tokens is a token character) and ranks with its built-in bm25() (k1 = 1.2, b = 0.75). An update
adds and deletes postings in place, so it costs what changed. A query is the OR of its distinct tokens.

FTS5's bm25() scores every row holding any query token, with no top-k pruning, so a query costs the length
of its tokens' posting lists. On a large index (see `common_above_for`), tokens held by more than a share of
the rows are left out of the ranking once the rarer tokens kept hold `MIN_CANDIDATES` rows: they are the words
whose BM25 weight is smallest and whose lists are longest. Agreement with the full ranking is measured in
docs/BENCHMARKS.md; on an index at or below the size threshold the ranking is exact.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from core.text import lexical_tokens


def tokens_text(text: str) -> str:
    """The string stored for a chunk: its lexical tokens, space-joined."""
    return " ".join(lexical_tokens(text))


MIN_CANDIDATES = 20  # common words still rank when the rarer words hold fewer rows than this (a typo holds none)
DOCUMENT_COUNTS_KEPT = 50_000  # tokens whose document count is remembered per index view


def common_above_for(chunks: int, approximate_above: int, common_share: float) -> int | None:
    """The document count above which a query token is left out of BM25 ranking; None below the threshold."""
    if chunks <= approximate_above or common_share >= 1.0:
        return None
    return max(int(common_share * chunks), 1)


def _match(tokens: Sequence[str], operator: str) -> str:
    quoted = ['"' + token.replace('"', '""') + '"' for token in dict.fromkeys(tokens) if token]
    return f" {operator} ".join(quoted)


class LexicalIndex:
    """BM25 search over the chunks a generation shows (ids below `slots`, not in `hidden`)."""

    def __init__(self, connection: sqlite3.Connection, slots: int, hidden: np.ndarray, lock, *,
                 common_above: int | None = None) -> None:
        self._connection = connection
        self._slots = slots
        self._hidden = set(int(i) for i in hidden)
        self._lock = lock  # one connection shared by threads: statements take turns
        self._common_above = common_above  # rows holding a token beyond which it is left out; None: never
        self._document_counts: OrderedDict[str, int] = OrderedDict()
        self._vocabulary_ready = False

    def ranking_tokens(self, query: str) -> list[str]:
        """The query's distinct lexical tokens that rank: all of them, or on a large index the selective ones."""
        tokens = list(dict.fromkeys(token for token in lexical_tokens(query) if token))
        if self._common_above is None or len(tokens) < 2:
            return tokens
        counts = self.document_counts(tokens)
        kept: set[str] = set()
        candidates = 0
        for token in sorted(tokens, key=lambda token: (counts[token], token)):
            if counts[token] > self._common_above and candidates >= MIN_CANDIDATES:
                break  # rarest first: every token after this one is common too
            kept.add(token)
            candidates += counts[token]
        return [token for token in tokens if token in kept]

    def document_counts(self, tokens: Sequence[str]) -> dict[str, int]:
        """How many rows hold each token (FTS5's vocabulary table; remembered, as a token's list is read whole)."""
        with self._lock:
            if not self._vocabulary_ready:
                self._connection.execute(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_vocabulary USING fts5vocab(main, lexical, 'row')")
                self._vocabulary_ready = True
            counts = {}
            for token in tokens:
                if token not in self._document_counts:
                    row = self._connection.execute(
                        "SELECT doc FROM temp.lexical_vocabulary WHERE term = ?", (token,)).fetchone()
                    self._document_counts[token] = int(row[0]) if row else 0
                    if len(self._document_counts) > DOCUMENT_COUNTS_KEPT:
                        self._document_counts.popitem(last=False)
                self._document_counts.move_to_end(token)
                counts[token] = self._document_counts[token]
        return counts

    def _shown(self, chunk_id: int) -> bool:
        return chunk_id < self._slots and chunk_id not in self._hidden

    def search(self, query: str, limit: int | None, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) best first, score > 0; at most `limit` (all when None)."""
        expression = _match(self.ranking_tokens(query), "OR")
        if not expression:
            return []
        permitted = None if allowed is None else set(int(i) for i in allowed)
        fetch = None if limit is None or permitted is not None else limit + len(self._hidden) + 16
        sql = "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ? ORDER BY rank, rowid"
        args: tuple = (expression,)
        if fetch is not None:
            sql += " LIMIT ?"
            args = (expression, fetch)
        with self._lock:
            rows = self._connection.execute(sql, args).fetchall()
        found = [
            (rowid, float(score))
            for rowid, score in rows
            if self._shown(rowid) and (permitted is None or rowid in permitted) and score > 0
        ]
        return found if limit is None else found[:limit]

    def scores_of(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """BM25 scores of some chunks (0 for a chunk without any ranking token), as `search` scores them."""
        expression = _match(self.ranking_tokens(query), "OR")
        if not expression or not ids:
            return {int(i): 0.0 for i in ids}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ? AND rowid IN ({marks})"
        with self._lock:
            found = dict(self._connection.execute(sql, (expression, *[int(i) for i in ids])).fetchall())
        return {int(i): float(found.get(int(i), 0.0)) for i in ids}

    def matching(self, tokens: Sequence[str], *, require_all: bool = True) -> np.ndarray:
        """Ids of the shown chunks holding all (or any) of the given lexical tokens, ascending.

        `tokens` are lexical tokens as `core.text.lexical_tokens` makes them (a fast term lookup, no ranking).
        """
        expression = _match(tokens, "AND" if require_all else "OR")
        if not expression:
            return np.zeros(0, dtype=np.int64)
        with self._lock:
            rows = self._connection.execute(
                "SELECT rowid FROM lexical WHERE lexical MATCH ? ORDER BY rowid", (expression,)
            ).fetchall()
        return np.array([row[0] for row in rows if self._shown(row[0])], dtype=np.int64)


def add_postings(connection: sqlite3.Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Insert (chunk id, tokens text) postings; inside the caller's transaction."""
    connection.executemany("INSERT INTO lexical(rowid, tokens) VALUES (?, ?)", rows)


def delete_postings(connection: sqlite3.Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Remove postings: a contentless table needs the exact tokens that were inserted."""
    connection.executemany("INSERT INTO lexical(lexical, rowid, tokens) VALUES ('delete', ?, ?)", rows)
