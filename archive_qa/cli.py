"""The `archive-qa` command: parses flags, runs one command module, turns domain errors into one line.

Heavy imports (torch, faiss, streamlit) happen inside the chosen command so `archive-qa --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from archive_qa.commands.common import EXIT_ERROR
from core.env import set_offline_environment
from core.errors import ArchiveError

# Command name -> module under archive_qa.commands (each has add_parser and run).
COMMAND_MODULES = {
    "build": "build",
    "articles": "articles",
    "search": "search",
    "ask": "ask",
    "eval": "evaluate",
    "serve": "serve",
    "mentions": "mentions",
    "watch": "watch",
}


def _module(command: str):
    return importlib.import_module(f"archive_qa.commands.{COMMAND_MODULES[command]}")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (what is wrong, and where the help is), not the whole usage text."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="archive-qa",
        description="Search a news archive and answer questions with citations to file and lines.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMAND_MODULES:
        _module(command).add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    set_offline_environment()
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        return _module(args.command).run(args)
    except ArchiveError as error:
        print(f"archive-qa {args.command}: {error.one_line()}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as error:  # the disk or the OS refused (full disk, permissions): say which file
        where = f": {error.filename}" if error.filename else ""
        print(f"archive-qa {args.command}: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"archive-qa {args.command}: interrupted after {time.monotonic() - started:.1f}s", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
