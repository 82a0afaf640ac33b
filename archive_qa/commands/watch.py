"""`archive-qa watch`: keep the index current while files arrive in the archive."""

from __future__ import annotations

import argparse
import json
import sys

from archive_qa.commands.common import add_common, report_stopped, settings_from, stop_on_signals


def _seconds(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number:g}")
    return number


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "watch", help="rebuild the index incrementally whenever files in the archive change (Ctrl-C or SIGTERM stops)",
        description="Builds once, then watches the archive folder: each burst of file changes, once the changed "
        "files stopped growing, becomes one incremental build under the build lock. With --json, one "
        "`build --json` document per line.",
    )
    add_common(parser)
    parser.add_argument("--debounce", type=_seconds, default=1.0, metavar="S",
                        help="a burst ends after S seconds without a new change (default 1)")
    parser.add_argument("--settle", type=_seconds, default=2.0, metavar="S",
                        help="changed files must keep their size and mtime for S seconds (default 2)")
    parser.add_argument("--wait", type=_seconds, default=600.0, metavar="S",
                        help="wait up to S seconds for a build started elsewhere (default 600)")


def _report(event, as_json: bool) -> None:
    if event.error:
        print(f"archive-qa watch: build failed: {event.error}", file=sys.stderr, flush=True)
        return
    report = event.report
    if as_json:
        document = report.to_json() | {"changed": list(event.changed), "published": report.published}
        print(json.dumps(document, ensure_ascii=False), flush=True)
        return
    what = f"{len(event.changed)} changed file(s)" if event.changed else "start"
    print(f"[{what}] {report.summary()}", flush=True)
    for item in report.skipped_files:
        print(f"skipped {item.source}: {item.reason}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Runs until SIGTERM, SIGINT (Ctrl-C) or SIGHUP: a build under way then rolls back, the lock is
    released, and the command exits 0 with `archive-qa watch: stopped by SIGTERM` (or SIGINT, SIGHUP)."""
    with stop_on_signals() as stop:
        try:
            from index.watch import watch_archive

            settings = settings_from(args)
            print(f"archive-qa watch: watching {settings.archive_dir.resolve()} -> {settings.resolved_index_dir()} "
                  "(Ctrl-C or SIGTERM stops)", file=sys.stderr, flush=True)
            watch_archive(settings, debounce=args.debounce, settle=args.settle, lock_wait=args.wait,
                          on_event=lambda event: _report(event, args.json))
        except KeyboardInterrupt as interrupt:  # StopRequested, or watchfiles' own KeyboardInterrupt for it
            return report_stopped("watch", stop.name(interrupt))
    return 0
