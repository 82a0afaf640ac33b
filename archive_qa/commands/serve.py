"""`archive-qa serve`: start the Streamlit app on the chosen archive and index."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from archive_qa.commands.common import add_common, settings_from


def add_parser(commands) -> None:
    parser = commands.add_parser("serve", help="start the Streamlit app")
    add_common(parser)
    parser.add_argument("--port", type=int, help="port (default 8501)")
    parser.add_argument("--headless", choices=["true", "false"], default=None,
                        help="do not open a browser (default true)")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args, port=args.port,
                             headless=None if args.headless is None else args.headless == "true")
    app = Path(__file__).resolve().parent.parent.parent / "ui" / "app.py"
    env = dict(os.environ)  # the offline variables were set once by archive_qa.cli.main
    env["ARCHIVE_QA_ARCHIVE_DIR"] = str(settings.archive_dir.resolve())
    env["ARCHIVE_QA_INDEX_DIR"] = str(settings.resolved_index_dir().resolve())
    if args.config:
        env["ARCHIVE_QA_CONFIG"] = str(args.config.resolve())
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
