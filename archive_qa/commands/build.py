"""`archive-qa build`: build or incrementally update the index."""

from __future__ import annotations

import argparse

from archive_qa.commands.common import EXIT_SKIPPED, add_common, print_json, report_skipped, settings_from


def add_parser(commands) -> None:
    parser = commands.add_parser("build", help="build or incrementally update the index")
    add_common(parser)
    parser.add_argument("--full", action="store_true", help="re-embed everything instead of only changes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for another build's lock before giving up (default: fail at once)")


def run(args: argparse.Namespace) -> int:
    from index.build import build_index

    settings = settings_from(args)
    report = build_index(settings, full=args.full, progress=not args.quiet and not args.json,
                         lock_timeout=args.wait)
    if args.json:
        print_json(report.to_json())
    elif not args.quiet:
        print(report.summary())
    report_skipped(report.skipped_files, report.warnings)
    return EXIT_SKIPPED if report.skipped_files else 0
