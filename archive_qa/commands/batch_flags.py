"""The batch flags of `ask` and `search`: `--questions/--queries FILE`, `--out`, `--limit`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archive_qa.commands.common import EXIT_ERROR, positive_int


def add_batch_flags(parser: argparse.ArgumentParser, *, kind: str) -> None:
    """`kind` is "questions" (ask) or "queries" (search)."""
    group = parser.add_argument_group("batch")
    group.add_argument(f"--{kind}", type=Path, metavar="FILE",
                       help=f"{'answer' if kind == 'questions' else 'search for'} every item of FILE instead: "
                       f".txt (one per line), .csv (a "
                       f"{'question' if kind == 'questions' else 'query'} column) or .jsonl")
    group.add_argument("--out", type=Path, metavar="FILE",
                       help="write rows to FILE (.jsonl or .csv; default JSON lines on stdout); a re-run skips "
                       "the rows already in FILE")
    group.add_argument("--limit", type=positive_int, metavar="N", help="write at most N new rows, then stop")
    group.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def check_single_or_batch(parser_name: str, single: str | None, batch: Path | None, flag: str) -> bool:
    """True when the flags make sense; says why on stderr when they do not."""
    if (single is None) == (batch is None):
        print(f"archive-qa {parser_name}: give either a {'QUESTION' if flag == '--questions' else 'QUERY'} "
              f"or {flag} FILE", file=sys.stderr)
        return False
    return True


def finish(summary, out: Path | None) -> int:
    where = f" to {out}" if out else ""
    print(f"{summary.line()}{where}", file=sys.stderr)
    return EXIT_ERROR if summary.failed and summary.failed == summary.written else 0
