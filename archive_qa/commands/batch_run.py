"""Running `ask --questions FILE` and `search --queries FILE`: one searcher and one model for every row."""

from __future__ import annotations

import argparse

from archive_qa.commands.batch_flags import finish
from archive_qa.commands.common import search_filters


def ask_batch(args: argparse.Namespace, settings, searcher) -> int:
    from qa.answer import answer_question
    from qa.batch import ASK_COLUMNS, ask_rows, run_batch

    answerer = args.answerer or settings.answerer
    chat_model = None
    if answerer == "generative":  # loaded once here, not once per question
        from qa.generative import make_chat_model

        chat_model = make_chat_model(settings)
    options = {
        "answerer": answerer,
        "k": settings.top_k if args.k is None else args.k,
        "mode": args.mode or settings.search_mode,
        "filters": search_filters(args),
        "chat_model": chat_model,
    }

    def rows(question: str):
        return ask_rows(answer_question(searcher, question, settings, **options))

    summary = run_batch(
        args.questions, args.out, rows, key="question", columns=ASK_COLUMNS, limit=args.limit, progress=not args.quiet,
    )
    return finish(summary, args.out)


def search_batch(args: argparse.Namespace, settings, searcher) -> int:
    from qa.batch import SEARCH_COLUMNS, run_batch, search_rows

    k = settings.top_k if args.k is None else args.k
    mode, filters = args.mode or settings.search_mode, search_filters(args)

    def rows(query: str):
        return search_rows(query, searcher.search(query, k=k, mode=mode, filters=filters))

    summary = run_batch(
        args.queries, args.out, rows, key="query", columns=SEARCH_COLUMNS, limit=args.limit, progress=not args.quiet,
    )
    return finish(summary, args.out)
