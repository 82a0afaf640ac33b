"""The first step of a build: which files changed since the serving index, decided without reading them.

A file is unchanged when its size and modification time equal those stored; only a file whose stat moved is
hashed, and it is unchanged still when its sha256 equals the stored one (a touch, a copy that kept the
content). Files never seen are new; stored files the walk no longer finds are dropped. Entries the walker
skips (a symlink out of the archive, a socket) are tracked by their reason, so they appear in the report.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from archive.records import SkippedFile
from archive.walk import ArchiveFile, walk_archive
from core.files import file_sha256
from index.engine import FileTask
from index.tables import visible

SKIPPED_SIZE = -1  # the size stored for an entry the walker skipped


@dataclass(frozen=True)
class StoredFile:
    row: int
    size: int
    mtime_ns: int
    sha256: str
    reason: str


@dataclass(frozen=True)
class Plan:
    tasks: tuple[FileTask, ...]  # new or changed files: to read, chunk and embed
    dropped: tuple[str, ...]  # stored sources to remove (gone, or changed: their new version is a task)
    restat: tuple[tuple[int, int, int], ...]  # (file row, size, mtime_ns) of files touched but unchanged
    walk_skipped: tuple[SkippedFile, ...]  # walker skips that are new or whose reason changed

    @property
    def changed(self) -> bool:
        return bool(self.tasks or self.dropped or self.walk_skipped)


def stored_files(connection: sqlite3.Connection, generation: int) -> dict[str, StoredFile]:
    """The file rows a published generation shows."""
    shown = visible("f", generation)
    rows = connection.execute(f"SELECT source, id, size, mtime_ns, sha256, reason FROM files f WHERE {shown}")
    return {
        source: StoredFile(row, size, mtime, sha or "", reason or "")
        for source, row, size, mtime, sha, reason in rows
    }


def make_plan(archive_dir: Path, stored: dict[str, StoredFile], max_file_bytes: int) -> Plan:
    """Compare the archive with `stored` (empty for a fresh index: everything is new)."""
    walk = walk_archive(archive_dir)
    tasks: list[FileTask] = []
    dropped: list[str] = []
    restat: list[tuple[int, int, int]] = []
    for file in walk.files:
        old = stored.get(file.source)
        if old is not None and old.size == file.size and old.mtime_ns == file.mtime_ns:
            continue
        task = _task(file, max_file_bytes)
        if old is not None and old.size != SKIPPED_SIZE and old.sha256 == task.sha256:
            restat.append((old.row, file.size, file.mtime_ns))
            continue
        if old is not None:
            dropped.append(file.source)
        tasks.append(task)
    skipped_now = {item.source: item.reason for item in walk.skipped}
    fresh_skips = []
    for source, reason in skipped_now.items():
        old = stored.get(source)
        if old is None or old.size != SKIPPED_SIZE or old.reason != reason:
            fresh_skips.append(SkippedFile(source, reason))
            if old is not None:
                dropped.append(source)
    present = {file.source for file in walk.files} | set(skipped_now)
    dropped.extend(source for source in stored if source not in present)
    return Plan(tuple(tasks), tuple(sorted(set(dropped))), tuple(restat), tuple(fresh_skips))


def _task(file: ArchiveFile, max_file_bytes: int) -> FileTask:
    if file.size > max_file_bytes:  # not read (the reader skips it): not hashed either
        return FileTask(file.source, str(file.path), file.size, file.mtime_ns, f"large:{file.size}")
    try:
        sha = file_sha256(file.path)
    except OSError as error:  # unreadable now: the engine reports why when it tries to read it
        sha = f"unreadable:{error.errno}"
    return FileTask(file.source, str(file.path), file.size, file.mtime_ns, sha)
