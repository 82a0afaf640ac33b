"""Near-duplicate articles (the same wire story from several outlets): MinHash over word shingles.

datasketch's MinHashLSH proposes candidate pairs; a pair joins a group when its estimated Jaccard
similarity reaches the threshold. Groups are ordered so that the first article is the one to show.

For an index that is updated file by file, `signature` and `band_keys` expose the same sketch and LSH
banding as plain numbers, so the index can keep them in its tables and find the candidates of a new
article with one lookup instead of re-sketching the whole archive.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from archive.records import Article

if TYPE_CHECKING:  # datasketch imports scipy (0.3 s): loaded only where signatures are made, never for search
    from datasketch import MinHash

SHINGLE_WORDS = 5
NUM_PERM = 128
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Overlapping runs of `size` lower-cased words (the whole text when it is shorter)."""
    words = _WORD.findall(text.casefold())
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i: i + size]) for i in range(len(words) - size + 1)}


def _signature(article: Article) -> MinHash:
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    text = f"{article.title}\n{article.body}"
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles(text)])
    return minhash


def signature(article: Article) -> np.ndarray:
    """The MinHash hash values of an article (uint64, NUM_PERM of them), as `near_duplicate_groups` uses."""
    return np.asarray(_signature(article).hashvalues, dtype=np.uint64)


@lru_cache(maxsize=8)
def _bands(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) datasketch chooses for this threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def band_keys(hashvalues: np.ndarray, threshold: float) -> list[int]:
    """One signed 64-bit key per LSH band: two articles are candidates when any band's keys are equal."""
    bands, rows = _bands(threshold)
    keys = []
    for band in range(bands):
        data = np.ascontiguousarray(hashvalues[band * rows : (band + 1) * rows], dtype=np.uint64).tobytes()
        digest = hashlib.blake2b(bytes([band]) + data, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (as MinHash.jaccard computes it)."""
    return float(np.count_nonzero(first == second)) / len(first)


def show_first_key(body_chars: int, date: str, order: int) -> tuple:
    """Sort key of a group member: longest body first, then the earliest date, then archive order."""
    return (-body_chars, date or "9999-99-99", order)


def _show_first(article: Article, order: int) -> tuple:
    """Longest body first (the most complete copy), then the earliest date, then archive order."""
    return show_first_key(len(article.body), article.date, order)


def near_duplicate_groups(articles: Sequence[Article], threshold: float = 0.7) -> tuple[tuple[str, ...], ...]:
    """Groups of article ids whose texts are near-duplicates; singletons are left out."""
    if len(articles) < 2:
        return ()
    from datasketch import MinHashLSH

    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Identical texts need no MinHash: group them by content hash, and sketch one of each.
    first_with_hash: dict[str, int] = {}
    for index, article in enumerate(articles):
        key = article.content_hash or f"{article.title}\n{article.body}"
        if key in first_with_hash:
            parent[index] = first_with_hash[key]
        else:
            first_with_hash[key] = index
    distinct = list(first_with_hash.values())
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    signatures: dict[int, MinHash] = {}
    for index in distinct:
        signatures[index] = _signature(articles[index])
        lsh.insert(index, signatures[index])
    for index in distinct:
        for other in lsh.query(signatures[index]):
            if other > index and root(other) != root(index) and \
                    signatures[index].jaccard(signatures[other]) >= threshold:
                parent[root(other)] = root(index)
    members: dict[int, list[int]] = {}
    for index in range(len(articles)):
        members.setdefault(root(index), []).append(index)
    groups = []
    for indices in members.values():
        if len(indices) > 1:
            indices.sort(key=lambda i: _show_first(articles[i], i))
            groups.append(tuple(articles[i].id for i in indices))
    position = {article.id: index for index, article in enumerate(articles)}
    groups.sort(key=lambda group: position[group[0]])
    return tuple(groups)
