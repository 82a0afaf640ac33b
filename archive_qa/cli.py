"""The `archive-qa` command: a thin layer that parses flags, calls one stage, prints, and sets the exit status.

Heavy imports (torch, faiss, streamlit) happen inside the chosen command so `archive-qa --help` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from archive_qa.errors import ArchiveError

# Exit statuses: 0 ok, 1 error, 2 usage (argparse), 3 finished but some files were skipped.
EXIT_ERROR = 1
EXIT_SKIPPED = 3


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", type=Path, help="archive folder (default: the bundled sample archive)")
    parser.add_argument("--index", type=Path, help="index folder (default: one per archive under var/indexes/)")
    parser.add_argument("--config", type=Path, help="TOML settings file (also: ARCHIVE_QA_CONFIG)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=_positive, default=None, help="number of passages (default 5)")
    parser.add_argument("--mode", choices=["dense", "bm25", "hybrid"], help="ranking (default hybrid)")
    parser.add_argument("--source", metavar="GLOB", help="only sources matching this glob, e.g. '00[12]_*'")
    parser.add_argument("--since", metavar="DATE", help="only articles dated on or after YYYY-MM-DD")
    parser.add_argument("--until", metavar="DATE", help="only articles dated on or before YYYY-MM-DD")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archive-qa",
        description="Search a news archive and answer questions with citations to file and lines.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build or incrementally update the index")
    _common(build)
    build.add_argument("--full", action="store_true", help="re-embed everything instead of only changes")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="wait this long for another build's lock before giving up (default: fail at once)")

    articles = commands.add_parser("articles", help="list the cleaned articles")
    _common(articles)
    articles.add_argument("--text", action="store_true", help="include each article's cleaned body")

    search = commands.add_parser("search", help="ranked passages for a query")
    _common(search)
    search.add_argument("query")
    _filters(search)

    ask = commands.add_parser("ask", help="answer a question with citations")
    _common(ask)
    ask.add_argument("question")
    _filters(ask)
    ask.add_argument("--answerer", choices=["extractive", "generative"], help="default: extractive")

    evaluate = commands.add_parser("eval", help="evaluate retrieval and answers on a question set")
    _common(evaluate)
    evaluate.add_argument("--questions", type=Path, required=True, help="JSON-lines question set")
    evaluate.add_argument("--answerers", default="extractive",
                          help="comma-separated answerers to evaluate (default: extractive)")
    evaluate.add_argument("--mode", choices=["dense", "bm25", "hybrid"], help="ranking (default hybrid)")

    serve = commands.add_parser("serve", help="start the Streamlit app")
    _common(serve)
    serve.add_argument("--port", type=int, help="port (default 8501)")
    serve.add_argument("--headless", choices=["true", "false"], default=None,
                       help="do not open a browser (default true)")
    return parser


def _settings(args: argparse.Namespace, **extra: Any):
    from archive_qa.settings import load_settings

    return load_settings(
        config_file=args.config,
        archive_dir=args.archive,
        index_dir=args.index,
        **extra,
    )


def _print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _search_filters(args: argparse.Namespace):
    from index.records import SearchFilters

    return SearchFilters(source_glob=args.source, since=args.since, until=args.until)


def run_articles(args: argparse.Namespace) -> int:
    from archive.load import scan_archive

    settings = _settings(args)
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
        _print_json(rows)
    else:
        for article in scan.articles:
            first, last = article.lines
            extras = ", ".join(part for part in (article.outlet, article.date) if part)
            print(f"{article.source}:{first}-{last}  {article.title}" + (f"  ({extras})" if extras else ""))
            if args.text:
                print()
                print(article.body)
                print()
    _report_skipped(scan.skipped, scan.warnings)
    return EXIT_SKIPPED if scan.skipped else 0


def _report_skipped(skipped, warnings=()) -> None:
    for item in skipped:
        print(f"skipped {item.source}: {item.reason}", file=sys.stderr)
    for item in warnings:
        print(f"warning {item.source}: {item.reason}", file=sys.stderr)


def run_build(args: argparse.Namespace) -> int:
    from index.build import build_index

    settings = _settings(args)
    report = build_index(settings, full=args.full, progress=not args.quiet and not args.json,
                         lock_timeout=args.wait)
    if args.json:
        _print_json(report.to_json())
    elif not args.quiet:
        print(report.summary())
    _report_skipped(report.skipped_files, report.warnings)
    return EXIT_SKIPPED if report.skipped_files else 0


def run_search(args: argparse.Namespace) -> int:
    from index.search import Searcher

    settings = _settings(args)
    searcher = Searcher.open(settings)
    hits = searcher.search(args.query, k=settings.top_k if args.k is None else args.k,
                           mode=args.mode or settings.search_mode, filters=_search_filters(args))
    if args.json:
        _print_json([hit.to_json() for hit in hits])
    else:
        if not hits:
            print("No passage matches.")
        for hit in hits:
            chunk = hit.chunk
            print(f"{hit.rank}. [{hit.score:.4f}] {chunk.source}:{chunk.start_line}-{chunk.end_line}  {chunk.title}")
            if hit.also_in:
                print(f"   also in: {', '.join(hit.also_in)}")
            print(f"   {chunk.text}\n")
    return 0


def run_ask(args: argparse.Namespace) -> int:
    from index.search import Searcher
    from qa.answer import answer_question

    settings = _settings(args)
    searcher = Searcher.open(settings)
    answer = answer_question(
        searcher,
        args.question,
        settings,
        answerer=args.answerer or settings.answerer,
        k=settings.top_k if args.k is None else args.k,
        mode=args.mode or settings.search_mode,
        filters=_search_filters(args),
    )
    if args.json:
        _print_json(answer.to_json())
    else:
        from qa.render import answer_to_text

        print(answer_to_text(answer))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from qa.evaluate import format_report, run_evaluation

    settings = _settings(args)
    answerers = [name.strip() for name in args.answerers.split(",") if name.strip()]
    report = run_evaluation(settings, args.questions, answerers=answerers, mode=args.mode)
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import subprocess

    settings = _settings(args, port=args.port,
                         headless=None if args.headless is None else args.headless == "true")
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    env = dict(os.environ)
    env["ARCHIVE_QA_ARCHIVE_DIR"] = str(settings.archive_dir.resolve())
    env["ARCHIVE_QA_INDEX_DIR"] = str(settings.resolved_index_dir().resolve())
    if args.config:
        env["ARCHIVE_QA_CONFIG"] = str(args.config.resolve())
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(settings.port),
        "--server.headless", "true" if settings.headless else "false",
        "--server.address", os.environ.get("ARCHIVE_QA_ADDRESS", "127.0.0.1"),
        "--browser.gatherUsageStats", "false",
    ]
    print(f"archive-qa: serving {settings.archive_dir.resolve()} at http://localhost:{settings.port}", flush=True)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


COMMANDS = {
    "articles": run_articles,
    "build": run_build,
    "search": run_search,
    "ask": run_ask,
    "eval": run_eval,
    "serve": run_serve,
}


def main(argv: list[str] | None = None) -> int:
    # Models ship inside packages; never reach for a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        return COMMANDS[args.command](args)
    except ArchiveError as error:
        print(f"archive-qa {args.command}: {error}", file=sys.stderr)
        return EXIT_ERROR
    except ValueError as error:  # pydantic's ValidationError and bad settings files
        first = str(error).strip().splitlines()
        print(f"archive-qa {args.command}: invalid setting: {' '.join(first[:3])}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"archive-qa {args.command}: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"archive-qa {args.command}: interrupted after {time.monotonic() - started:.1f}s", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
