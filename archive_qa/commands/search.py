"""`archive-qa search`: ranked passages for a query."""

from __future__ import annotations

import argparse

from archive_qa.commands.batch_flags import add_batch_flags, check_single_or_batch
from archive_qa.commands.common import (
    add_common,
    add_filters,
    prefetch_question_encoder,
    print_json,
    search_filters,
    settings_from,
)


def add_parser(commands) -> None:
    parser = commands.add_parser("search", help="ranked passages for a query")
    add_common(parser)
    parser.add_argument("query", nargs="?")
    add_filters(parser)
    add_batch_flags(parser, kind="queries")


def run(args: argparse.Namespace) -> int:
    from index.search import Searcher

    if not check_single_or_batch("search", args.query, args.queries, "--queries"):
        return 2
    settings = settings_from(args)
    if (args.mode or settings.search_mode) != "bm25":
        prefetch_question_encoder(settings)
    searcher = Searcher.open(settings)
    if args.queries is not None:
        from archive_qa.commands.batch_run import search_batch

        return search_batch(args, settings, searcher)
    if not args.query.strip():  # an empty query matches nothing: say so rather than print an empty list
        from core.errors import InvalidQuery

        raise InvalidQuery("the query is empty")
    hits = searcher.search(args.query, k=settings.top_k if args.k is None else args.k,
                           mode=args.mode or settings.search_mode, filters=search_filters(args))
    if args.json:
        print_json([hit.to_json() for hit in hits])
        return 0
    if not hits:
        print("No passage matches.")
    for hit in hits:
        chunk = hit.chunk
        print(f"{hit.rank}. [{hit.score:.4f}] {chunk.source}:{chunk.start_line}-{chunk.end_line}  {chunk.title}")
        if hit.also_in:
            print(f"   also in: {', '.join(hit.also_in)}")
        print(f"   {chunk.text}\n")
    return 0
