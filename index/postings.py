"""Which chunks hold some lexical tokens, chunks by id, and near-duplicate groups, for index.mentions.

The one place that knows how a loaded index keeps its postings: the searcher's `chunks_with_terms` (or
its lexical index's `matching`, SQLite FTS5) when it has one; else the bm25s score matrix (stored by
token, CSC: the chunk ids of token t are indices[indptr[t]:indptr[t + 1]]); else a scan of the chunk texts
in memory (correct, slow; never the raw files).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from core.text import lexical_tokens

_EMPTY = np.zeros(0, dtype=np.int64)
# Per loaded searcher, built on first use and dropped with it.
_TOKEN_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_GROUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _term_lookup(searcher):
    for method in (getattr(searcher, "chunks_with_terms", None),
                   getattr(getattr(searcher, "lexical", None), "matching", None)):
        if callable(method):
            return method
    return None


def chunks_with_all(searcher, tokens: Sequence[str]) -> np.ndarray:
    """Sorted ids of the chunks holding every one of `tokens` (none when `tokens` is empty)."""
    if not tokens:
        return _EMPTY
    lookup = _term_lookup(searcher)
    if lookup is not None:
        return np.unique(np.asarray(lookup(list(tokens), require_all=True), dtype=np.int64))
    result = _one_token(searcher, tokens[0])
    for token in tokens[1:]:
        if not len(result):
            break
        result = np.intersect1d(result, _one_token(searcher, token), assume_unique=True)
    return result


def chunks_with_token(searcher, token: str) -> np.ndarray:
    """Sorted ids of the chunks whose lexical tokens include `token` (e.g. '~hzbl' or 'hezbollah')."""
    return chunks_with_all(searcher, [token])


def _one_token(searcher, token: str) -> np.ndarray:
    bm25 = getattr(getattr(searcher, "lexical", None), "_bm25", None)
    if bm25 is not None and hasattr(bm25, "scores") and hasattr(bm25, "vocab_dict"):
        token_id = bm25.vocab_dict.get(token)
        if token_id is None:
            return _EMPTY
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        return np.unique(np.asarray(indices[indptr[token_id]:indptr[token_id + 1]], dtype=np.int64))
    if getattr(getattr(searcher, "lexical", None), "count", 1) == 0:
        return _EMPTY
    index = _TOKEN_INDEXES.get(searcher)
    if index is None:  # token -> chunk ids, from the chunk texts held in memory
        index = {}
        for chunk_id, chunk in enumerate(searcher.chunks):
            for item in set(lexical_tokens(chunk.embedding_text())):
                index.setdefault(item, []).append(chunk_id)
        _TOKEN_INDEXES[searcher] = index
    return np.asarray(index.get(token, []), dtype=np.int64)


def chunks_by_id(searcher, ids: Sequence[int]) -> list:
    """The Chunk records of these integer chunk ids, in the order given."""
    chunks = searcher.chunks
    wanted = [int(i) for i in ids]
    many = getattr(chunks, "many", None)
    if callable(many):  # a view on the tables: one query for all of them, not one per chunk
        return list(many(wanted))
    if callable(chunks):
        return list(chunks(wanted))
    return [chunks[i] for i in wanted]


def duplicate_ids(searcher, article_id: str) -> tuple[str, ...]:
    """Ids of the near-duplicates of an article (itself excluded), from the build's duplicate groups."""
    groups = _GROUPS.get(searcher)
    if groups is None:
        listed = getattr(searcher, "duplicate_groups", None)
        found = listed() if callable(listed) else (searcher.manifest or {}).get("duplicate_groups") or []
        groups = {member: tuple(group) for group in found for member in group}
        _GROUPS[searcher] = groups
    return tuple(other for other in groups.get(article_id, ()) if other != article_id)
