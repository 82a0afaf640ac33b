"""Compaction of an index with a long history, against a full rebuild of the same files (index.compact).

    .venv/bin/python scripts/bench.py compaction --articles 1000 --builds 100 --json

Writes a synthetic archive, builds it, then runs `--builds` incremental builds in this process, each editing,
adding and deleting `--changes` files. The history is made with the merge policy switched off (every build
leaves its segment, as before compaction existed: the worst case a first `build --compact` meets), unless
--with-policy. Then, each in a fresh process (`archive-qa build`, timed from outside and by the build's own
report, peak RSS from the kernel): `build --compact` of the history index, and `build --full` of the same
files into a copy of it. Also the size, segment count and open time before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, machine


def add_parser(commands) -> None:
    parser = commands.add_parser("compaction", help="build --compact after a long history vs a full rebuild",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--builds", type=int, default=100, help="incremental builds of history (default 100)")
    parser.add_argument("--changes", type=int, default=10, help="files changed per incremental build")
    parser.add_argument("--backend", default="hashing")
    parser.add_argument("--with-policy", action="store_true", help="let the merge policy run during the history")
    parser.add_argument("--workdir", default="/tmp/archive-qa-bench-compaction")
    parser.add_argument("--json", action="store_true")


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("archive-qa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive_qa.cli"]


def _measured(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child; its wall seconds, the build's own seconds, and its peak RSS (wait4's ru_maxrss)."""
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    report = json.loads(output) if output.strip().startswith("{") else {}
    return {"wall_seconds": round(time.monotonic() - started, 2), "build_seconds": report.get("seconds"),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit": child.returncode,
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2), "compacted": report.get("compacted")}


def _open_seconds(settings) -> float:
    from index.search import Searcher

    times = []
    for _ in range(5):
        started = time.perf_counter()
        searcher = Searcher.open(settings)
        searcher.search("council", k=5, mode="dense")
        times.append(time.perf_counter() - started)
        searcher.close()
    return round(statistics.median(times), 4)


def run(args: argparse.Namespace) -> int:
    from benchmarks import synthetic
    from core.settings import Settings
    from index import compact
    from index.build import build_index

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    archive, index, rebuilt = work / "archive", work / "index", work / "rebuilt"
    pool = synthetic.paragraph_pool(None, cache_dir=work / "pool")
    synthetic.write_archive(archive, args.articles, pool)
    settings = Settings(embedding_backend=args.backend, archive_dir=archive, index_dir=index)
    started = time.monotonic()
    first = build_index(settings, progress=False)
    first_seconds = time.monotonic() - started
    planner = compact.plan_merges
    if not args.with_policy:
        def nothing_unless_forced(stats, policy=None, force=False):
            return planner(stats, policy, force=True) if force else []

        compact.plan_merges = nothing_unless_forced
    rng = random.Random(0)
    upcoming = args.articles
    history_seconds = []
    try:
        for _ in range(args.builds):
            files = sorted(archive.rglob("*.txt"))
            for _ in range(args.changes):
                roll = rng.random()
                if roll < 0.5:
                    path = rng.choice(files)
                    path.write_text(synthetic.make_article(rng.randrange(10**6), pool, seed=1).text(), encoding="utf-8")
                elif roll < 0.75:
                    article = synthetic.make_article(upcoming, pool)
                    upcoming += 1
                    (archive / "0000" / article.file_name).write_text(article.text(), encoding="utf-8")
                else:
                    path = rng.choice(files)
                    if path.exists():
                        path.unlink()
            began = time.monotonic()
            build_index(settings, progress=False)
            history_seconds.append(time.monotonic() - began)
    finally:
        compact.plan_merges = planner
    before = compact.footprint(index) | {"open_seconds": _open_seconds(settings)}
    shutil.copytree(index, rebuilt, symlinks=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    env.update(ARCHIVE_QA_EMBEDDING_BACKEND=args.backend, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    common = ["--archive", str(archive), "--json", "--quiet"]
    compacted = _measured([*_cli(), "build", "--index", str(index), "--compact", *common], env)
    after = compact.footprint(index) | {"open_seconds": _open_seconds(settings)}
    full = _measured([*_cli(), "build", "--index", str(rebuilt), "--full", *common], env)
    fresh = compact.footprint(rebuilt) | {"open_seconds": _open_seconds(
        Settings(embedding_backend=args.backend, archive_dir=archive, index_dir=rebuilt))}
    result = {
        "articles": args.articles, "builds": args.builds, "changes_per_build": args.changes,
        "backend": args.backend, "policy_during_history": args.with_policy, "chunks": first.chunks,
        "first_build_seconds": round(first_seconds, 1),
        "history_build_seconds": {"median": round(statistics.median(history_seconds), 3),
                                  "max": round(max(history_seconds), 3), "total": round(sum(history_seconds), 1)},
        "before_compaction": before, "compact": compacted, "after_compaction": after,
        "full_rebuild": full, "fresh": fresh,
        "compact_over_full_wall": round(compacted["wall_seconds"] / max(full["wall_seconds"], 1e-9), 3),
        "compact_over_full_cpu": round(compacted["cpu_seconds"] / max(full["cpu_seconds"], 1e-9), 3),
        "machine": machine(),
    }
    print(json.dumps(result, indent=1 if args.json else None))
    return 0 if compacted["exit"] in (0, 3) and full["exit"] in (0, 3) else 1
