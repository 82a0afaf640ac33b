"""Compaction: the merge policy (a pure function), many small builds staying bounded and equal to a fresh
build, search results unchanged by a merge, and a build killed inside a merge harming nothing."""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.settings import BUNDLED_ARCHIVE, Settings
from index.merge import MergePolicy, SegmentStat, allowed_segments, plan_merges

QUERIES = ["Hezbollah threat Beirut", "attacks on US bases", "Hamas ceasefire talks", "drone strike Syria"]


# ---------------------------------------------------------------- the policy


def apply(stats: list[SegmentStat], runs: list[tuple[int, int]]) -> list[SegmentStat]:
    """The segments after carrying out `runs` (a merged segment holds no dead rows; an empty one goes)."""
    out, at = [], 0
    for start, stop in runs:
        out += stats[at:start]
        live = sum(item.live for item in stats[start:stop])
        if live:
            out.append(SegmentStat(live))
        at = stop
    return out + stats[at:]


def check_runs(runs: list[tuple[int, int]], count: int) -> None:
    previous = 0
    for start, stop in runs:
        assert previous <= start < stop <= count
        previous = stop


def test_nothing_to_do_below_the_bound():
    assert plan_merges([]) == []
    assert plan_merges([SegmentStat(5000), SegmentStat(300), SegmentStat(20)]) == []
    assert allowed_segments(0, MergePolicy()) == MergePolicy().segments_per_tier


@pytest.mark.parametrize("policy", [MergePolicy(), MergePolicy(floor_segment_rows=50, segments_per_tier=4,
                                                               max_merge_at_once=4)])
def test_segment_count_stays_bounded_however_many_builds(policy):
    """A build adds a small segment and kills a few rows; after 3,000 builds the count is under the same
    bound as after 100, and the bound follows the live rows (log), not the number of builds."""
    rng = random.Random(0)
    stats: list[SegmentStat] = [SegmentStat(3000)]
    most = {}
    for build in range(1, 3001):
        stats.append(SegmentStat(rng.randint(1, 40)))
        victim = rng.randrange(len(stats))  # edits kill rows of older segments
        stats[victim] = SegmentStat(stats[victim].rows, min(stats[victim].rows, stats[victim].dead + rng.randint(0, 8)))
        runs = plan_merges(stats, policy)
        check_runs(runs, len(stats))
        stats = apply(stats, runs)
        live = sum(item.live for item in stats)
        assert len(stats) <= allowed_segments(live, policy)
        total = sum(item.rows for item in stats)
        assert total - live <= policy.deletes_pct_allowed / 100 * total + 1
        if build in (100, 3000):
            most[build] = len(stats)
    live = sum(item.live for item in stats)
    bound = allowed_segments(live, policy)
    tiers = math.log(max(live / policy.floor_segment_rows, 1), policy.max_merge_at_once)
    assert bound <= policy.segments_per_tier * (tiers + 2)
    assert max(most.values()) <= bound


def test_allowed_grows_with_log_of_live_rows():
    policy = MergePolicy(floor_segment_rows=1000, segments_per_tier=8, max_merge_at_once=8)
    counts = [allowed_segments(rows, policy) for rows in (1_000, 100_000, 10_000_000, 1_000_000_000)]
    assert counts == sorted(counts) and counts[-1] <= 7 * 8  # a billion rows: under 60 segments


def test_deletes_are_expunged_past_the_share():
    policy = MergePolicy(floor_segment_rows=100, deletes_pct_allowed=20)
    assert plan_merges([SegmentStat(1000, 300), SegmentStat(1000)], policy) == [(0, 1)]
    assert plan_merges([SegmentStat(1000, 100), SegmentStat(1000)], policy) == []
    # Small segments alone are left (merging takes care of them) unless the index as a whole passes the share.
    assert plan_merges([SegmentStat(1000), SegmentStat(50, 40)], policy) == []
    assert plan_merges([SegmentStat(100), SegmentStat(50, 45)], policy) == [(1, 2)]
    # A segment nothing in is alive is dropped.
    assert plan_merges([SegmentStat(1000), SegmentStat(500, 500)], policy) == [(1, 2)]


def test_merges_prefer_small_balanced_neighbours():
    policy = MergePolicy(floor_segment_rows=10_000, segments_per_tier=2, max_merge_at_once=3)
    stats = [SegmentStat(10_000), SegmentStat(10_000), SegmentStat(15), SegmentStat(12), SegmentStat(11)]
    assert plan_merges(stats, policy) == [(2, 5)]


def test_forced_merge_rewrites_everything_within_the_largest_size():
    stats = [SegmentStat(100, 10), SegmentStat(50), SegmentStat(60, 5)]
    assert plan_merges(stats, force=True) == [(0, 3)]
    assert plan_merges(stats, MergePolicy(max_segment_rows=120), force=True) == [(0, 1), (1, 3)]
    assert plan_merges([SegmentStat(100)], force=True) == []
    assert plan_merges([SegmentStat(100, 1)], force=True) == [(0, 1)]


def test_policy_knobs_are_checked():
    with pytest.raises(ValueError):
        MergePolicy(max_merge_at_once=1)
    with pytest.raises(ValueError):
        MergePolicy(deletes_pct_allowed=120)


# ---------------------------------------------------------------- builds


def paragraphs() -> list[str]:
    found = []
    for path in sorted(BUNDLED_ARCHIVE.glob("*.txt")):
        found += [part.strip() for part in path.read_text(encoding="utf-8").split("\n\n") if len(part.strip()) > 80]
    return found


def write_file(path: Path, number: int, pool: list[str], seed: int = 0) -> None:
    rng = random.Random(seed * 100_003 + number)
    name = f"Quorvel{number:04d}k{seed}"
    body = "\n\n".join(f"{name} said: {text}" for text in rng.sample(pool, k=4))
    path.write_text(f"Report {number} on {name}\n\n{body}\n", encoding="utf-8")


def settings_for(archive: Path, index: Path) -> Settings:
    return Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index)


def served(settings: Settings) -> dict:
    """What a user sees, and every stored vector by chunk id (bytes)."""
    from index import tables
    from index.search import Searcher

    searcher = Searcher.open(settings)
    try:
        results = [[json.dumps(hit.to_json(), sort_keys=True) for hit in searcher.search(query, k=8, mode=mode)]
                   for query in QUERIES for mode in ("dense", "bm25", "hybrid")]
        shown = searcher._db.execute(
            f"SELECT c.id, a.article_id, c.ordinal FROM chunks c JOIN articles a ON a.id = c.article "
            f"WHERE {tables.visible('c', searcher.generation)}").fetchall()
        ids = np.array([row[0] for row in shown], dtype=np.int64)
        rows = searcher.vectors.vectors(ids).astype(np.float16)
        vectors = {f"{article}:{ordinal}": rows[i].tobytes() for i, (_, article, ordinal) in enumerate(shown)}
        ranked = up_to_ties(searcher)
    finally:
        searcher.close()
    return {"results": results, "vectors": vectors, "counts": dict(searcher.counts, slots=0),
            "ranked": ranked}


def up_to_ties(searcher) -> list:
    """Rankings as a user can rely on them between two indexes of the same files: chunks numbered otherwise
    break score ties otherwise. Dense and BM25 as groups of equal score (the last group, cut by k, by size
    only); hybrid (fusing ranks) only for queries whose two rankings hold no tie."""
    found = []
    for query in QUERIES:
        tied = False
        for mode in ("dense", "bm25"):
            hits = searcher.search(query, k=60, mode=mode)  # hybrid fuses the top 50 of each ranking
            scores = [round(float(hit.score), 5) for hit in hits]
            tied |= len(set(scores)) < len(scores)
            groups: dict[float, list[str]] = {}
            for hit, score in zip(hits[:20], scores[:20], strict=True):
                groups.setdefault(score, []).append(hit.chunk.id)
            ordered = [(score, sorted(ids)) for score, ids in groups.items()]
            found.append(ordered[:-1] + [(ordered[-1][0], len(ordered[-1][1]))] if ordered else [])
        if not tied:
            found.append([json.dumps(hit.to_json(), sort_keys=True) for hit in searcher.search(query, k=8)])
    return found


def footprint(index: Path) -> dict:
    from index.compact import footprint as measure

    return measure(index)


def test_many_small_builds_stay_bounded_and_equal_a_fresh_build(tmp_path):
    from index.build import build_index
    from index.merge import MergePolicy

    pool = paragraphs()
    archive = tmp_path / "archive"
    archive.mkdir()
    for number in range(40):
        write_file(archive / f"r{number:04d}.txt", number, pool)
    settings = settings_for(archive, tmp_path / "index")
    build_index(settings, progress=False)
    rng = random.Random(7)
    upcoming, counts = 40, []
    for step in range(70):
        files = sorted(archive.iterdir())
        kind = rng.choice(["add", "edit", "edit", "delete", "rename"])
        if kind == "add" or len(files) < 20:
            write_file(archive / f"r{upcoming:04d}.txt", upcoming, pool)
            upcoming += 1
        elif kind == "edit":
            write_file(rng.choice(files), rng.randrange(10_000), pool, seed=step + 1)
        elif kind == "delete":
            rng.choice(files).unlink()
        else:
            source = rng.choice(files)
            source.rename(archive / f"moved-{step}-{source.name}")
        report = build_index(settings, progress=False)
        assert report.published
        counts.append(footprint(settings.resolved_index_dir())["segments"])
    live = build_index(settings, progress=False).chunks
    assert max(counts) <= allowed_segments(live, MergePolicy()), counts
    fresh = settings_for(archive, tmp_path / "fresh")
    build_index(fresh, full=True, progress=False)
    watched, clean = served(settings), served(fresh)
    assert watched["counts"] == clean["counts"]
    assert watched["vectors"] == clean["vectors"]  # every vector, to the bit, under the same chunk id
    assert watched["ranked"] == clean["ranked"]  # the same results, up to ties
    size, fresh_size = footprint(settings.resolved_index_dir()), footprint(fresh.resolved_index_dir())
    assert size["serving_bytes"] <= 1.3 * fresh_size["serving_bytes"], (size, fresh_size)


def test_forced_compaction_changes_no_result(tmp_path):
    from index.build import build_index

    pool = paragraphs()
    archive = tmp_path / "archive"
    archive.mkdir()
    for number in range(30):
        write_file(archive / f"r{number:04d}.txt", number, pool)
    settings = settings_for(archive, tmp_path / "index")
    build_index(settings, progress=False)
    for step in range(6):  # six small builds: six segments, some rows dead
        write_file(archive / f"r{step:04d}.txt", 500 + step, pool, seed=3)
        write_file(archive / f"n{step:04d}.txt", 900 + step, pool)
        build_index(settings, progress=False)
    before = served(settings)
    assert footprint(settings.resolved_index_dir())["segments"] == 7
    report = build_index(settings, progress=False, compact=True)
    document = report.to_json()
    assert document["compacted"]["segments_after"] == 1 and document["compacted"]["rows_dropped"] > 0
    assert {"articles", "chunks", "added", "updated", "removed", "skipped_files", "seconds"} <= set(document)
    after = served(settings)
    assert after == before  # same hits, scores, chunk ids' vectors: a merge only moves bytes
    tables = next((tmp_path / "index" / "data").glob("*.sqlite"))

    def dead_rows() -> set[int]:
        with contextlib.closing(sqlite3.connect(tables)) as connection:
            return {row[0] for row in connection.execute("SELECT id FROM chunks WHERE died IS NOT NULL")}

    dropped = dead_rows()
    assert dropped
    for number in (1, 2):  # once no kept generation can show them, the rows of the dropped slots go
        write_file(archive / f"z{number}.txt", 950 + number, pool)
        build_index(settings, progress=False)
    assert not dropped & dead_rows()
    from index.verify import verify_index

    verify_index(settings)


CRASH = textwrap.dedent("""
    import os, sys
    from index import compact, publish
    from core.settings import Settings
    from index.build import build_index
    where = sys.argv[3]
    if where == "merge":  # die with half a merged segment written
        original = compact._merge
        def dying(store, run, dead, data_dir, *rest):
            calls = getattr(dying, "calls", 0) + 1
            dying.calls = calls
            if calls == 2:
                (data_dir / "half-written.f16").write_bytes(b"x" * 100)
                os._exit(9)
            return original(store, run, dead, data_dir, *rest)
        compact._merge = dying
    elif where == "swap":  # die after the tables' commit, before `current` is swapped
        original_publish = publish.publish
        def dying_publish(index_dir, build_dir, before_swap=None):
            before_swap()
            os._exit(9)
        publish.publish = dying_publish
    elif where == "vacuum":
        def dying_vacuum(path, report, share=0.25):
            os._exit(9)
        compact.vacuum_if_needed = dying_vacuum
    settings = Settings(embedding_backend="hashing", archive_dir=sys.argv[1], index_dir=sys.argv[2])
    build_index(settings, progress=False, compact=True)
""")


@pytest.mark.parametrize("where", ["merge", "swap", "vacuum"])
def test_build_killed_inside_compaction_leaves_the_old_index_serving(tmp_path, where, monkeypatch):
    from index.build import build_index

    pool = paragraphs()
    archive = tmp_path / "archive"
    archive.mkdir()
    for number in range(24):
        write_file(archive / f"r{number:04d}.txt", number, pool)
    settings = settings_for(archive, tmp_path / "index")
    build_index(settings, progress=False)
    for step in range(12):
        write_file(archive / f"r{step:04d}.txt", 700 + step, pool, seed=5)
        build_index(settings, progress=False)
    before = served(settings)
    # Two merges, so that the crash lands after the first merged segment is written.
    policy_patch = ("import index.compact as c; c.plan_merges = lambda stats, policy=None, force=False: "
                    "[(0, len(stats) - 1), (len(stats) - 1, len(stats))]\n")
    script = policy_patch + CRASH if where == "merge" else CRASH
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    crashed = subprocess.run([sys.executable, "-c", script, str(archive), str(settings.index_dir), where],
                             env=env, capture_output=True, text=True, timeout=300)
    assert crashed.returncode == 9, crashed.stderr
    if where == "vacuum":  # killed after the swap: the compacted build serves, answering as the old one
        assert served(settings)["results"] == before["results"]
    else:
        assert served(settings) == before  # the previous generation keeps serving
    fresh = settings_for(archive, tmp_path / "fresh")

    def equal_to_fresh() -> None:
        shutil.rmtree(tmp_path / "fresh", ignore_errors=True)
        build_index(fresh, full=True, progress=False)
        watched, clean = served(settings), served(fresh)
        assert (watched["ranked"], watched["vectors"], watched["counts"]) == (
            clean["ranked"], clean["vectors"], clean["counts"])

    # An ordinary build next (no merge): what the killed build committed must not leak into it (the chunks it
    # removed live again; slots it dropped from its merged segments are hidden again, since their vectors are
    # back in the segments served).
    write_file(archive / "r0000.txt", 9000, pool, seed=9)
    write_file(archive / "r9998.txt", 9998, pool)
    monkeypatch.setattr("index.compact.plan_merges", lambda stats, policy=None, force=False: [])
    build_index(settings, progress=False)
    monkeypatch.undo()
    equal_to_fresh()
    finished = build_index(settings, progress=False, compact=True)
    assert finished.compacted is not None and finished.compacted["segments_after"] == 1
    from index.search import Searcher

    searcher = Searcher.open(settings)
    assert len(searcher.vectors.hidden) == 0  # merged away: nothing left to hide, opening costs as fresh
    searcher.close()
    data = settings.resolved_index_dir() / "data"
    assert not (data / "half-written.f16").exists()
    from index.verify import verify_index

    verify_index(settings)
    write_file(archive / "r9999.txt", 9999, pool)  # and life goes on
    build_index(settings, progress=False)
    equal_to_fresh()
    shutil.rmtree(tmp_path / "fresh")
