"""`archive-qa build`: build or incrementally update the index."""

from __future__ import annotations

import argparse

from archive_qa.commands.common import (
    EXIT_SKIPPED,
    add_common,
    positive_int,
    print_json,
    report_skipped,
    settings_from,
)


def add_parser(commands) -> None:
    parser = commands.add_parser("build", help="build or incrementally update the index")
    add_common(parser)
    parser.add_argument("--full", action="store_true", help="re-embed everything instead of only changes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verify", action="store_true",
                        help="first re-hash the serving index (every vector segment, SQLite and FTS5 integrity, "
                             "row counts); a damaged one is rebuilt in full")
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
    from index.build import build_index

    settings = settings_from(args)
    report = build_index(settings, full=args.full, progress=not args.quiet and not args.json,
                         lock_timeout=args.wait, engine=_engine(args, settings), verify=args.verify)
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
