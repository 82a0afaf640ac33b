"""What every command shares: common flags, the settings they resolve to, JSON output, skipped-file reports."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Exit statuses: 0 ok, 1 error, 2 usage (argparse), 3 finished but some files were skipped.
EXIT_ERROR = 1
EXIT_SKIPPED = 3


MAX_K = 1000  # passages one search may print; an answer reads at most qa.answer.MAX_PASSAGES


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def passage_count(value: str) -> int:
    """-k: 1..MAX_K, so `-k 10000000` is refused at once instead of ranking the whole index."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {value!r}") from None
    if number > MAX_K:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_K}, not {number}")
    return positive_int(value)


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", type=Path, help="archive folder (default: the bundled sample archive)")
    parser.add_argument("--index", type=Path, help="index folder (default: one per archive under var/indexes/)")
    parser.add_argument("--config", type=Path, help="TOML settings file (also: ARCHIVE_QA_CONFIG)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=passage_count, default=None, help="number of passages (default 5)")
    parser.add_argument("--mode", choices=["dense", "bm25", "hybrid"], help="ranking (default hybrid)")
    parser.add_argument("--source", metavar="GLOB", help="only sources matching this glob, e.g. '00[12]_*'")
    parser.add_argument("--since", metavar="DATE", help="only articles dated on or after DATE (YYYY[-MM[-DD]])")
    parser.add_argument("--until", metavar="DATE", help="only articles dated on or before DATE (YYYY[-MM[-DD]])")


def settings_from(args: argparse.Namespace, **extra: Any):
    """The settings of a command; every command works on an archive, so a missing one is said first."""
    from core.files import require_archive_dir
    from core.settings import load_settings

    settings = load_settings(config_file=args.config, archive_dir=args.archive, index_dir=args.index, **extra)
    require_archive_dir(settings.archive_dir)
    return settings


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def search_filters(args: argparse.Namespace):
    from index.records import SearchFilters

    return SearchFilters(source_glob=args.source, since=args.since, until=args.until)


def report_skipped(skipped, warnings=()) -> None:
    for item in skipped:
        print(f"skipped {item.source}: {item.reason}", file=sys.stderr)
    for item in warnings:
        print(f"warning {item.source}: {item.reason}", file=sys.stderr)
