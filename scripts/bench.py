"""archive-qa's benchmarks: one tool, one subcommand per thing measured (listed by --help; docs/BENCHMARKS.md
gives the command behind each figure).

    .venv/bin/python scripts/bench.py --articles 300 --json       # no subcommand = `build`: ours vs LangChain vs raw
    .venv/bin/python scripts/bench.py SUBCOMMAND --help

`build` measures the default configuration (the settings' embedding_backend) unless --backends names several to
compare side by side. The served app under load is a separate contract: scripts/load_test.py. Nothing here
asserts a speed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages, also from a checkout that is not installed
sys.path.insert(0, str(ROOT / "scripts"))  # the benchmarks package beside this file

from benchmarks import COMMAND_MODULES, DEFAULT_COMMAND  # noqa: E402

from core.env import set_offline_environment  # noqa: E402


def _module(command: str):
    return importlib.import_module(f"benchmarks.{COMMAND_MODULES[command]}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for command in COMMAND_MODULES:
        _module(command).add_parser(commands)
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    if not argv or (argv[0] not in COMMAND_MODULES and argv[0] not in ("-h", "--help")):
        argv = [DEFAULT_COMMAND, *argv]  # `bench.py --articles 300 --json`: the contract's form, no subcommand
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    set_offline_environment()
    args = parse_arguments(list(sys.argv[1:] if argv is None else argv))
    return _module(args.command).run(args)


if __name__ == "__main__":
    sys.exit(main())
