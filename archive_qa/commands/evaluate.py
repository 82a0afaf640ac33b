"""`archive-qa eval`: retrieval and answer figures on a labelled question set."""

from __future__ import annotations

import argparse
from pathlib import Path

from archive_qa.commands.common import add_common, print_json, settings_from


def add_parser(commands) -> None:
    parser = commands.add_parser("eval", help="evaluate retrieval and answers on a question set")
    add_common(parser)
    parser.add_argument("--questions", type=Path, required=True, help="JSON-lines question set")
    parser.add_argument("--answerers", default="extractive",
                        help="comma-separated answerers to evaluate (default: extractive)")
    parser.add_argument("--mode", choices=["dense", "bm25", "hybrid"], help="ranking (default hybrid)")


def run(args: argparse.Namespace) -> int:
    from qa.evaluate import format_report, run_evaluation

    settings = settings_from(args)
    answerers = [name.strip() for name in args.answerers.split(",") if name.strip()]
    report = run_evaluation(settings, args.questions, answerers=answerers, mode=args.mode)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0
