"""`archive-qa build`: build or incrementally update the index.

SIGTERM, SIGINT (Ctrl-C) or SIGHUP stop a build cleanly: the unfinished build is rolled back (index.build),
the lock released, worker processes shut down, and the command exits 0 with one line on stderr saying the
build was stopped and which index serves; no report is printed on stdout (not even with --json).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from archive_qa.commands.common import (
    EXIT_SKIPPED,
    add_common,
    positive_int,
    print_json,
    report_skipped,
    report_stopped,
    settings_from,
    stop_on_signals,
)


def add_parser(commands) -> None:
    parser = commands.add_parser("build", help="build or incrementally update the index")
    add_common(parser)
    parser.add_argument("--full", action="store_true", help="re-embed everything instead of only changes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verify", action="store_true",
                        help="first re-hash the serving index (every vector segment, SQLite and FTS5 integrity, "
                             "row counts); a damaged one is rebuilt in full")
    parser.add_argument("--compact", action="store_true",
                        help="merge every vector segment into as few as possible, drop the rows of removed "
                             "chunks and vacuum the tables (builds otherwise compact when the merge policy says so)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for another build's lock before giving up (default: fail at once)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="where files are read and embedded: this machine (default) or a Ray cluster "
                             "(the ray extra; docs/SCALING.md)")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: the cluster to join (HOST:PORT of `ray start --head`); "
                             "default: a private 2-CPU cluster on this machine")
    parser.add_argument("--actors", type=positive_int, metavar="N",
                        help="with --engine ray: embedding actors, each holding a model (default: one per CPU)")


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    settings: Any = None
    serving: Path | None = None  # the build serving before this one, to say which serves after a stop
    with stop_on_signals() as stop:
        try:
            from index.build import build_index
            from index.publish import resolve_build_dir

            settings = settings_from(args)
            serving = resolve_build_dir(settings.resolved_index_dir())
            report = build_index(settings, full=args.full, progress=not args.quiet and not args.json,
                                 lock_timeout=args.wait, engine=_engine(args, settings), verify=args.verify,
                                 compact=args.compact)
        except KeyboardInterrupt as interrupt:
            detail = _stopped_detail(settings, serving)
            return report_stopped("build", stop.name(interrupt), f" after {time.monotonic() - started:.1f}s; {detail}")
        except Exception:
            if stop.signum is None:
                raise
            # The stop arrived inside a library that turned it into its own error (a C extension being imported
            # raises "ImportError: initialization failed"): still a requested stop, and the build rolled back.
            detail = _stopped_detail(settings, serving)
            return report_stopped("build", stop.name(), f" after {time.monotonic() - started:.1f}s; {detail}")
    if args.json:
        print_json(report.to_json())
    elif not args.quiet:
        print(report.summary())
    report_skipped(report.skipped_files, report.warnings)
    return EXIT_SKIPPED if report.skipped_files else 0


def _engine(args: argparse.Namespace, settings):
    """None (build_index's local engine) unless --engine ray: only then is index.ray_engine imported."""
    if args.engine != "ray":
        if args.address or args.actors:
            from core.errors import InvalidSettings

            raise InvalidSettings("--address and --actors apply to --engine ray only")
        return None
    from index.ray_engine import RayEngine, RayOptions

    engine = RayEngine(settings, RayOptions(address=args.address, actors=args.actors))
    engine.preflight()  # a missing extra or a dead address is said before the archive is even walked
    return engine


def _stopped_detail(settings, serving_before: Path | None) -> str:
    """What a stopped build leaves serving, said plainly (`current` is swapped atomically, so it is one or
    the other: a stop after the swap, while old files were being cleaned up, leaves the new build serving)."""
    if settings is None:
        return "nothing was built"
    from index.publish import resolve_build_dir

    index_dir = settings.resolved_index_dir()
    serving = resolve_build_dir(index_dir)
    if serving is not None and serving != serving_before:
        return f"the new index was already published and serves from {index_dir}"
    if serving is None:
        return f"nothing was published, and there is no index at {index_dir} yet"
    return f"nothing was published, the previous index at {index_dir} keeps serving"
