"""`archive-qa articles`: the cleaned articles, read from the archive folder or, with --index, from an index."""

from __future__ import annotations

import argparse
from typing import Any

from archive_qa.commands.common import EXIT_SKIPPED, add_common, print_json, report_skipped, settings_from


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "articles", help="list the cleaned articles (of the archive folder, or with --index of that index)",
        description="Without --index, reads and cleans the archive folder as it is now. With --index DIR, lists "
        "what that index holds (its serving build, as the archive was when it was built), in the same shape.",
    )
    add_common(parser)
    parser.add_argument("--text", action="store_true", help="include each article's cleaned body")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.index is not None:  # what the index holds: comparing indexes, or an index with the archive now
        from index.catalog import list_index

        source: Any = list_index(settings)
        articles, skipped, warnings = source.articles, source.skipped, source.warnings
    else:
        from archive.load import scan_archive

        source = scan_archive(settings.archive_dir, max_file_bytes=settings.max_file_bytes,
                              near_duplicate_threshold=settings.near_duplicate_threshold)
        articles, skipped, warnings = source.articles, source.skipped, source.warnings
    if args.json:
        print_json([_row(article, source.also_in(article.id), args.text) for article in articles])
    else:
        for article in articles:
            first, last = article.lines
            extras = ", ".join(part for part in (article.outlet, article.date) if part)
            print(f"{article.source}:{first}-{last}  {article.title}" + (f"  ({extras})" if extras else ""))
            if args.text:
                print()
                print(article.body)
                print()
    report_skipped(skipped, warnings)
    return EXIT_SKIPPED if skipped else 0


def _row(article, also_in: tuple[str, ...], text: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": article.id,
        "source": article.source,
        "title": article.title,
        "paragraphs": len(article.paragraphs),
        "lines": list(article.lines),
        "date": article.date,
        "outlet": article.outlet,
        "caption": article.caption,
        "also_in": list(also_in),
    }
    if text:
        row["text"] = article.body
    return row
