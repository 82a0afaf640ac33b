"""Process lifecycle: `archive-qa serve` stops as a whole, and a build killed anywhere never harms the index.

Black-box: the CLI in subprocesses (hashing embedder), the index folder seen only as "the files under it".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from core.settings import BUNDLED_ARCHIVE

HASHING_ENV = {"ARCHIVE_QA_EMBEDDING_BACKEND": "hashing"}
QUERIES = ["Hezbollah threat Beirut", "attacks on US bases", "Hamas ceasefire talks", "drone strike Syria"]


def cli() -> list[str]:
    script = Path(sys.executable).with_name("archive-qa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive_qa.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **HASHING_ENV, **extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- serve stops as a whole


def _start_serve(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    archive = tmp_path / "archive"
    if not archive.exists():
        shutil.copytree(BUNDLED_ARCHIVE, archive)
    port = free_port()
    log = (tmp_path / f"serve-{port}.log").open("w")
    server = subprocess.Popen(
        [*cli(), "serve", "--archive", str(archive), "--index", str(tmp_path / "index"), "--port", str(port)],
        env=clean_env(), stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"serve exited early: {(tmp_path / f'serve-{port}.log').read_text()}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise TimeoutError("serve did not become healthy")


def _alive(pids: list[int]) -> list[int]:
    """Pids still running (zombies count as gone: they serve nothing and hold no port)."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(pids)


def _port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("target,signum", [
    ("parent", signal.SIGTERM), ("parent", signal.SIGINT), ("child", signal.SIGTERM), ("parent", signal.SIGKILL),
])
def test_serve_stops_as_a_whole(tmp_path, target, signum):
    server, port = _start_serve(tmp_path)
    try:
        children = [child.pid for child in psutil.Process(server.pid).children(recursive=True)]
        assert children, "serve runs the app in a child process"
        victim = server.pid if target == "parent" else children[0]
        os.kill(victim, signum)
        server.wait(timeout=40)
        leftover = _wait_gone(children)
        assert leftover == [], f"{target} got signal {signum}: processes {leftover} still run"
        assert _port_closed(port)
        if signum != signal.SIGKILL:
            assert server.returncode == 0, "a requested stop is a clean exit"
    finally:
        for pid in [server.pid, *_alive([c.pid for c in psutil.Process().children(recursive=True)])]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.wait(timeout=10)
