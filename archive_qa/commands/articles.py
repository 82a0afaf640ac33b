"""`archive-qa articles`: the cleaned articles."""

from __future__ import annotations

import argparse
from typing import Any

from archive_qa.commands.common import EXIT_SKIPPED, add_common, print_json, report_skipped, settings_from


def add_parser(commands) -> None:
    parser = commands.add_parser("articles", help="list the cleaned articles")
    add_common(parser)
    parser.add_argument("--text", action="store_true", help="include each article's cleaned body")


def run(args: argparse.Namespace) -> int:
    from archive.load import scan_archive

    settings = settings_from(args)
    scan = scan_archive(settings.archive_dir, max_file_bytes=settings.max_file_bytes,
                        near_duplicate_threshold=settings.near_duplicate_threshold)
    if args.json:
        rows = []
        for article in scan.articles:
            row: dict[str, Any] = {
                "id": article.id,
                "source": article.source,
                "title": article.title,
                "paragraphs": len(article.paragraphs),
                "lines": list(article.lines),
                "date": article.date,
                "outlet": article.outlet,
                "caption": article.caption,
                "also_in": list(scan.also_in(article.id)),
            }
            if args.text:
                row["text"] = article.body
            rows.append(row)
        print_json(rows)
    else:
        for article in scan.articles:
            first, last = article.lines
            extras = ", ".join(part for part in (article.outlet, article.date) if part)
            print(f"{article.source}:{first}-{last}  {article.title}" + (f"  ({extras})" if extras else ""))
            if args.text:
                print()
                print(article.body)
                print()
    report_skipped(scan.skipped, scan.warnings)
    return EXIT_SKIPPED if scan.skipped else 0
