"""Index builds started from the page, run in a background thread so no session's questions wait on them.

One `BuildJobs` registry lives per server process (the page keeps it in `st.cache_resource`); every
session sees the same job for an index folder, so two users pressing "rebuild" start one build.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import ArchiveError

BuildFunction = Callable[..., Any]  # build_index(settings, *, full, progress, on_progress) -> BuildReport


@dataclass
class BuildJob:
    """Progress and outcome of one build; fields are written by the build thread and read by pages."""

    index_dir: str
    full: bool
    started_at: float = field(default_factory=time.time)
    done: int = 0
    total: int = 0
    finished_at: float | None = None
    error: str = ""
    summary: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def progress_text(self) -> str:
        kind = "Rebuilding the index from scratch" if self.full else "Building the index"
        if not self.total:
            return f"{kind}: reading the archive…"
        return f"{kind}: embedded {self.done} of {self.total} chunks"

    def on_progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the build ends (tests and scripts); True when it has ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running


class BuildJobs:
    """At most one running build per index folder, started on demand, remembered after it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, BuildJob] = {}

    def get(self, index_dir: str) -> BuildJob | None:
        with self._lock:
            return self._jobs.get(index_dir)

    def start(
        self,
        settings: Any,
        *,
        full: bool,
        build: BuildFunction,
        on_finish: Callable[[BuildJob], None] | None = None,
    ) -> BuildJob:
        """Start a build of `settings`' index, or return the one already running for that folder."""
        index_dir = str(settings.resolved_index_dir())
        with self._lock:
            current = self._jobs.get(index_dir)
            if current is not None and current.running:
                return current
            job = BuildJob(index_dir=index_dir, full=full)
            self._jobs[index_dir] = job
        job.thread = threading.Thread(
            target=self._run, args=(job, settings, build, on_finish), name=f"archive-qa-build:{index_dir}",
            daemon=True,
        )
        job.thread.start()
        return job

    @staticmethod
    def _run(job: BuildJob, settings: Any, build: BuildFunction, on_finish) -> None:
        try:
            report = build(settings, full=job.full, progress=False, on_progress=job.on_progress)
            summary = getattr(report, "summary", None)
            job.summary = summary() if callable(summary) else str(report)
        except ArchiveError as error:
            job.error = error.one_line()
        except Exception as error:  # noqa: BLE001 - a bug is shown on the page, never kills the server
            job.error = f"{type(error).__name__}: {' '.join(str(error).split())}"
        finally:
            job.finished_at = time.time()
            if on_finish is not None:
                on_finish(job)
