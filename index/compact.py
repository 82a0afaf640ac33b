"""Compaction, carried out inside a build: merged vector segments, forgotten chunk rows, a vacuumed tables file.

A build that publishes generation G + 1 asks index.merge which runs of adjacent segments to rewrite, copies
the float16 rows of the slots G + 1 shows (the bytes as they are) into one new sparse segment per run
(rows + an ascending int64 slot list, both hashed and fsynced), and names the new list in its manifest.
Nothing is modified in place: the old segments stay for the generations that still name them and are
deleted by the garbage collection once no kept manifest does. The merge is part of the build's publish,
so it is atomic with it: a kill before the swap leaves the previous generation serving and the merged
files unnamed (the next build deletes them and merges again, as its policy says); a kill after the swap
leaves a finished build.

A slot a merge leaves out is marked `dropped` with the new generation, so that its readers need not hide it
(tables.hidden_slots): opening costs what the dead rows still held cost, not what the history does.
Rows of removed chunks (kept so that a reader can hide their slots) are deleted, in the build's transaction,
once no segment of the new generation nor of any manifest still in builds/ holds their slot and no
generation still kept shows them; a slot an approximate (IVF) index covers is kept until that index is
retrained without it. Chunk ids (slots) are never renumbered and never reused.

After the swap, `vacuum_if_needed` rebuilds the SQLite file (VACUUM, transactional in SQLite) when its free
pages pass a share (or when forced). The FTS5 postings are merged (`optimize`, in the build's transaction)
once the postings deleted since the last merge pass the policy's share of the live chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index import manifest as manifests
from index import publish
from index.manifest import Segment
from index.merge import MergePolicy, SegmentStat, plan_merges
from index.vectors import VectorStore

FREE_PAGES_SHARE = 0.25  # vacuum the tables file when this share of its pages is free
BLOCK_ROWS = 65_536  # rows copied at a time: memory stays bounded by a block, whatever the segment sizes


@dataclass
class Compaction:
    """What a build's compaction did (the `compacted` entry of `build --json`)."""

    segments_before: int = 0
    segments_after: int = 0
    merges: int = 0
    rows_copied: int = 0
    rows_dropped: int = 0
    chunk_rows_forgotten: int = 0
    postings_optimized: bool = False
    vacuumed: bool = False
    tables_bytes_before: int = 0
    tables_bytes_after: int = 0
    forced: bool = False
    new_files: list[str] = field(default_factory=list)
    dropped_slots: list[int] = field(default_factory=list)

    def happened(self) -> bool:
        return bool(self.merges or self.chunk_rows_forgotten or self.postings_optimized or self.vacuumed)

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "segments_before": self.segments_before, "segments_after": self.segments_after,
            "merges": self.merges, "rows_copied": self.rows_copied, "rows_dropped": self.rows_dropped,
            "chunk_rows_forgotten": self.chunk_rows_forgotten, "postings_optimized": self.postings_optimized,
            "vacuumed": self.vacuumed,
        }
        if self.vacuumed:
            entry.update(tables_bytes_before=self.tables_bytes_before, tables_bytes_after=self.tables_bytes_after)
        return entry


def _undo_drops(connection: sqlite3.Connection, published: int) -> None:
    """Give `dropped` its meaning again after a build that committed but never published (killed before the
    swap): its merges did not happen for any reader. Tables from before compaction get the column."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(chunks)")}
    if "dropped" not in columns:
        connection.execute("ALTER TABLE chunks ADD COLUMN dropped INTEGER")
    connection.execute("UPDATE chunks SET dropped = NULL WHERE dropped > ?", (published,))


def dead_slots(connection: sqlite3.Connection, generation: int) -> np.ndarray:
    """Sorted ids of chunk rows not shown by `generation` or any later one (died at or before it, or undone)."""
    rows = connection.execute(
        "SELECT id FROM chunks WHERE died IS NOT NULL AND (died <= ? OR born >= died) ORDER BY id", (generation,))
    return np.fromiter((row[0] for row in rows), dtype=np.int64)


def segment_stats(store: VectorStore, dead: np.ndarray) -> list[SegmentStat]:
    stats = []
    for segment in store.segments:
        if segment.ids:
            count = int(np.count_nonzero(np.isin(store.slot_ids(segment), dead, assume_unique=True)))
        else:
            count = int(np.searchsorted(dead, segment.first + segment.count) - np.searchsorted(dead, segment.first))
        stats.append(SegmentStat(segment.count, count))
    return stats


def compact_segments(
    connection: sqlite3.Connection,
    generation: int,
    oldest_kept: int,
    data_dir: Path,
    lineage: str,
    segments: list[Segment],
    dim: int,
    *,
    force: bool = False,
    policy: MergePolicy | None = None,
    protected: Sequence[dict[str, Any]] = (),
) -> tuple[list[Segment], Compaction]:
    """Merge what the policy says (all with `force`) and forget uncovered chunk rows, inside the build's open
    transaction on `connection`. Returns the new segment list (sorted by slot) and what was done.

    `protected`: manifests that may still be opened (the serving one, the other builds in builds/): slots
    their segments or vector index hold keep their chunk rows.
    """
    report = Compaction(segments_before=len(segments), forced=force)
    segments = sorted(segments, key=lambda s: s.first)
    _undo_drops(connection, oldest_kept + 1)
    dead = dead_slots(connection, generation)
    if dim:
        store = VectorStore(data_dir, segments, dim, dead)
        runs = plan_merges(segment_stats(store, dead), policy or MergePolicy(), force=force)
        merged: list[Segment] = []
        at = 0
        for start, stop in runs:
            merged.extend(segments[at:start])
            written = _merge(store, segments[start:stop], dead, data_dir, lineage, dim, report)
            if written is not None:
                merged.append(written)
            report.merges += 1
            at = stop
        merged.extend(segments[at:])
        segments = merged
        # Readers of this generation need not hide what it no longer holds; a slot an IVF index may still
        # hold (below its `covers`) stays hidden.
        covers = max((int((m.get("vector_index") or {}).get("covers", 0)) for m in protected
                      if (m.get("vector_index") or {}).get("file")), default=0)
        connection.executemany("UPDATE chunks SET dropped = ? WHERE id = ?",
                               [(generation, slot) for slot in report.dropped_slots if slot >= covers])
    report.segments_after = len(segments)
    report.chunk_rows_forgotten = _forget_rows(connection, oldest_kept, data_dir, segments, protected)
    report.postings_optimized = _optimize_postings(connection, generation, policy or MergePolicy(), force)
    return segments, report


def _optimize_postings(connection: sqlite3.Connection, generation: int, policy: MergePolicy, force: bool) -> bool:
    """Merge the FTS5 postings into one segment (`optimize`) once the postings deleted since the last time
    pass the policy's share of the live chunks: FTS5 keeps a deleted chunk's postings as delete markers
    until its segments merge, so a watched index's lexical table grows with its edits. Inside the build's
    transaction: atomic with it, and a reader of the previous generation keeps its snapshot."""
    connection.execute("CREATE TABLE IF NOT EXISTS compaction (key TEXT PRIMARY KEY, value INTEGER)")
    killed = connection.execute("SELECT COUNT(*) FROM chunks WHERE died = ? AND purged = 1", (generation,))
    found = connection.execute("SELECT value FROM compaction WHERE key = 'postings_deleted'").fetchone()
    deleted = int(found[0] if found else 0) + int(killed.fetchone()[0])
    live = connection.execute("SELECT chunks FROM generations WHERE gen = ?", (generation,)).fetchone()
    optimize = force or deleted > policy.deletes_pct_allowed / 100 * int(live[0] if live else 0)
    if optimize:
        connection.execute("INSERT INTO lexical(lexical) VALUES ('optimize')")
        deleted = 0
    connection.execute("INSERT OR REPLACE INTO compaction (key, value) VALUES ('postings_deleted', ?)", (deleted,))
    return bool(optimize)


def _merge(store: VectorStore, run: list[Segment], dead: np.ndarray, data_dir: Path, lineage: str, dim: int,
           report: Compaction) -> Segment | None:
    """One sparse segment of the live rows of `run` (None when none is alive)."""
    stem = f"{lineage}-{publish.new_name('m')}"
    rows_path, ids_path = data_dir / f"{stem}.f16", data_dir / f"{stem}.i64"
    rows_digest, ids_digest = hashlib.sha256(), hashlib.sha256()
    count = 0
    try:
        with open(rows_path, "wb") as rows_file, open(ids_path, "wb") as ids_file:
            for segment in run:
                slots = store.slot_ids(segment)
                with open(data_dir / segment.file, "rb") as source:
                    for begin in range(0, segment.count, BLOCK_ROWS):
                        size = min(BLOCK_ROWS, segment.count - begin)
                        block = np.fromfile(source, dtype=np.float16, count=size * dim).reshape(size, dim)
                        block_slots = slots[begin : begin + size]
                        keep = ~np.isin(block_slots, dead, assume_unique=True)
                        data = np.ascontiguousarray(block[keep]).tobytes()
                        ids = np.ascontiguousarray(block_slots[keep], dtype=np.int64).tobytes()
                        report.dropped_slots.extend(block_slots[~keep].tolist())
                        rows_file.write(data)
                        ids_file.write(ids)
                        rows_digest.update(data)
                        ids_digest.update(ids)
                        kept = int(np.count_nonzero(keep))
                        count += kept
                        report.rows_copied += kept
                        report.rows_dropped += size - kept
            for handle in (rows_file, ids_file):
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        rows_path.unlink(missing_ok=True)
        ids_path.unlink(missing_ok=True)
        raise
    if not count:
        rows_path.unlink(missing_ok=True)
        ids_path.unlink(missing_ok=True)
        return None
    report.new_files += [rows_path.name, ids_path.name]
    return Segment(rows_path.name, run[0].first, count, rows_digest.hexdigest(), ids=ids_path.name,
                   ids_sha256=ids_digest.hexdigest(), end=max(item.stop for item in run))


def protected_manifests(index_dir: Path, serving_manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The manifests a reader may still open: the serving one and every readable one in builds/."""
    found = [serving_manifest] if serving_manifest else []
    builds = index_dir / publish.BUILDS
    for folder in builds.iterdir() if builds.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            manifest = json.loads((folder / publish.MANIFEST).read_text(encoding="utf-8"))
            if isinstance(manifest, dict):
                found.append(manifest)
    return found


def _forget_rows(connection: sqlite3.Connection, oldest_kept: int, data_dir: Path, segments: list[Segment],
                 protected: Sequence[dict[str, Any]]) -> int:
    """Delete rows of chunks no kept generation shows whose slot no segment that may be read holds."""
    candidates = dead_slots(connection, oldest_kept)
    if not len(candidates):
        return 0
    held = _held(candidates, segments, data_dir)
    for manifest in protected:
        held |= _held(candidates, manifests.segments_of(manifest), data_dir)
        ann = manifest.get("vector_index") or {}
        if ann.get("file"):  # an IVF index holds the slots shown when it was trained, below `covers`
            held |= candidates < int(ann.get("covers", 0))
    doomed = candidates[~held]
    before = connection.total_changes
    # Rows whose postings are still in the lexical table (not purged) are never deleted here.
    connection.executemany("DELETE FROM chunks WHERE id = ? AND purged = 1", [(int(i),) for i in doomed])
    return connection.total_changes - before


def _held(slots: np.ndarray, segments: list[Segment], data_dir: Path) -> np.ndarray:
    """Which of `slots` (sorted) one of `segments` holds; a sparse segment whose slot list is unreadable
    counts as holding its whole range."""
    held = np.zeros(len(slots), dtype=bool)
    for segment in segments:
        lo, hi = np.searchsorted(slots, [segment.first, segment.stop])
        if lo == hi:
            continue
        if not segment.ids:
            held[lo:hi] = True
            continue
        try:
            ids = np.fromfile(data_dir / segment.ids, dtype=np.int64, count=segment.count)
        except OSError:
            held[lo:hi] = True
            continue
        if len(ids) != segment.count:
            held[lo:hi] = True
            continue
        held[lo:hi] |= np.isin(slots[lo:hi], ids, assume_unique=True)
    return held


def tables_free_share(connection: sqlite3.Connection) -> float:
    pages = int(connection.execute("PRAGMA page_count").fetchone()[0] or 0)
    free = int(connection.execute("PRAGMA freelist_count").fetchone()[0] or 0)
    return free / pages if pages else 0.0


def vacuum_if_needed(path: Path, report: Compaction, *, share: float = FREE_PAGES_SHARE) -> None:
    """After the swap, under the build lock: rebuild the tables file when `share` of its pages are free (or
    when forced). VACUUM is one SQLite transaction: a kill inside it leaves the file as it was; readers keep
    their snapshot. A busy database (a reader mid-query holding the WAL) is left for the next build."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=2000")
        if not report.forced and tables_free_share(connection) < share:
            return
        report.tables_bytes_before = _tables_bytes(path)
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        report.vacuumed = True
        report.tables_bytes_after = _tables_bytes(path)
    except sqlite3.OperationalError:
        pass
    finally:
        connection.close()


def _tables_bytes(path: Path) -> int:
    return sum((path.parent / f"{path.name}{suffix}").stat().st_size
               for suffix in ("", "-wal") if (path.parent / f"{path.name}{suffix}").exists())


def footprint(index_dir: Path) -> dict[str, int]:
    """Sizes of an index folder: the bytes the serving manifest names (its tables with WAL, segments, slot
    lists, vector index), every byte under data/ (the previous build's files included), segment count."""
    build_dir = publish.resolve_build_dir(index_dir)
    data = Path(index_dir) / publish.DATA
    if build_dir is None:
        return {"serving_bytes": 0, "disk_bytes": 0, "segments": 0, "vector_bytes": 0, "tables_bytes": 0}
    manifest = json.loads((build_dir / publish.MANIFEST).read_text(encoding="utf-8"))
    segments = manifests.segments_of(manifest)
    names = [item.file for item in segments] + [item.ids for item in segments if item.ids]
    vector_bytes = sum((data / name).stat().st_size for name in names)
    vector_bytes += sum((data / name).stat().st_size for name in (manifest.get("index_files") or {}))
    tables_bytes = _tables_bytes(data / manifest["tables"])
    return {"serving_bytes": vector_bytes + tables_bytes, "disk_bytes": sum(p.stat().st_size for p in data.iterdir()),
            "segments": len(segments), "vector_bytes": vector_bytes, "tables_bytes": tables_bytes}
