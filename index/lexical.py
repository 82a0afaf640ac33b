"""The lexical index: BM25 (bm25s) over transliteration-tolerant tokens (see core.text).

bm25s saves its matrices as .npy (allow_pickle=False) and its vocabulary and parameters as JSON, so the
saved folder holds no pickle; it is loaded with allow_pickle=False as well.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.text import lexical_tokens

K1 = 1.2
B = 0.75
_EMPTY_MARKER = "empty.json"


class LexicalIndex:
    """BM25 scores of every chunk for a query."""

    def __init__(self, bm25, count: int) -> None:
        self._bm25 = bm25  # None when the index holds no document
        self.count = count

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        if not texts:
            return cls(None, 0)
        import bm25s

        bm25 = bm25s.BM25(k1=K1, b=B)
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        bm25.index([lexical_tokens(text) for text in texts], show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """(count,) float32 BM25 scores; zero where no query token occurs."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(lexical_tokens(query))
        if not ids:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is None:
            (folder / _EMPTY_MARKER).write_text(json.dumps({"num_docs": 0}))
            return
        self._bm25.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Raises OSError or ValueError on a missing or damaged folder."""
        if (folder / _EMPTY_MARKER).is_file():
            return cls(None, 0)
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), load_corpus=False, mmap=False, allow_pickle=False)
        return cls(bm25, int(bm25.scores["num_docs"]))
