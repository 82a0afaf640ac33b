"""Which chunks hold a lexical token, and the article order and duplicate groups of a searcher.

The one place that knows how the loaded index keeps its postings, so index.mentions does not: the lexical
index's `matching(tokens, require_all=True)` (SQLite FTS5) when it has one, else the bm25s score matrix
(stored by token, CSC: the chunk ids of token t are indices[indptr[t]:indptr[t + 1]]), else a scan of
the chunk texts in memory (correct, slow; never the raw files).
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
_LOOKUPS = ("chunks_with_token", "chunks_containing", "postings")  # public names a lexical index may offer


def _public_lookup(searcher):
    for owner in (searcher, getattr(searcher, "lexical", None)):
        for name in _LOOKUPS:
            method = getattr(owner, name, None)
            if callable(method):
                return method
    return None


def chunks_with_token(searcher, token: str) -> np.ndarray:
    """Sorted ids of the chunks whose lexical tokens include `token` (e.g. '~hzbl' or 'hezbollah')."""
    matching = getattr(getattr(searcher, "lexical", None), "matching", None)
    if callable(matching):
        return np.asarray(matching([token], require_all=True), dtype=np.int64)
    lookup = _public_lookup(searcher)
    if lookup is not None:
        return np.unique(np.asarray(lookup(token), dtype=np.int64))
    bm25 = getattr(getattr(searcher, "lexical", None), "_bm25", None)
    if bm25 is not None and hasattr(bm25, "scores") and hasattr(bm25, "vocab_dict"):
        token_id = bm25.vocab_dict.get(token)
        if token_id is None:
            return _EMPTY
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        return np.unique(np.asarray(indices[indptr[token_id]:indptr[token_id + 1]], dtype=np.int64))
    if getattr(getattr(searcher, "lexical", None), "count", 1) == 0:
        return _EMPTY
    return _scan(searcher, token)


def _scan(searcher, token: str) -> np.ndarray:
    index = _TOKEN_INDEXES.get(searcher)
    if index is None:  # token -> chunk ids
        index = {}
        for chunk_id, chunk in enumerate(searcher.chunks):
            for item in set(lexical_tokens(chunk.embedding_text())):
                index.setdefault(item, []).append(chunk_id)
        _TOKEN_INDEXES[searcher] = index
    return np.asarray(index.get(token, []), dtype=np.int64)


def chunks_with_all(searcher, tokens: Sequence[str]) -> np.ndarray:
    """Ids of the chunks holding every one of `tokens` (none when `tokens` is empty)."""
    if not tokens:
        return _EMPTY
    matching = getattr(getattr(searcher, "lexical", None), "matching", None)
    if callable(matching):  # the lexical index answers the conjunction itself (one FTS5 query)
        return np.asarray(matching(list(tokens), require_all=True), dtype=np.int64)
    result = chunks_with_token(searcher, tokens[0])
    for token in tokens[1:]:
        if not len(result):
            break
        result = np.intersect1d(result, chunks_with_token(searcher, token), assume_unique=True)
    return result


def article_order(searcher) -> list[str]:
    """Article ids in the index's order (file, then position in the file)."""
    return [article.id for article in searcher.articles()]


def duplicate_ids(searcher, article_id: str) -> tuple[str, ...]:
    """Ids of the near-duplicates of an article (itself excluded), from the build's duplicate groups."""
    groups = _GROUPS.get(searcher)
    if groups is None:
        groups = {}
        for group in (searcher.manifest or {}).get("duplicate_groups") or []:
            for member in group:
                groups[member] = tuple(group)
        _GROUPS[searcher] = groups
    return tuple(other for other in groups.get(article_id, ()) if other != article_id)
