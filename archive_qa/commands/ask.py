"""`archive-qa ask`: answer a question with citations."""

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

TORCH_FREE_BACKENDS = ("static", "hashing")


def add_parser(commands) -> None:
    parser = commands.add_parser("ask", help="answer a question with citations")
    add_common(parser)
    parser.add_argument("question", nargs="?")
    add_filters(parser)
    parser.add_argument("--answerer", choices=["extractive", "generative"], help="default: extractive")
    add_batch_flags(parser, kind="questions")


def run(args: argparse.Namespace) -> int:
    from index.search import Searcher
    from qa.answer import answer_question

    if not check_single_or_batch("ask", args.question, args.questions, "--questions"):
        return 2
    settings = settings_from(args)
    if (args.answerer or settings.answerer) == "extractive":
        from qa.entities import available, import_spacy_without_torch, needs_entities, prefetch_pipeline
        from qa.question import answer_type

        if settings.embedding_backend in TORCH_FREE_BACKENDS:
            import_spacy_without_torch()  # nothing else in this process imports torch: 1.1 s less to a cold ask
        # spaCy (0.7 s of CPU cold) loads on one core while the index opens and the question is searched; a
        # question whose answer is of no named type never reads entities, so it never loads it.
        if available() and (args.question is None or needs_entities(answer_type(args.question))):
            prefetch_pipeline()
    if settings.reader:
        from qa.reader import prefetch_reader

        prefetch_reader(settings.reader_dir)  # loads while the index and the embedder open
    prefetch_question_encoder(settings)
    searcher = Searcher.open(settings)
    if args.questions is not None:
        from archive_qa.commands.batch_run import ask_batch

        return ask_batch(args, settings, searcher)
    answer = answer_question(
        searcher,
        args.question,
        settings,
        answerer=args.answerer or settings.answerer,
        k=settings.top_k if args.k is None else args.k,
        mode=args.mode or settings.search_mode,
        filters=search_filters(args),
    )
    if args.json:
        print_json(answer.to_json())
    else:
        from qa.render import answer_to_text

        print(answer_to_text(answer))
    return 0
