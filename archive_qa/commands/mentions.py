"""`archive-qa mentions NAME`: every article and passage naming NAME, in any spelling the index folds together."""

from __future__ import annotations

import argparse

from archive_qa.commands.common import add_common, print_json, settings_from


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "mentions", help="every article naming a person, group or place, in any spelling, by date",
        description="Every mention of NAME in the indexed archive, grouped by article, ordered by date. "
        "Spellings the index folds together count as one name (Hezbollah, Hizbullah, Hizb Allah); "
        "'X al-Y' is also found as 'al-Y'. Lines are raw-file lines: sed -n 'START,ENDp' ARCHIVE/SOURCE.",
    )
    add_common(parser)
    parser.add_argument("name")
    parser.add_argument("--alias", action="append", default=[], metavar="NAME",
                        help="another name to count as the same (repeatable), e.g. --alias KH")


def run(args: argparse.Namespace) -> int:
    from index.mentions import find_mentions
    from index.search import Searcher

    settings = settings_from(args)
    report = find_mentions(Searcher.open(settings), args.name, aliases=args.alias)
    if args.json:
        print_json(report.to_json())
        return 0
    print(f"{report.total} mentions of {args.name} in {len(report.articles)} articles"
          + (f"; spellings: {', '.join(report.spellings)}" if report.spellings else ""))
    for article in report.articles:
        spans = ", ".join(f"{start}" if start == end else f"{start}-{end}" for start, end in article.lines)
        meta = " · ".join(part for part in (article.date or "undated", article.outlet) if part)
        print(f"\n{article.count:>4}  {article.title or article.source}  ({meta})")
        print(f"      {article.source} lines {spans}")
        if article.also_in:
            print(f"      also in: {', '.join(article.also_in)}")
    return 0
