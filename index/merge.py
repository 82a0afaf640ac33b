"""The merge policy: which vector segments a build rewrites, decided from their sizes and dead rows alone.

Every published build appends one segment; without merging, their number (and the rows of removed or
replaced chunks they keep) would grow with history instead of with content. This is Lucene's
TieredMergePolicy with one constraint of this index: a segment stands for a range of slots, and ranges
must stay disjoint, so only runs of *adjacent* segments (in slot order, which is age order) are merged.
That is the log-structured shape: old, large segments on the left, each build's small one on the right,
small neighbours merged into larger ones.

    floor_segment_rows   a segment smaller than this counts as this large (many tiny segments are merged
                         as cheaply as one floor-sized one)
    segments_per_tier    segments allowed per size tier; tiers grow by max_merge_at_once from the floor, so
                         the allowed count grows with log(live rows), never with the number of builds
    max_merge_at_once    segments merged into one at most (per merge)
    deletes_pct_allowed  dead rows allowed, in percent: of a segment at least floor-sized, and of all rows;
                         past it the segments holding most dead rows are rewritten without them
    max_segment_rows     a merge is not made larger than this many live rows (expunging deletes from one
                         segment alone is always allowed)

`plan_merges` is a pure function: segment statistics in, runs of segment positions out. index.compact
carries the merges out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MergePolicy:
    floor_segment_rows: int = 2_000
    segments_per_tier: int = 8
    max_merge_at_once: int = 8
    deletes_pct_allowed: float = 20.0
    max_segment_rows: int = 5_000_000

    def __post_init__(self) -> None:
        if self.max_merge_at_once < 2 or self.segments_per_tier < 1 or self.floor_segment_rows < 1:
            raise ValueError("max_merge_at_once must be at least 2, segments_per_tier and the floor at least 1")
        if not 0 <= self.deletes_pct_allowed <= 100:
            raise ValueError("deletes_pct_allowed is a percentage")


@dataclass(frozen=True)
class SegmentStat:
    """One segment as the policy sees it: rows it stores, and how many belong to chunks no longer shown."""

    rows: int
    dead: int = 0

    @property
    def live(self) -> int:
        return self.rows - self.dead


def allowed_segments(live_rows: int, policy: MergePolicy) -> int:
    """How many segments an index of `live_rows` may keep (Lucene's allowed segment count)."""
    level = policy.floor_segment_rows
    remaining = max(live_rows, 0)
    allowed = 0
    while True:
        at_level = remaining / level
        if at_level < policy.segments_per_tier:
            allowed += math.ceil(at_level)
            break
        allowed += policy.segments_per_tier
        remaining -= policy.segments_per_tier * level
        level *= policy.max_merge_at_once
    return max(allowed, policy.segments_per_tier)


def plan_merges(stats: Sequence[SegmentStat], policy: MergePolicy = MergePolicy(), *,
                force: bool = False) -> list[tuple[int, int]]:
    """Runs [start, stop) of segment positions to rewrite, each as one segment without its dead rows.

    The runs are disjoint and ascending. A run of one segment expunges its dead rows (or drops it when
    nothing in it is alive). `force` (build --compact) merges everything into as few segments as
    max_segment_rows allows and drops every dead row.
    """
    if force:
        return _forced(stats, policy)
    groups = [[i] for i in range(len(stats))]  # the segments after the merges chosen so far
    rewrite = [False] * len(stats)

    def live(group: list[int]) -> int:
        return sum(stats[i].live for i in group)

    def rows(group: list[int]) -> int:
        return sum(stats[i].rows if not rewrite[i] else stats[i].live for i in group)

    total_live = sum(item.live for item in stats)
    limit = allowed_segments(total_live, policy)
    while len(groups) > limit:
        best = _best_window(groups, stats, policy, live, rows)
        if best is None:
            break
        start, stop = best
        merged = [i for group in groups[start:stop] for i in group]
        for i in merged:
            rewrite[i] = True
        groups[start:stop] = [merged]
    _expunge(groups, rewrite, policy, live, rows)
    return [(group[0], group[-1] + 1) for group in groups if any(rewrite[i] for i in group)
            and (len(group) > 1 or stats[group[0]].dead or not stats[group[0]].live)]


def _expunge(groups: list[list[int]], rewrite: list[bool], policy: MergePolicy, live, rows) -> None:
    """Mark for rewriting the segments whose dead rows pass the share: a large segment by itself, then the
    index as a whole (most dead first)."""
    share = policy.deletes_pct_allowed / 100
    for group in groups:
        dead = rows(group) - live(group)
        if dead and rows(group) >= policy.floor_segment_rows and dead > share * rows(group):
            for i in group:
                rewrite[i] = True
    total_rows = sum(rows(group) for group in groups)
    total_dead = total_rows - sum(live(group) for group in groups)
    for group in sorted(groups, key=lambda g: rows(g) - live(g), reverse=True):
        dead = rows(group) - live(group)
        if total_dead <= share * total_rows or not dead:
            break
        for i in group:
            rewrite[i] = True
        total_dead -= dead
        total_rows -= dead


def _best_window(groups, stats, policy: MergePolicy, live, rows) -> tuple[int, int] | None:
    """The adjacent window of groups whose merge scores best (balanced sizes, small, reclaiming deletes)."""
    width = min(policy.max_merge_at_once, len(groups))
    best: tuple[float, int, int] | None = None
    for size in range(width, 1, -1):
        for start in range(0, len(groups) - size + 1):
            window = groups[start : start + size]
            merged_live = sum(live(g) for g in window)
            if merged_live > policy.max_segment_rows:
                continue
            sizes = [max(live(g), policy.floor_segment_rows) for g in window]
            total = sum(sizes)
            stored = sum(rows(g) for g in window)
            skew = max(sizes) / total
            # Balanced (skew on floored sizes), cheap (the rows copied), reclaiming deletes (Lucene's score).
            score = skew * (merged_live + 1) ** 0.05 * ((merged_live / stored) ** 2 if stored else 0.0)
            if best is None or score < best[0]:
                best = (score, start, start + size)
        if best is not None:  # prefer the widest merges (fewest rewrites): narrower only when none fit
            return best[1], best[2]
    return None


def _forced(stats: Sequence[SegmentStat], policy: MergePolicy) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start, live = 0, 0
    for i, item in enumerate(stats):
        if i > start and live + item.live > policy.max_segment_rows:
            runs.append((start, i))
            start, live = i, 0
        live += item.live
    if stats:
        runs.append((start, len(stats)))
    return [(a, b) for a, b in runs if b - a > 1 or stats[a].dead or not stats[a].live]
