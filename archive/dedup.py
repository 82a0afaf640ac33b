"""Near-duplicate articles (the same wire story from several outlets): MinHash over word shingles.

datasketch's MinHashLSH proposes candidate pairs; a pair joins a group when its estimated Jaccard
similarity reaches the threshold. Groups are ordered so that the first article is the one to show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from datasketch import MinHash, MinHashLSH

from archive.records import Article

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
    minhash = MinHash(num_perm=NUM_PERM, seed=1)
    text = f"{article.title}\n{article.body}"
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles(text)])
    return minhash


def _show_first(article: Article, order: int) -> tuple:
    """Longest body first (the most complete copy), then the earliest date, then archive order."""
    return (-len(article.body), article.date or "9999-99-99", order)


def near_duplicate_groups(articles: Sequence[Article], threshold: float = 0.7) -> tuple[tuple[str, ...], ...]:
    """Groups of article ids whose texts are near-duplicates; singletons are left out."""
    if len(articles) < 2:
        return ()
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
