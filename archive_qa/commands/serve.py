"""`archive-qa serve`: start the Streamlit app on the chosen archive and index, and stop it as a whole.

The app runs in a child process (Streamlit's own runner) that this command supervises:
- the child gets its own process group, and SIGTERM/SIGINT/SIGHUP sent to this command are forwarded to
  that whole group, escalating to SIGKILL when it has not stopped after a grace period;
- the child asks the kernel for SIGTERM when this command dies (PR_SET_PDEATHSIG), so even a SIGKILL of
  this command leaves no server behind;
- when the child stops by itself (SIGTERM sent to it, a crash), this command exits with its status and
  removes whatever else is left in its group.
Before this, `kill <serve pid>` left the Streamlit child serving as an orphan.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from archive_qa.commands.common import add_common, settings_from

GRACE_SECONDS = 10.0  # how long the app may take to stop on SIGTERM before its group is killed
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


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
        # Streamlit runs gc.collect(2) after every script run, holding the GIL while it walks the model's and the
        # index's objects: under load that was most of the server's GIL time (py-spy --gil, docs/RELIABILITY.md),
        # stalling every other session. Python's own generational GC still runs.
        "--runner.postScriptGC", "false",
        "--server.fileWatcherType", "none",
    ]
    print(f"archive-qa: serving {settings.archive_dir.resolve()} at http://localhost:{settings.port}", flush=True)
    return supervise(command, env)


def _die_with_parent(parent: int) -> None:
    """Runs in the child before exec: SIGTERM it when the supervising process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: forwarding and the group kill still apply
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before the request took effect
        os._exit(1)


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run `command` in its own process group until it exits; forward stop signals to the whole group."""
    parent = os.getpid()
    child = subprocess.Popen(command, env=env, start_new_session=True,
                             preexec_fn=lambda: _die_with_parent(parent))
    stop_requested: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stop_requested.append(signum)
        _signal_group(child.pid, signal.SIGTERM if signum == signal.SIGHUP else signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        status = _wait(child, stop_requested)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _signal_group(child.pid, signal.SIGKILL)  # anything the app left behind in its group
        if child.poll() is None:
            child.wait()
    if stop_requested:  # stopped on request (Ctrl-C, kill, systemd): a clean exit
        return 0
    return status if status >= 0 else 128 - status


def _wait(child: subprocess.Popen, stop_requested: list[int]) -> int:
    """The child's exit status; once a stop was requested, SIGKILL its group when the grace period ends.

    Waits in short steps: a signal handler runs between them, and the grace deadline starts when it did.
    """
    deadline: float | None = None
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if stop_requested and deadline is None:
            deadline = time.monotonic() + GRACE_SECONDS
        if deadline is not None and time.monotonic() > deadline:
            _signal_group(child.pid, signal.SIGKILL)
            return child.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, signum)
