"""Load test: N simulated users asking the served app questions for S seconds, an update build halfway.

    .venv/bin/python scripts/load_test.py --users 20 --seconds 120 --json

Starts `archive-qa serve` on a free loopback port over a private copy of the archive (default: the bundled
sample) with its own index in a temporary folder, built first with `archive-qa build`. Each user is a client
speaking Streamlit's own websocket protocol (protobuf BackMsg/ForwardMsg at /_stcore/stream), as the browser
does: it loads the page, then types a question into the Ask form and submits it, again and again. A
question counts as answered when the rerun finishes with the answer's export button on the page; an
exception, an error box, a dropped connection or a timeout is an error. Halfway through, a new article is
added to the archive and `archive-qa build` updates the index from another process, as cron would; the app
must switch to it without an error. The clients cost little CPU, so the figures are the server's.

Prints (with --json, one JSON document): errors, answers, answers_per_s, p50_ms, p95_ms, max_ms,
peak_rss_mb (server process tree), first_page_p50_ms, warm_up_ms (the first question, which loads the
model and the index, asked before the clock starts), update_build_s, users, seconds, error_samples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What did Hezbollah threaten to do if central Beirut were struck?",
    "Who recruited fighters in Deir Ezzor to support Hamas?",
    "How many attacks on US bases did Iran-backed groups launch?",
    "What did the Syrian Observatory for Human Rights report?",
    "Where did Iranian proxy militias hold public meetings?",
    "What did Qatar say about the Hamas political office in Doha?",
    "Which militias were placed on high alert near the Golan?",
    "What is the capital of Australia?",  # the archive cannot answer: an abstention is an answer too
]
NEW_ARTICLE = """Border Crossing Reopens After Week of Strikes

The main border crossing between Lebanon and Syria reopened on Tuesday after a week of air strikes, officials
said. Trucks carrying flour and fuel were the first to cross, and the authorities promised repairs to the road.
"""
ANSWERED_MARK = "Export as Markdown"  # the answer's export button: on the page only once an answer is shown
TIMEOUT_S = 120.0


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    first_page_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the server


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("archive-qa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive_qa.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: archive-qa serve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"error: the app did not answer on port {port} within {timeout:.0f}s")


class RssSampler(threading.Thread):
    """Peak resident memory of a process and its descendants, sampled every 0.25 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_bytes, self._halt = pid, 0, threading.Event()

    def run(self) -> None:
        import psutil

        while not self._halt.is_set():
            try:
                root = psutil.Process(self.pid)
                tree = [root, *root.children(recursive=True)]
                self.peak_bytes = max(self.peak_bytes, sum(_rss(process) for process in tree))
            except psutil.NoSuchProcess:
                return
            self._halt.wait(0.25)

    def stop(self) -> None:
        self._halt.set()


def _rss(process) -> int:
    import psutil

    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


# ---------------------------------------------------------------- one simulated user


class StreamlitClient:
    """The browser's side of Streamlit's websocket protocol, enough to submit a form and read the page."""

    def __init__(self, port: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/_stcore/stream"
        self.page_hash = ""
        self.widget_ids: dict[str, str] = {}
        self.socket = None

    async def connect(self) -> None:
        import websockets

        self.socket = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                               open_timeout=TIMEOUT_S, ping_interval=None)

    async def rerun(self, widgets: dict[str, object] | None = None) -> list:
        """Run the page (with these widget values, by label) and return its elements once the run finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        back.rerun_script.page_script_hash = self.page_hash
        for label, value in (widgets or {}).items():
            state = back.rerun_script.widget_states.widgets.add()
            state.id = self.widget_ids[label]
            if isinstance(value, bool):
                state.trigger_value = value
            else:
                state.string_value = str(value)
        await self.socket.send(back.SerializeToString())
        elements = []
        while True:
            message = ForwardMsg()
            message.ParseFromString(await self.socket.recv())
            kind = message.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = message.new_session.main_script_hash
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                elements.append(message.delta.new_element)
            elif kind == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return elements
                if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("the page failed to compile")
                # a fragment's own rerun finished (3), or this run was superseded (2): keep reading

    def learn_widgets(self, elements: list) -> None:
        for element in elements:
            kind = element.WhichOneof("type")
            if kind in ("text_input", "button"):
                widget = getattr(element, kind)
                self.widget_ids.setdefault(widget.label, widget.id)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def page_problem(elements: list) -> str | None:
    """Why a finished run does not show an answer: an exception, an error box, or no answer at all."""
    for element in elements:
        kind = element.WhichOneof("type")
        if kind == "exception":
            return f"exception: {element.exception.type}: {element.exception.message[:200]}"
        if kind == "alert" and element.alert.format == 1:  # st.error
            return f"error box: {element.alert.body[:200]}"
    labels = [element.download_button.label for element in elements if element.WhichOneof("type") == "download_button"]
    return None if ANSWERED_MARK in labels else "no answer on the page"


async def user(number: int, port: int, deadline: float, think_s: float, stats: Stats) -> None:
    rng = random.Random(number)
    client = StreamlitClient(port)
    try:
        started = time.monotonic()
        await client.connect()
        client.learn_widgets(await asyncio.wait_for(client.rerun(), TIMEOUT_S))
        stats.first_page_ms.append((time.monotonic() - started) * 1000)
        if "Question" not in client.widget_ids or "Ask" not in client.widget_ids:
            stats.errors.append(f"user {number}: the page has no question box")
            return
        asked_once = False
        while not asked_once or time.monotonic() < deadline:  # every user asks at least once
            asked_once = True
            question = rng.choice(QUESTIONS)
            asked = time.monotonic()
            try:
                elements = await asyncio.wait_for(client.rerun({"Question": question, "Ask": True}), TIMEOUT_S)
            except TimeoutError:
                stats.errors.append(f"user {number}: no answer within {TIMEOUT_S:.0f}s")
                return
            problem = page_problem(elements)
            if problem:
                stats.errors.append(f"user {number}: {question[:40]!r}: {problem}")
            else:
                stats.latencies_ms.append((time.monotonic() - asked) * 1000)
            await asyncio.sleep(rng.uniform(0, 2 * think_s))
    except Exception as error:  # noqa: BLE001 - a load test counts every failure of a user, whatever it is
        stats.errors.append(f"user {number}: {type(error).__name__}: {error}")
    finally:
        await client.close()


async def warm_up(port: int) -> float:
    """One question before the clock starts: the server loads the model and opens the index once (ms)."""
    warm = Stats()
    began = time.monotonic()
    await user(-1, port, time.monotonic() + 0.001, 0.0, warm)
    if warm.errors or not warm.latencies_ms:
        raise SystemExit(f"error: the warm-up question failed: {warm.errors[:1]}")
    return (time.monotonic() - began) * 1000


async def drive(users: int, port: int, seconds: float, think_s: float, stats: Stats, update) -> float:
    """Run the users; start `update` halfway; return the update build's duration."""
    start = time.monotonic()
    deadline = start + seconds
    tasks = [asyncio.create_task(user(n, port, deadline, think_s, stats)) for n in range(users)]
    await asyncio.sleep(seconds / 2)
    update_s = await asyncio.to_thread(update)
    await asyncio.gather(*tasks)
    return update_s


# ---------------------------------------------------------------- the run


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def prepare(work: Path, archive: Path, env: dict[str, str]) -> tuple[Path, Path]:
    copy, index = work / "archive", work / "index"
    shutil.copytree(archive, copy)
    subprocess.run([*_cli(), "build", "--archive", str(copy), "--index", str(index), "--quiet"], env=env,
                   check=False, timeout=3600)
    if not index.exists():
        raise SystemExit("error: the initial build failed")
    return copy, index


def run(args: argparse.Namespace) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    work = Path(tempfile.mkdtemp(prefix="archive-qa-load-"))
    server = None
    try:
        archive, index = prepare(work, args.archive, env)
        port = args.port or _free_port()
        log = (work / "serve.log").open("w")
        server = subprocess.Popen([*_cli(), "serve", "--archive", str(archive), "--index", str(index),
                                   "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        _wait_healthy(port, server)
        sampler = RssSampler(server.pid)
        sampler.start()

        def update() -> float:
            (archive / "zz_load_test_update.txt").write_text(NEW_ARTICLE, encoding="utf-8")
            began = time.monotonic()
            done = subprocess.run([*_cli(), "build", "--archive", str(archive), "--index", str(index), "--quiet"],
                                  env=env, capture_output=True, text=True, timeout=3600)
            if done.returncode not in (0, 3):
                stats.errors.append(f"update build failed: {done.stderr.strip()[-300:]}")
            return time.monotonic() - began

        stats = Stats()
        warm_up_ms = asyncio.run(warm_up(port))
        started = time.monotonic()
        update_s = asyncio.run(drive(args.users, port, args.seconds, args.think, stats, update))
        elapsed = time.monotonic() - started
        sampler.stop()
        sampler.join(timeout=5)
        return {
            "errors": len(stats.errors),
            "answers": len(stats.latencies_ms),
            "answers_per_s": round(len(stats.latencies_ms) / elapsed, 3),
            "p50_ms": round(percentile(stats.latencies_ms, 0.50)),
            "p95_ms": round(percentile(stats.latencies_ms, 0.95)),
            "max_ms": round(max(stats.latencies_ms, default=0.0)),
            "peak_rss_mb": round(sampler.peak_bytes / 2**20),
            "first_page_p50_ms": round(percentile(stats.first_page_ms, 0.50)),
            "warm_up_ms": round(warm_up_ms),
            "update_build_s": round(update_s, 2),
            "users": args.users,
            "seconds": args.seconds,
            "load_avg_1m": round(os.getloadavg()[0], 1),  # the machine's load at the end (other work skews figures)
            "error_samples": stats.errors[:5],
        }
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)  # serve stops its whole process group
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10, help="concurrent simulated users (default 10)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they ask (default 60)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's questions, s")
    parser.add_argument("--archive", type=Path, default=ROOT / "corpus", help="archive (default: bundled sample)")
    parser.add_argument("--port", type=int, help="port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (serve.log, index)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
