"""Soak test of a watched archive: random operations of every kind, SIGKILLs of `archive-qa watch`, then the
comparison with a fresh `build --full` of the same files. Not a CI test itself (tests/test_soak.py runs it
small); docs/RELIABILITY.md records a long run and its command.

    .venv/bin/python scripts/soak.py --ops 10000 --kills 200 --out /tmp/soak.json

What it does, on a generated archive (scripts/benchmarks/synthetic.py, the benchmarks' articles):

- N operations drawn at random: adds, edits (rewritten or appended to), deletes, renames (also across
  folders), files written in three pieces over half a second, empty and binary files; in bursts, with pauses,
  so that the watcher builds often (each build one generation: history accumulates as in daily use);
- `archive-qa watch` running throughout, SIGKILLed K times: at a random moment, while a build holds the lock
  (build.lock.pid present), or while the build's worker processes run (after a bulk edit large enough for
  the process pool); each time it is restarted, and the kill must leave no worker process behind;
- searches sampled during the run (open the serving index, query it): none may fail;
- at the end, once the watcher is idle, a SIGTERM (a clean stop, exit 0), a fresh `build --full` into another
  folder, and the comparison: articles, chunks, vectors (bitwise, by chunk), BM25 postings (FTS5 terms by
  chunk), skipped files, search results (up to score ties, which chunks numbered otherwise break otherwise),
  names of live articles found and of deleted ones not found; the index size against the fresh one, its
  segment count against the merge policy's bound, the time to open each.

Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("add", "edit", "delete", "rename", "pieces", "junk")
WEIGHTS = (20, 24, 16, 12, 18, 7)
KILL_KINDS = ("random", "lock", "worker")
TIE_DEPTH = 60  # hybrid search fuses the top 50 of the dense and the BM25 ranking (index.search.MIN_POOL)
BULK = 72  # files edited at once before a worker kill: above the engine's inline_below, so a pool starts
FOLDERS = 6


def synthetic():
    spec = importlib.util.spec_from_file_location("soak_synthetic", ROOT / "scripts" / "benchmarks" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak_synthetic", module)
    spec.loader.exec_module(module)
    return module


def cli() -> list[str]:
    script = Path(sys.executable).with_name("archive-qa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive_qa.cli"]


def child_env(backend: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ARCHIVE_QA_EMBEDDING_BACKEND=backend)
    return env


def children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def alive(pids: list[int]) -> list[int]:
    import psutil

    found = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(pid)
    return found


# ---------------------------------------------------------------- the watcher


class Watcher:
    """`archive-qa watch --json` in a subprocess; its build documents read by a thread."""

    def __init__(self, archive: Path, index: Path, env: dict[str, str], log: Path) -> None:
        self.archive, self.index, self.env, self.log = archive, index, env, log
        self.process: subprocess.Popen | None = None
        self.lines: queue.Queue = queue.Queue()
        self.builds = 0
        self.builds_since_start = 0
        self.failed_builds: list[str] = []
        self.most_segments = 0
        self.compactions = 0

    def start(self) -> None:
        self.builds_since_start = 0
        stderr = open(self.log, "a", encoding="utf-8")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [*cli(), "watch", "--archive", str(self.archive), "--index", str(self.index), "--json",
             "--debounce", "0.2", "--settle", "0.5"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=self.env)
        stderr.close()
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, ""):
            try:
                document = json.loads(line)
            except ValueError:
                continue
            self.builds += 1
            self.builds_since_start += 1
            compacted = document.get("compacted") or {}
            if compacted.get("merges"):
                self.compactions += 1

    def kill(self) -> list[int]:
        """SIGKILL the watcher alone (as the OOM killer would); returns worker processes still alive after."""
        assert self.process is not None
        workers = children(self.process.pid)
        self.process.kill()
        self.process.wait()
        deadline = time.monotonic() + 15
        while alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = alive(workers)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return left

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9

    def building(self) -> bool:
        return (self.index / "build.lock.pid").exists()


# ---------------------------------------------------------------- the operations


class Archive:
    """The generated archive and the random operations on it."""

    def __init__(self, folder: Path, pool: list[str], rng: random.Random, bench) -> None:
        self.folder, self.pool, self.rng, self.bench = folder, pool, rng, bench
        self.next_index = 0
        self.writing: set[Path] = set()
        self.threads: list[threading.Thread] = []
        self.names_gone: set[str] = set()  # unique names of articles deleted or overwritten

    def create(self, count: int) -> None:
        for _ in range(count):
            self._write_new(self._new_path())

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and p not in self.writing)

    def _new_path(self) -> Path:
        article = self.bench.make_article(self.next_index, self.pool)
        folder = self.folder / f"f{self.next_index % FOLDERS}"
        folder.mkdir(exist_ok=True)
        return folder / article.file_name

    def _article_text(self) -> str:
        text = self.bench.make_article(self.next_index, self.pool).text()
        self.next_index += 1
        return text

    def _write_new(self, path: Path) -> None:
        path.write_text(self._article_text(), encoding="utf-8")

    def _forget(self, path: Path) -> None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            first = path.read_text(encoding="utf-8").split("\n", 1)[0]
            if ":" in first:
                self.names_gone.add(first.split(":", 1)[0])

    def apply(self, kind: str) -> str:
        files = self.files()
        if kind != "add" and kind != "pieces" and kind != "junk" and len(files) < 20:
            kind = "add"
        if kind == "add":
            self._write_new(self._new_path())
        elif kind == "edit":
            path = self.rng.choice(files)
            if self.rng.random() < 0.5:
                self._forget(path)
                path.write_text(self._article_text(), encoding="utf-8")
            else:
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(f"\n{self.rng.choice(self.pool)}\n")
        elif kind == "delete":
            path = self.rng.choice(files)
            self._forget(path)
            path.unlink()
        elif kind == "rename":
            path = self.rng.choice(files)
            folder = self.folder / f"f{self.rng.randrange(FOLDERS)}"
            folder.mkdir(exist_ok=True)
            path.rename(folder / f"r{self.rng.randrange(10**6)}-{path.name}")
        elif kind == "pieces":
            self._pieces(self._new_path())
        elif kind == "junk":
            path = self.folder / f"f{self.rng.randrange(FOLDERS)}" / f"junk-{self.rng.randrange(10**6)}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"" if self.rng.random() < 0.5 else bytes(self.rng.randrange(256) for _ in range(600)))
        return kind

    def _pieces(self, path: Path) -> None:
        """A file written in three pieces over half a second, in the background (a slow scraper)."""
        text = self._article_text()
        cut = sorted(self.rng.sample(range(1, len(text)), 2))
        pieces = [text[: cut[0]], text[cut[0] : cut[1]], text[cut[1] :]]
        self.writing.add(path)

        def write() -> None:
            try:
                with open(path, "w", encoding="utf-8") as handle:
                    for number, piece in enumerate(pieces):
                        handle.write(piece)
                        handle.flush()
                        if number < 2:
                            time.sleep(0.25)
            finally:
                self.writing.discard(path)

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        self.threads.append(thread)
        self.threads = [t for t in self.threads if t.is_alive()]

    def bulk_edit(self, count: int) -> int:
        files = [p for p in self.files() if not p.name.startswith("junk-")]
        chosen = self.rng.sample(files, k=min(count, len(files)))
        for path in chosen:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"\n{self.rng.choice(self.pool)}\n")
        return len(chosen)

    def settle(self) -> None:
        for thread in self.threads:
            thread.join()


# ---------------------------------------------------------------- reading an index


def snapshot(index: Path, archive: Path, backend: str) -> dict[str, Any]:
    """Everything compared between two indexes, keyed by what does not depend on slot numbering."""
    import numpy as np

    from index import publish, tables
    from index.search import Searcher
    from index.writer import skipped_files

    settings = settings_for(index, archive, backend)
    searcher = Searcher.open(settings)
    connection = searcher._db
    generation = searcher.generation
    try:
        shown_a = tables.visible("a", generation)
        articles = {row[0]: row[1:] for row in connection.execute(
            f"SELECT article_id, source, position, title, content_hash, record FROM articles a WHERE {shown_a}")}
        rows = connection.execute(
            f"SELECT c.id, a.article_id, a.paragraphs, a.title, c.ordinal, c.start_line, c.end_line, c.p0, c.s0, "
            f"c.p1, c.e1, c.text FROM chunks c JOIN articles a ON a.id = c.article "
            f"WHERE {tables.visible('c', generation)} ORDER BY c.id").fetchall()
        keys: dict[int, str] = {}
        chunks: dict[str, tuple] = {}
        for slot, article_id, paragraphs, _title, ordinal, start, end, p0, s0, p1, e1, text in rows:
            key = f"{article_id}:{ordinal}"
            keys[slot] = key
            if text is None:
                text = tables.slice_text(tables.paragraphs_from_json(paragraphs), p0, s0, p1, e1)
            chunks[key] = (start, end, text)
        slots = np.array(sorted(keys), dtype=np.int64)
        vectors = searcher.vectors.vectors(slots).astype(np.float16)
        by_key = {keys[int(slot)]: vectors[i].tobytes() for i, slot in enumerate(slots)}
        postings = _postings(index / publish.DATA / searcher.manifest["tables"], keys)
        skipped, warnings = skipped_files(connection, generation)
    finally:
        searcher.close()
    return {"articles": articles, "chunks": chunks, "vectors": by_key, "postings": postings,
            "skipped": sorted((item.source, item.reason) for item in skipped),
            "warnings": sorted((item.source, item.reason) for item in warnings)}


def _postings(path: Path, keys: dict[int, str]) -> dict[str, Any]:
    """term -> sorted (chunk key, occurrences); postings of chunks the generation does not show are counted."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        connection.execute("CREATE VIRTUAL TABLE temp.soak_vocab USING fts5vocab(main, lexical, instance)")
        found: dict[str, dict[str, int]] = {}
        stray = 0
        for term, doc in connection.execute("SELECT term, doc FROM temp.soak_vocab"):
            key = keys.get(doc)
            if key is None:
                stray += 1
                continue
            per = found.setdefault(term, {})
            per[key] = per.get(key, 0) + 1
    finally:
        connection.close()
    return {"terms": {term: sorted(per.items()) for term, per in found.items()}, "stray": stray}


def settings_for(index: Path, archive: Path, backend: str):
    from core.settings import Settings

    return Settings(embedding_backend=backend, archive_dir=archive, index_dir=index)


def rankings(index: Path, archive: Path, backend: str, queries: list[str]) -> list:
    """Search results up to ties: dense and BM25 as groups of equal score (the last group, cut by k, by size
    only); hybrid (which fuses ranks, so ties move it) only for queries whose two rankings hold no tie."""
    from index.search import Searcher

    searcher = Searcher.open(settings_for(index, archive, backend))
    found = []
    try:
        for query in queries:
            tied = False
            for mode in ("dense", "bm25"):
                hits = searcher.search(query, k=TIE_DEPTH, mode=mode)
                scores = [round(float(hit.score), 5) for hit in hits]
                tied |= len(set(scores)) < len(scores)  # hybrid fuses the top 50 of each: ties there move it
                groups: dict[float, list[str]] = {}
                for hit, score in zip(hits[:20], scores[:20], strict=True):
                    groups.setdefault(score, []).append(hit.chunk.id)
                ordered = [(score, sorted(ids)) for score, ids in groups.items()]
                found.append(ordered[:-1] + [(ordered[-1][0], len(ordered[-1][1]))] if ordered else [])
            if not tied:
                found.append([json.dumps(hit.to_json(), sort_keys=True) for hit in searcher.search(query, k=8)])
    finally:
        searcher.close()
    return found


def name_hits(index: Path, archive: Path, backend: str, names: list[str]) -> int:
    """How many of `names` (unique per article) BM25 finds in some chunk's text."""
    from index.search import Searcher

    searcher = Searcher.open(settings_for(index, archive, backend))
    try:
        return sum(any(name in hit.chunk.text or name in hit.chunk.title
                       for hit in searcher.search(name, k=3, mode="bm25")) for name in names)
    finally:
        searcher.close()


def open_seconds(index: Path, archive: Path, backend: str) -> float:
    from index.search import Searcher

    settings = settings_for(index, archive, backend)
    started = time.perf_counter()
    searcher = Searcher.open(settings)
    searcher.search("council", k=5, mode="dense")  # first query: the exact vector index is built then
    elapsed = time.perf_counter() - started
    searcher.close()
    return elapsed


def sample_search(index: Path, archive: Path, backend: str, query: str) -> str:
    """One search against whatever index serves now; '' or the error."""
    from index.search import Searcher

    try:
        searcher = Searcher.open(settings_for(index, archive, backend))
        try:
            searcher.search(query, k=5, mode="hybrid")
        finally:
            searcher.close()
    except Exception as error:  # noqa: BLE001 - any failure of a search is what this counts
        return f"{type(error).__name__}: {error}"
    return ""


# ---------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> dict[str, Any]:
    bench = synthetic()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    archive, index, fresh = work / "archive", work / "index", work / "fresh"
    archive.mkdir(parents=True)
    rng = random.Random(args.seed)
    pool = bench.paragraph_pool(None if args.pool == "bundled" else bench.DEFAULT_PAGES, cache_dir=work / "pool")
    files = Archive(archive, pool, rng, bench)
    files.create(args.articles)
    env = child_env(args.backend)
    watcher = Watcher(archive, index, env, work / "watch.log")
    watcher.start()
    try:
        return _run(args, bench, work, archive, index, fresh, rng, pool, files, env, watcher)
    finally:
        if watcher.process is not None and watcher.process.poll() is None:
            watcher.kill()


def _run(args, bench, work, archive, index, fresh, rng, pool, files, env, watcher) -> dict[str, Any]:
    from core.errors import ArchiveError
    from index.build import archive_changed

    started = time.monotonic()
    # Kills at random operations; with --max-seconds, at random moments of that time instead (a loaded
    # machine then still gets every kill, however few operations it manages).
    kill_at = sorted(rng.sample(range(1, args.ops), k=min(args.kills, args.ops - 1)))
    kill_times = sorted(rng.uniform(5, args.max_seconds) for _ in range(args.kills)) if args.max_seconds else []
    kills: list[dict[str, Any]] = []
    tally = dict.fromkeys(KINDS, 0)
    searches, failures = 0, []
    unexpected: list[dict[str, Any]] = []
    done = 0
    while done < args.ops and not (args.max_seconds and time.monotonic() - started > args.max_seconds):
        for _ in range(rng.randint(1, 6)):  # a burst
            tally[files.apply(rng.choices(KINDS, WEIGHTS)[0])] += 1
            done += 1
            due = (kill_times and time.monotonic() - started >= kill_times[0]) if args.max_seconds else (
                kill_at and done >= kill_at[0])
            if due and args.build_between_kills and not watcher.builds_since_start:
                due = False  # not before this watcher published a build: else a busy machine only tests start-up
            if due:
                (kill_times if args.max_seconds else kill_at).pop(0)
                kind = KILL_KINDS[len(kills) % len(KILL_KINDS)]
                kills.append(_kill(watcher, files, kind, rng, tally))
                watcher.start()
            if watcher.process is not None and watcher.process.poll() is not None:  # died on its own
                unexpected.append({"exit": watcher.process.returncode, "log": _tail(work / "watch.log")})
                watcher.start()
            if done % args.search_every == 0:
                searches += 1
                error = sample_search(index, archive, args.backend, bench.made_up_name(rng.randrange(files.next_index)))
                if error and "IndexMissing" not in error:  # before the first build ends there is no index
                    failures.append(error)
            if done >= args.ops:
                break
        time.sleep(rng.uniform(0.05, args.pause))
        if done % 500 < 6:
            print(f"soak: {done}/{args.ops} operations, {len(kills)} kills, {watcher.builds} builds, "
                  f"{time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    files.settle()
    idle_since, deadline = None, time.monotonic() + 600
    settings = settings_for(index, archive, args.backend)
    while time.monotonic() < deadline:  # idle: no build running and nothing left to build, twice in a row
        try:
            quiet = not watcher.building() and not archive_changed(settings)
        except ArchiveError:
            quiet = False
        if quiet and idle_since is not None and time.monotonic() - idle_since > 2.5:
            break
        idle_since = (idle_since or time.monotonic()) if quiet else None
        time.sleep(0.5)
    stale = archive_changed(settings)
    stop_code = watcher.stop()
    run_seconds = time.monotonic() - started
    started_fresh = time.monotonic()
    built = subprocess.run([*cli(), "build", "--archive", str(archive), "--index", str(fresh), "--full", "--json",
                            "--quiet"], env=env, capture_output=True, text=True, timeout=3600)
    fresh_seconds = time.monotonic() - started_fresh
    fresh_report = json.loads(built.stdout) if built.stdout.strip().startswith("{") else {}
    result = {
        "command": " ".join([Path(sys.executable).name, "scripts/soak.py", *sys.argv[1:]]),
        "operations": done, "operations_asked": args.ops, "by_kind": tally, "kills": len(kills),
        "kills_by_kind": {kind: sum(1 for k in kills if k["kind"] == kind) for kind in KILL_KINDS},
        "kills_while_locked": sum(1 for k in kills if k["locked"]),
        "kills_with_workers": sum(1 for k in kills if k["workers"]),
        "workers_left_after_kill": sum(len(k["left"]) for k in kills),
        "builds_reported": watcher.builds, "compacting_builds_reported": watcher.compactions,
        "searches": searches, "search_failures": len(failures), "search_errors": failures[:5],
        "watcher_exits_not_caused_by_a_kill": len(unexpected), "unexpected_exits": unexpected[:3],
        "watch_stop_exit": stop_code, "stale": stale, "run_seconds": round(run_seconds, 1),
        "fresh_build_seconds": round(fresh_seconds, 1), "fresh_build_exit": built.returncode,
        "fresh_articles": fresh_report.get("articles"),
    }
    result |= compare(index, fresh, archive, args.backend, rng, bench, pool, files.next_index, files.names_gone)
    result["all_equal"] = result["all_equal"] and not stale
    return result


def compare(index: Path, fresh: Path, archive: Path, backend: str, rng: random.Random, bench, pool: list[str],
            articles_made: int, names_gone: set[str]) -> dict[str, Any]:
    """The watched index against the fresh one: equalities, names found, sizes, segments, open time."""
    from index.compact import footprint
    from index.merge import MergePolicy, allowed_segments

    watched_state, fresh_state = snapshot(index, archive, backend), snapshot(fresh, archive, backend)
    names = [bench.made_up_name(i) for i in rng.sample(range(articles_made), k=min(60, articles_made))]
    present = {n for n in names if any(n in text for _, _, text in watched_state["chunks"].values())}
    queries = names[:30] + [rng.choice(pool)[:80] for _ in range(20)]
    gone = sorted(names_gone - present)[:30]
    compared = {
        "articles": watched_state["articles"] == fresh_state["articles"],
        "chunks": watched_state["chunks"] == fresh_state["chunks"],
        "vectors_bitwise": watched_state["vectors"] == fresh_state["vectors"],
        "postings": watched_state["postings"] == fresh_state["postings"],
        "skipped_files": watched_state["skipped"] == fresh_state["skipped"],
        "search_results": rankings(index, archive, backend, queries) == rankings(fresh, archive, backend, queries),
    }
    present_list = sorted(present)[:30]
    watched_size, fresh_size = footprint(index), footprint(fresh)
    opens: dict[str, list[float]] = {"watched": [], "fresh": []}
    for _ in range(7):
        for name, folder in (("watched", index), ("fresh", fresh)):
            opens[name].append(open_seconds(folder, archive, backend))
    chunks = len(watched_state["chunks"])
    result = {
        "articles": len(watched_state["articles"]), "chunks": chunks, "equal": compared,
        "all_equal": all(compared.values()),
        "postings_of_hidden_chunks": watched_state["postings"]["stray"],
        "live_names_found": f"{name_hits(index, archive, backend, present_list)}/{len(present_list)}",
        "deleted_names_found": f"{name_hits(index, archive, backend, gone)}/{len(gone)}",
        "size": {"watched": watched_size, "fresh": fresh_size,
                 "serving_ratio": round(watched_size["serving_bytes"] / max(fresh_size["serving_bytes"], 1), 3),
                 "disk_ratio": round(watched_size["disk_bytes"] / max(fresh_size["disk_bytes"], 1), 3)},
        "segments": watched_size["segments"],
        "segment_bound": allowed_segments(chunks, MergePolicy()),
        "open_seconds": {name: round(statistics.median(values), 4) for name, values in opens.items()},
    }
    result["open_ratio"] = round(result["open_seconds"]["watched"] / max(result["open_seconds"]["fresh"], 1e-9), 3)
    return result


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _kill(watcher: Watcher, files: Archive, kind: str, rng: random.Random, tally: dict[str, int]) -> dict[str, Any]:
    """SIGKILL the watcher: at a random moment, once a build holds the lock, or while its workers run."""
    assert watcher.process is not None
    workers_seen = False
    if kind == "random":
        time.sleep(rng.uniform(0, 1.0))
    elif kind == "lock":
        deadline = time.monotonic() + 10
        while not watcher.building() and time.monotonic() < deadline and watcher.process.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.15))
    else:
        tally["edit"] += files.bulk_edit(BULK)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and watcher.process.poll() is None:
            if children(watcher.process.pid):
                workers_seen = True
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
        workers_seen = workers_seen and bool(children(watcher.process.pid))
    locked = watcher.building()
    left = watcher.kill()
    return {"kind": kind, "locked": locked, "workers": workers_seen, "left": left}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=200, help="random operations (default 200)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs of the watcher (default 5)")
    parser.add_argument("--articles", type=int, default=300, help="articles generated at the start (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="hashing", help="embedding backend (default hashing)")
    parser.add_argument("--pool", choices=["bundled", "web"], default="bundled",
                        help="paragraphs of the bundled corpus only (default), or also /work/shared/corpus-web")
    parser.add_argument("--pause", type=float, default=0.8, help="longest pause between bursts, seconds")
    parser.add_argument("--search-every", type=int, default=25, help="a sampled search every N operations")
    parser.add_argument("--max-seconds", type=float, default=0.0,
                        help="stop the operations after this long even if fewer than --ops were done, and spread "
                             "the kills over this time (for a long run on a busy machine)")
    parser.add_argument("--build-between-kills", action="store_true",
                        help="a kill waits until the restarted watcher has published a build")
    parser.add_argument("--workdir", default="/tmp/archive-qa-soak", help="scratch folder (emptied first)")
    parser.add_argument("--out", help="also write the JSON result here")
    parser.add_argument("--compare-only", action="store_true",
                        help="only compare WORKDIR/index with WORKDIR/fresh (left by an earlier run)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally below stops the watcher
    if args.compare_only:
        work, bench = Path(args.workdir), synthetic()
        pool = bench.paragraph_pool(None if args.pool == "bundled" else bench.DEFAULT_PAGES, cache_dir=work / "pool")
        result = compare(work / "index", work / "fresh", work / "archive", args.backend, random.Random(args.seed),
                         bench, pool, 1000, set())
        result |= {"search_failures": 0, "unexpected_exits": []}
    else:
        result = run(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if result["all_equal"] and not result["search_failures"] and not result["unexpected_exits"] else 1


if __name__ == "__main__":
    sys.exit(main())
