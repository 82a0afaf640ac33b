"""`archive-qa serve`: start the Streamlit app on the chosen archive and index, and stop it as a whole.

The app runs in a child process (Streamlit's own runner) that this command supervises:
- the child gets its own process group, and SIGTERM/SIGINT/SIGHUP sent to this command (the stop path every
  long-running command shares, archive_qa.commands.common.stop_on_signals) are forwarded to that whole
  group, escalating to SIGKILL when it has not stopped after a grace period; this command then says
  `archive-qa serve: stopped by SIGTERM` on stderr and exits 0;
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
from pathlib import Path

from archive_qa.commands.common import StopSignals, add_common, report_stopped, settings_from, stop_on_signals

GRACE_SECONDS = 10.0  # how long the app may take to stop on SIGTERM before its group is killed
PR_SET_PDEATHSIG = 1


def add_parser(commands) -> None:
    parser = commands.add_parser("serve", help="start the Streamlit app")
    add_common(parser)
    parser.add_argument("--port", type=int, help="port (default 8501)")
    parser.add_argument("--headless", choices=["true", "false"], default=None,
                        help="do not open a browser (default true)")


def run(args: argparse.Namespace) -> int:
    # A supervisor passes every stop on, even a SIGINT it inherited as ignored (it runs the app in its own session).
    with stop_on_signals(honour_ignored=False) as stop:
        try:
            status = _serve(args, stop)
        except KeyboardInterrupt as interrupt:  # stopped before the app started
            return report_stopped("serve", stop.name(interrupt))
    if stop.signum is not None:
        return report_stopped("serve", stop.name())
    return status


def _serve(args: argparse.Namespace, stop: StopSignals) -> int:
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
    return supervise(command, env, stop)


def _die_with_parent(parent: int) -> None:
    """Runs in the child before exec: SIGTERM it when the supervising process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: forwarding and the group kill still apply
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before the request took effect
        os._exit(1)


def supervise(command: list[str], env: dict[str, str], stop: StopSignals) -> int:
    """Run `command` in its own process group until it exits; pass a stop (`stop_on_signals`) to the whole group.

    Returns 0 when a stop was requested, else the child's exit status (128 + N when signal N ended it).
    """
    parent = os.getpid()
    child = subprocess.Popen(command, env=env, start_new_session=True,
                             preexec_fn=lambda: _die_with_parent(parent))
    try:
        status = _wait(child, stop)
    finally:
        _signal_group(child.pid, signal.SIGKILL)  # anything the app left behind in its group
        if child.poll() is None:
            child.wait()
    if stop.signum is not None:  # stopped on request (Ctrl-C, kill, systemd): a clean exit
        return 0
    return status if status >= 0 else 128 - status


def _wait(child: subprocess.Popen, stop: StopSignals) -> int:
    """The child's exit status. A stop (StopRequested, raised while waiting) goes on to the child's group as
    SIGTERM or SIGINT; when the group has not stopped after GRACE_SECONDS it is killed (SIGKILL)."""
    try:
        return child.wait()
    except KeyboardInterrupt:
        signum = stop.signum if stop.signum is not None else signal.SIGINT
        _signal_group(child.pid, signal.SIGTERM if signum == signal.SIGHUP else signum)
    try:
        return child.wait(timeout=GRACE_SECONDS)  # later signals are ignored by stop_on_signals meanwhile
    except subprocess.TimeoutExpired:
        _signal_group(child.pid, signal.SIGKILL)
        return child.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, signum)
