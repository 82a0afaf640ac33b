"""archive-qa watch with real files: a file written in two steps is indexed once and whole; Ctrl-C leaves no lock."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.settings import BUNDLED_ARCHIVE, Settings
from index.search import Searcher

NEW_FILE = "007_arrived.txt"
PART_ONE = "Fighters Move Near The Border\n\nMarch 5, 2024\n\nWitnesses saw Hizbullah fighters near the crossing "
PART_TWO = "before dawn on Tuesday, and the sentinel word quillwort was painted on a truck.\n"


def _build_lock(index: Path):
    """The index's build lock, taken without waiting (raises IndexLocked when someone holds it)."""
    try:
        from index.publish import build_lock
    except ImportError:
        from index.store import BuildLock

        return BuildLock(index, timeout=0)
    return build_lock(index, timeout=0)


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches the watcher as it does in a terminal. A test run started in the background (`... &`
    from a script, as CI may start it) inherits SIGINT ignored, passes that on, and a watcher that inherits
    it ignores Ctrl-C, as background jobs should."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _watch(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "archive_qa.cli", "watch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_as_from_a_terminal)


def _reader(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)


def _next_build(lines: queue.Queue, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line.startswith("{"):
            return json.loads(line)
    raise TimeoutError("watch printed no build in time")


@pytest.fixture
def watched(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    archive.mkdir()
    for source in sorted(BUNDLED_ARCHIVE.glob("00[01]_*.txt")):
        shutil.copy(source, archive / source.name)
    env = dict(os.environ, ARCHIVE_QA_EMBEDDING_BACKEND="hashing")
    process = _watch("--archive", str(archive), "--index", str(index), "--debounce", "0.3", "--settle", "1.5",
                     "--json", env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    try:
        yield archive, index, process, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_file_written_in_two_steps_is_indexed_once_and_whole(watched):
    archive, index, process, lines = watched
    first = _next_build(lines, timeout=120)
    assert first["articles"] >= 2 and first["changed"] == []
    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index)
    before = {article.id for article in Searcher.open(settings).articles()}

    with (archive / NEW_FILE).open("w", encoding="utf-8") as handle:  # a scraper writing in two steps
        handle.write(PART_ONE)
        handle.flush()
        time.sleep(0.8)  # longer than the debounce, shorter than the settle period
        handle.write(PART_TWO)
    built = _next_build(lines, timeout=60)
    assert built["changed"] == [NEW_FILE] and built["added"] == 1 and built["articles"] == first["articles"] + 1

    time.sleep(2.5)  # any late event of the same write must not add the file again
    while not lines.empty():
        line = lines.get()
        if line.startswith("{"):
            assert json.loads(line)["added"] == 0
    searcher = Searcher.open(settings)
    new = [article for article in searcher.articles() if article.id not in before]
    assert [article.source for article in new] == [NEW_FILE]
    assert "Hizbullah fighters" in new[0].body and "quillwort" in new[0].body  # whole, not half-written

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert "stopped" in process.stderr.read()
    with _build_lock(index):  # nobody holds the build lock any more
        pass
    assert not list(index.glob(".current.*"))


def test_ctrl_c_during_the_first_build_leaves_no_lock(tmp_path):
    archive, index = tmp_path / "archive", tmp_path / "index"
    shutil.copytree(BUNDLED_ARCHIVE, archive)
    env = dict(os.environ, ARCHIVE_QA_EMBEDDING_BACKEND="hashing")
    process = _watch("--archive", str(archive), "--index", str(index), env=env)
    deadline = time.monotonic() + 60
    while not (index / "build.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)  # read its output meanwhile: a full pipe would block it
    assert process.returncode in (0, 130)
    with _build_lock(index):
        pass


def test_waiting_for_files_to_settle(tmp_path):
    from index.watch import wait_until_stable

    still = tmp_path / "still.txt"
    still.write_text("done\n", encoding="utf-8")
    assert 0.3 <= wait_until_stable([still, tmp_path / "gone.txt", tmp_path], 0.3) < 2

    growing = tmp_path / "growing.txt"
    stop = threading.Event()

    def append() -> None:
        with growing.open("a", encoding="utf-8") as handle:
            while not stop.is_set():
                handle.write("more\n")
                handle.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        time.sleep(0.1)
        waited = wait_until_stable([growing], 0.3, longest=1.0)  # never settles: gives up after `longest`
    finally:
        stop.set()
        writer.join()
    assert 1.0 <= waited < 3
