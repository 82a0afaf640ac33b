"""Process lifecycle: `archive-qa serve` stops as a whole, and a build killed anywhere never harms the index.

Black-box: the CLI in subprocesses (hashing embedder), the index folder seen only as "the files under it".
"""

from __future__ import annotations

import contextlib
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
    children = [child.pid for child in psutil.Process(server.pid).children(recursive=True)]
    try:
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
        for pid in _alive([server.pid, *children]):  # only what this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.wait(timeout=10)


# ---------------------------------------------------------------- a build killed anywhere harms nothing


def archive_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(BUNDLED_ARCHIVE.glob("*.txt")):
        parts = path.read_text(encoding="utf-8").split("\n\n")
        paragraphs += [part.strip() for part in parts if len(part.strip()) > 80]
    return paragraphs


def write_archive(folder: Path, count: int, *, seed: int = 0, start: int = 0) -> None:
    """`count` distinct news-like files: sample paragraphs, each with a name unique to the file."""
    import random

    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = archive_paragraphs()
    for number in range(start, start + count):
        rng = random.Random(seed * 100_003 + number)
        name = f"Zorvan{number:04d}q{seed}"
        body = "\n\n".join(f"{name} reported: {text}" for text in rng.sample(paragraphs, k=6))
        (folder / f"a{number:04d}.txt").write_text(f"Dispatch {number} about {name}\n\n{body}\n", encoding="utf-8")


def signature(index: Path, archive: Path) -> list:
    """Everything a user sees from the index for a few queries in every mode: what must not change."""
    from core.settings import Settings
    from index.search import Searcher

    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index)
    searcher = Searcher.open(settings)
    return [
        [json.dumps(hit.to_json(), sort_keys=True) for hit in searcher.search(query, k=8, mode=mode)]
        for query in QUERIES for mode in ("dense", "bm25", "hybrid")
    ]


def run_build(archive: Path, index: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli(), "build", "--archive", str(archive), "--index", str(index), "--quiet", *extra],
                          env=clean_env(), capture_output=True, text=True, timeout=300)


def _paths(index: Path) -> set[str]:
    found = set()
    for folder, subfolders, names in os.walk(index):
        for name in subfolders + names:
            found.add(os.path.relpath(os.path.join(folder, name), index))
    return found


def _descendants(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_build(archive: Path, index: Path, *, after: float | None = None, new_paths: int | None = None,
               extra: tuple[str, ...] = ()) -> dict:
    """Start a build and SIGKILL it `after` seconds, or once `new_paths` new paths appeared under the index."""
    before = _paths(index)
    started = time.monotonic()
    build = subprocess.Popen([*cli(), "build", "--archive", str(archive), "--index", str(index), "--quiet", *extra],
                             env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: set[str] = set()
    while build.poll() is None:
        if after is not None and time.monotonic() - started >= after:
            break
        if new_paths is not None:
            seen |= _paths(index) - before
            if len(seen) >= new_paths:
                break
        time.sleep(0.002 if new_paths is not None else 0.01)
    workers = _descendants(build.pid)
    finished = build.poll() is not None
    if not finished:
        build.kill()
    build.wait()
    stderr = build.stderr.read().decode(errors="replace")
    assert not finished or build.returncode == 0, f"a build not killed failed: {stderr}"
    leftover = _wait_gone(workers, timeout=15)
    assert leftover == [], f"killing the build left its worker processes {leftover} running"
    return {"at_s": round(time.monotonic() - started, 3), "finished": finished,
            "new_paths": len(_paths(index) - before), "stderr": stderr[-300:]}


def test_build_killed_at_20_points_leaves_old_index_serving(tmp_path):
    old_archive, new_archive, index = tmp_path / "old", tmp_path / "new", tmp_path / "index"
    write_archive(old_archive, 80, seed=0)  # small: the whole test should stay near a minute on an idle machine
    shutil.copytree(old_archive, new_archive)
    for path in sorted(new_archive.iterdir())[:20]:  # 10 edited, 10 removed, 20 added
        path.unlink()
    write_archive(new_archive, 10, seed=1, start=0)
    write_archive(new_archive, 20, seed=1, start=200)

    pristine = tmp_path / "pristine"
    assert run_build(old_archive, pristine).returncode == 0
    old = signature(pristine, new_archive)

    def fresh_old_index() -> None:  # a copy of the old index folder (cheaper than building it again)
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(pristine, index, symlinks=True)

    fresh_old_index()
    assert signature(index, new_archive) == old, "a copied index folder serves as the original"
    durations = {}
    started = time.monotonic()
    assert run_build(new_archive, index, "--full").returncode == 0
    durations["full"] = time.monotonic() - started
    new_full = signature(index, new_archive)
    fresh_old_index()
    started = time.monotonic()
    assert run_build(new_archive, index).returncode == 0
    durations["incremental"] = time.monotonic() - started
    new_incremental = signature(index, new_archive)  # may differ from a full build in scores (BM25 statistics)
    assert old not in (new_full, new_incremental)
    fresh_old_index()

    # 14 kills at fractions of a measured build (the first ~third of it is interpreter start-up), and
    # 6 at the k-th new path appearing under the index folder (the writing and swapping stages).
    # Odd-numbered kills hit a full build, even-numbered ones an incremental build, each timed by its own kind.
    plans = [{"after": 0.25 + 0.055 * i} for i in range(14)]
    plans += [{"new_paths": k} for k in (1, 2, 3, 4, 6, 9)]
    outcomes = []
    for number, plan in enumerate(plans):
        kind = "full" if number % 2 else "incremental"
        extra = ("--full",) if kind == "full" else ()
        if "after" in plan:
            plan = {"after": plan["after"] * durations[kind]}
        outcome = kill_build(new_archive, index, extra=extra, **plan)
        served = signature(index, new_archive)
        assert served in (old, new_full, new_incremental), (
            f"kill {number} ({outcome}) left an index that answers neither as the old build nor as a new one")
        outcome["serves"] = "old" if served == old else "new"
        outcomes.append(outcome)
        if served != old or number % 5 == 4:  # the next build succeeds; then start again from the old index
            finished = run_build(new_archive, index)
            assert finished.returncode == 0, finished.stderr
            assert signature(index, new_archive) == (new_incremental if served == old else served)
            fresh_old_index()
    print(f"\nbuilds: full {durations['full']:.2f}s, incremental {durations['incremental']:.2f}s; kills:")
    for number, outcome in enumerate(outcomes):
        print(f"  {number:2d} at {outcome['at_s']:.3f}s new paths {outcome['new_paths']:2d} "
              f"finished={outcome['finished']} serves {outcome['serves']}")
    killed = [outcome for outcome in outcomes if not outcome["finished"]]
    assert len(killed) >= 12, "most kill points land before the build ends"
    assert any(outcome["new_paths"] for outcome in killed), "some kills land while the new build is being written"
    assert sum(outcome["serves"] == "old" for outcome in killed) >= 12
