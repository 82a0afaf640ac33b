"""Keeping an index current while files arrive: file-system events, debounced, one incremental build each.

watchfiles (the Rust `notify` watcher) groups a burst of events: it yields once no new event came for
`debounce` seconds. A scraper may still be writing a file in several steps, so before building, every
changed file must keep its size and modification time for `settle` seconds. The build itself is
index.build.build_index under the build lock, waiting for a build started elsewhere (the app, cron).
Files changed while the first build ran, before the file watcher started, raise no event: at its first
quiet moment the watcher compares the archive with the index once and builds again if they differ.
Ctrl-C ends the watch between or during builds; the lock is a `with` block (and an fcntl lock the
kernel drops with the process), so none is left held.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ArchiveError
from index.build import BuildReport, archive_changed, build_index

SETTLE_POLL = 0.1  # seconds between size/mtime checks while waiting for files to settle


@dataclass(frozen=True)
class WatchEvent:
    """One thing the watcher did: a build (with its report), or a build that failed (with the reason)."""

    changed: tuple[str, ...]  # archive-relative paths of the burst; empty for the build at start
    report: BuildReport | None = None
    error: str = ""
    waited: float = 0.0  # seconds spent waiting for changed files to settle


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def wait_until_stable(paths: Iterable[Path], settle: float, *, stop: Callable[[], bool] = lambda: False,
                      clock: Callable[[], float] = time.monotonic, longest: float | None = None) -> float:
    """Wait until every path's size and mtime stayed the same for `settle` seconds; return the seconds waited.

    A path that disappears stops counting (a deleted temporary file); folders are not waited for. A file
    that never stops changing (a log appended to forever) is waited for `longest` seconds at most (default
    the larger of 60 s and ten settle periods), so it cannot hold back every other file's build.
    """
    files = [path for path in paths if not path.is_dir()]
    started = clock()
    limit = max(60.0, 10 * settle) if longest is None else longest
    seen = {path: _signature(path) for path in files}
    quiet_since = started
    while clock() - quiet_since < settle and clock() - started < limit and not stop():
        time.sleep(min(SETTLE_POLL, settle))
        now = {path: _signature(path) for path in files}
        if now != seen:
            seen, quiet_since = now, clock()
    return clock() - started


class _ArchiveFilter:
    """watchfiles' default filter (editor swap files, .git, ...) minus the index folder if it sits inside."""

    def __init__(self, index_dir: Path) -> None:
        from watchfiles import DefaultFilter

        self._default = DefaultFilter()
        self._index = str(index_dir.resolve())

    def __call__(self, change, path: str) -> bool:
        if path == self._index or path.startswith(self._index + os.sep):
            return False
        return self._default(change, path)


def _build(settings, changed: tuple[str, ...], waited: float, lock_wait: float, embedder) -> WatchEvent:
    try:
        report = build_index(settings, progress=False, lock_timeout=lock_wait, embedder=embedder)
    except ArchiveError as error:  # the archive vanished, the lock was held too long, ...: keep watching
        return WatchEvent(changed, error=error.one_line(), waited=waited)
    return WatchEvent(changed, report=report, waited=waited)


def watch_archive(settings, *, debounce: float = 1.0, settle: float = 2.0, lock_wait: float = 600.0,
                  on_event: Callable[[WatchEvent], None] = lambda event: None, stop_event=None,
                  embedder=None, build_first: bool = True) -> None:
    """Build once (unless `build_first` is False), then rebuild after every settled burst of changes.

    Runs until `stop_event` is set or Ctrl-C (KeyboardInterrupt propagates to the caller). One embedder
    serves every build, so the model loads once.
    """
    from watchfiles import watch

    archive = Path(settings.archive_dir).resolve()
    if embedder is None:
        from index.embed import make_embedder

        embedder = make_embedder(settings)
    if build_first:
        on_event(_build(settings, (), 0.0, lock_wait, embedder))
    stopped = stop_event.is_set if stop_event is not None else (lambda: False)
    step = max(int(debounce * 1000), 50)
    caught_up = False
    for changes in watch(archive, watch_filter=_ArchiveFilter(settings.resolved_index_dir()), step=step,
                         debounce=max(step * 20, 10_000), stop_event=stop_event, rust_timeout=500,
                         yield_on_timeout=True):
        if not changes:  # a quiet timeout: the file watcher is running by now
            if not caught_up:  # files changed after the first build read the archive, before watching began
                caught_up = True
                if build_first and _changed_since_build(settings):
                    on_event(_build(settings, (), 0.0, lock_wait, embedder))
            continue
        paths = sorted({Path(path) for _, path in changes})
        waited = wait_until_stable(paths, settle, stop=stopped)
        if stopped():
            break
        changed = tuple(sorted({_relative(path, archive) for path in paths}))
        on_event(_build(settings, changed, waited, lock_wait, embedder))


def _changed_since_build(settings) -> bool:
    try:
        return archive_changed(settings)
    except ArchiveError:  # the archive went away: the build says so
        return True


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
