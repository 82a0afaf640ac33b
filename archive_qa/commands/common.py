"""What every command shares: common flags, the settings they resolve to, JSON output, skipped-file reports."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Exit statuses: 0 ok (also a stop requested by SIGTERM/SIGINT/SIGHUP in build, watch and serve), 1 error,
# 2 usage (argparse), 3 finished but some files were skipped, 130 another command interrupted by Ctrl-C.
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


# ---------------------------------------------------------------- stopping on request

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopRequested(KeyboardInterrupt):
    """A stop asked for by a signal: SIGTERM (systemd, Docker, Kubernetes, `kill`), SIGINT (Ctrl-C), SIGHUP.

    A KeyboardInterrupt, so a SIGTERM takes exactly the path Ctrl-C takes: every `finally`, `with` and
    `except BaseException` cleanup runs (a build rolls back and releases its lock, a process pool shuts down).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """What `stop_on_signals` yields: the signal that asked for the stop, once one did."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def name(self, stop: BaseException | None = None) -> str:
        """SIGTERM, SIGINT, ...: the recorded signal, else the one `stop` carries, else SIGINT (Ctrl-C)."""
        signum = self.signum if self.signum is not None else getattr(stop, "signum", signal.SIGINT)
        return signal.Signals(signum).name


@contextmanager
def stop_on_signals(*, honour_ignored: bool = True) -> Iterator[StopSignals]:
    """Within the block, SIGTERM, SIGINT and SIGHUP raise StopRequested in the main thread: one stop path.

    The first signal raises; later ones are ignored, so the cleanup it starts is not itself interrupted
    (SIGKILL still ends the process, and the index survives even that). A SIGINT or SIGHUP this process
    inherited as ignored (a background job of a script, `nohup`) stays ignored unless `honour_ignored` is
    False (a supervisor that must always pass a stop on). The previous handlers come back after the block.
    """
    stop = StopSignals()
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield stop
        return

    def handler(signum: int, _frame: object) -> None:
        if stop.signum is not None:
            return
        stop.signum = signum
        raise StopRequested(signum)

    previous = {}
    for signum in STOP_SIGNALS:
        if honour_ignored and signum != signal.SIGTERM and signal.getsignal(signum) == signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, handler)
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def report_stopped(command: str, how: str, detail: str = "") -> int:
    """The one line a requested stop prints on stderr; a requested stop is a clean exit (0)."""
    start = "\r\x1b[K" if sys.stderr.isatty() else ""  # on a terminal, from the start of a clean line (^C, a bar)
    print(f"{start}archive-qa {command}: stopped by {how}{detail}", file=sys.stderr, flush=True)
    return 0


def prefetch_question_encoder(settings) -> None:
    """With static vectors and MiniLM at the question, start loading MiniLM (ONNX) while the index opens."""
    if settings.embedding_backend == "static" and settings.minilm_at_question:
        from index.question_encoder import prefetch_encoder

        prefetch_encoder(settings)
