"""The index folder: layout, the build lock (filelock), the atomic swap of `current`, garbage collection.

    INDEX_DIR/
      current -> builds/<stamp>        the serving build; replaced atomically (rename of a fresh symlink)
      builds/<stamp>/manifest.json      one generation: which tables file, generation number, vector segments,
                                        vector index, counts, checksums of the immutable files it names
      data/<lineage>.sqlite             articles, chunks, lexical postings (FTS5), files, near-duplicate links;
                                        WAL mode; rows carry the generation that added (`born`) and removed
                                        (`died`) them, so one file serves the current and the previous build
      data/<lineage>-<n>.f16            vector segments: float16 rows, append-once, never modified
      data/<lineage>-ann-<n>.faiss      the approximate vector index over a prefix of the slots (large indexes)
      build.lock                        held (filelock) by the one running build

Why this shape: an update must cost what changed, yet stay atomic. Copying a multi-GB table file per update
is what the design avoids: an update adds rows with `born = G+1` and marks removed rows `died = G+1` in one
SQLite transaction, appends one new segment file, then publishes a manifest naming generation G+1. A
reader pins the generation of the manifest it opened and sees exactly the rows alive at it (slot < its slot
count, and not died at or before it), so it never sees a half-written build (removed chunks' lexical
postings go at the commit, so such a reader's BM25 uses the new statistics); a crash before the swap
leaves the old manifest serving, and the next build first erases rows and files the dead build left.
A full build starts a new lineage (a fresh tables file and segments) the same way. Files that no kept
manifest names are deleted, under the lock, after each build. Nothing here is pickled.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import IndexLocked

MANIFEST = "manifest.json"
CURRENT = "current"
BUILDS = "builds"
DATA = "data"
LOCK = "build.lock"
KEEP_PREVIOUS = 1  # older builds kept for readers that resolved `current` just before a swap


def resolve_build_dir(index_dir: Path) -> Path | None:
    """The folder of the serving build, or None when no index was built here."""
    link = Path(index_dir) / CURRENT
    if link.is_symlink():
        return (Path(index_dir) / os.readlink(link)).resolve()
    return None


def build_lock(index_dir: Path, timeout: float = 0.0) -> _BuildLock:
    """The exclusive build lock of an index folder, waited for up to `timeout` seconds.

    filelock takes an fcntl lock on build.lock: the kernel releases it when the holding process dies, so a
    killed build never leaves a lock behind that blocks the next one.
    """
    return _BuildLock(Path(index_dir), timeout)


class _BuildLock:
    def __init__(self, index_dir: Path, timeout: float) -> None:
        self.index_dir = index_dir
        self.timeout = max(timeout, 0.0)
        # No soft-lock fallback: a soft lock is a file whose presence is the lock, and a killed build would leave it.
        self._lock = FileLock(
            index_dir / LOCK, timeout=self.timeout, thread_local=False, is_singleton=False, fallback_to_soft=False
        )

    def __enter__(self) -> _BuildLock:
        try:
            self._lock.acquire(timeout=self.timeout, poll_interval=0.05)
        except Timeout:
            holder = _holder(self.index_dir)
            waited = f" after waiting {self.timeout:g}s" if self.timeout else ""
            raise IndexLocked(
                f"another build{f' (process {holder})' if holder else ''} is updating {self.index_dir}{waited}; "
                "try again when it ends, or pass --wait SECONDS",
                index_dir=self.index_dir,
            ) from None
        (self.index_dir / f"{LOCK}.pid").write_text(str(os.getpid()))  # who holds it, for the message above
        return self

    def __exit__(self, *exc_info: object) -> None:
        (self.index_dir / f"{LOCK}.pid").unlink(missing_ok=True)
        self._lock.release()


def _holder(index_dir: Path) -> str:
    try:
        return (index_dir / f"{LOCK}.pid").read_text().strip()
    except OSError:
        return ""


def new_build_dir(index_dir: Path) -> Path:
    """A fresh build folder; names sort in creation order (to the microsecond)."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now / 1e9)) + f".{now // 1000 % 1_000_000:06d}"
    folder = index_dir / BUILDS / f"{stamp}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


def new_name(prefix: str = "") -> str:
    """A fresh, unique file stem for the data folder."""
    return f"{prefix}{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def publish(index_dir: Path, build_dir: Path, before_swap: Callable[[], None] | None = None) -> None:
    """Make `build_dir` the serving build in one atomic step (rename of a fresh symlink over `current`).

    `before_swap` (the tables' commit) runs when everything else is in place, just before the rename.
    """
    fsync_path(build_dir)
    fsync_path(build_dir.parent)
    fsync_path(index_dir / DATA)
    temporary = index_dir / f".{CURRENT}.{os.getpid()}.{secrets.token_hex(4)}"
    os.symlink(os.path.relpath(build_dir, index_dir), temporary)
    try:
        if before_swap is not None:
            before_swap()
        os.replace(temporary, index_dir / CURRENT)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(index_dir)


def kept_builds(index_dir: Path, current: Path, previous: Path | None = None) -> list[Path]:
    """The serving build and the one that served before it (readers may still hold it): `previous` when
    the caller knows it, else the newest other build with a readable manifest."""
    if previous is not None and previous.resolve() != current.resolve():
        return [current, previous]
    builds = index_dir / BUILDS
    others = [
        folder
        for folder in (builds.iterdir() if builds.is_dir() else [])
        if folder.resolve() != current.resolve() and _readable(folder / MANIFEST)
    ]
    others.sort(key=lambda folder: folder.name)
    return [current, *others[-KEEP_PREVIOUS:]]


def _readable(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        return False


def remove_unreferenced(index_dir: Path, kept: list[Path], referenced: set[str]) -> None:
    """Delete build folders not in `kept` (crashed halves, old builds) and data files no kept build names.

    `referenced` holds data file names (a tables file also covers its -wal and -shm). Call under the lock.
    """
    keep = {folder.resolve() for folder in kept}
    builds = index_dir / BUILDS
    for folder in builds.iterdir() if builds.is_dir() else []:
        if folder.resolve() not in keep:
            shutil.rmtree(folder, ignore_errors=True)
    data = index_dir / DATA
    for path in data.iterdir() if data.is_dir() else []:
        base = path.name.removesuffix("-wal").removesuffix("-shm").removesuffix("-journal")
        if base not in referenced:
            path.unlink(missing_ok=True)
    for leftover in index_dir.glob(f".{CURRENT}.*"):
        leftover.unlink(missing_ok=True)
