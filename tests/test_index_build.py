"""Index builds: incremental by content, refused on mismatch, detected when corrupt, atomic, locked."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archive.records import SkippedFile
from archive.walk import walk_archive
from archive_qa.cli import main
from core.errors import ArchiveNotFound, IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing
from core.settings import PROJECT_ROOT, Settings
from index import build as build_module
from index import lexical as lexical_module
from index import publish
from index.build import archive_changed, build_index
from index.embed import HashingEmbedder
from index.plan import file_sha256, make_plan
from index.search import Searcher
from index.verify import verify_index

NUJABA = "training camps for Harakat al-Nujaba in the Homs desert"
NEW_ARTICLE = """Militia Convoy Reaches Palmyra Oasis

A convoy of the Liwa al-Baqir militia reached the Palmyra oasis on Friday, according to local activists.

The activists said the convoy carried anti-aircraft guns and was escorted by two armoured vehicles.
"""


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts):
        self.embedded += len(texts)
        return super().embed_documents(texts)


def no_model(settings):
    raise AssertionError("the model must not be loaded when nothing needs embedding")


def serving_dir(settings: Settings) -> Path:
    return publish.resolve_build_dir(settings.resolved_index_dir())


def test_first_build_then_unchanged_rebuild_does_nothing(hashing_settings, monkeypatch):
    first = build_index(hashing_settings, progress=False)
    assert (first.added, first.updated, first.removed) == (first.articles, 0, 0)
    assert first.articles == 8 and first.chunks >= first.articles and first.embedded == first.chunks
    assert first.published
    before = serving_dir(hashing_settings)

    monkeypatch.setattr(build_module, "make_embedder", no_model)
    started = time.monotonic()
    second = build_index(hashing_settings, progress=False)
    assert time.monotonic() - started < 1.5
    assert (second.added, second.updated, second.removed, second.embedded) == (0, 0, 0, 0)
    assert (second.articles, second.chunks) == (first.articles, first.chunks)
    assert not second.published and serving_dir(hashing_settings) == before


def test_report_json_is_the_documented_contract(hashing_settings):
    report = build_index(hashing_settings, progress=False)
    document = report.to_json()
    assert set(document) == {"articles", "chunks", "added", "updated", "removed", "skipped_files", "seconds"}
    assert document["skipped_files"] == [] and isinstance(document["seconds"], float)
    assert "8 articles" in report.summary()


def test_adding_editing_and_deleting_files_updates_only_those(hashing_settings, monkeypatch):
    build_index(hashing_settings, progress=False)
    archive = hashing_settings.archive_dir

    # Add one file: one article embedded, the rest reused.
    (archive / "new").mkdir()
    (archive / "new" / "palmyra.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    embedder = CountingEmbedder()
    added = build_index(hashing_settings, progress=False, embedder=embedder)
    assert (added.added, added.updated, added.removed) == (1, 0, 0)
    assert added.articles == 9 and embedder.embedded == added.embedded > 0
    assert embedder.embedded < added.chunks
    hits = Searcher.open(hashing_settings).search("Liwa al-Baqir convoy Palmyra oasis", k=1)
    assert hits[0].chunk.source == "new/palmyra.txt"

    # Edit one paragraph of one article.
    path = archive / "004_ec4515d8566cb32e.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("since early 2017", "since late 2016"), encoding="utf-8"
    )
    embedder = CountingEmbedder()
    edited = build_index(hashing_settings, progress=False, embedder=embedder)
    assert (edited.added, edited.updated, edited.removed) == (0, 1, 0)
    assert 0 < embedder.embedded <= 3
    searcher = Searcher.open(hashing_settings)
    texts = " ".join(c.text for c in searcher.iter_chunks() if c.source == path.name)
    assert "since late 2016" in texts and "since early 2017" not in texts

    # Delete a file holding two articles.
    (archive / "003_52b4fc36533fb985.txt").unlink()
    monkeypatch.setattr(build_module, "make_embedder", no_model)
    removed = build_index(hashing_settings, progress=False)
    assert (removed.added, removed.updated, removed.removed, removed.embedded) == (0, 0, 2, 0)
    searcher = Searcher.open(hashing_settings)
    assert not any(c.source.startswith("003_") for c in searcher.iter_chunks())
    assert len(searcher.articles()) == 7

    unchanged = build_index(hashing_settings, progress=False)
    assert (unchanged.added, unchanged.updated, unchanged.removed, unchanged.embedded) == (0, 0, 0, 0)


def test_moved_lines_update_spans_without_embedding(hashing_settings, monkeypatch):
    build_index(hashing_settings, progress=False)
    path = hashing_settings.archive_dir / "001_4b85ccf491a580e5.txt"
    path.write_text("\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")  # every line moves down 2
    monkeypatch.setattr(build_module, "make_embedder", no_model)
    report = build_index(hashing_settings, progress=False)
    assert report.updated == 2 and report.embedded == 0 and report.published
    hit = Searcher.open(hashing_settings).search(NUJABA, k=1)[0]
    raw = path.read_text(encoding="utf-8").splitlines()
    assert "Harakat al-Nujaba" in " ".join(raw[hit.chunk.start_line - 1 : hit.chunk.end_line])
    assert hit.chunk.start_line == 14


def test_full_rebuild_reembeds_everything(hashing_settings):
    first = build_index(hashing_settings, progress=False)
    embedder = CountingEmbedder()
    full = build_index(hashing_settings, progress=False, full=True, embedder=embedder)
    assert embedder.embedded == first.chunks == full.embedded
    assert full.updated == first.articles and full.added == full.removed == 0


def test_archive_changed_tracks_file_checksums(hashing_settings):
    assert archive_changed(hashing_settings)  # no index yet
    build_index(hashing_settings, progress=False)
    assert not archive_changed(hashing_settings)
    (hashing_settings.archive_dir / "notes.txt").write_text("Title\n\nA new paragraph of text.\n")
    assert archive_changed(hashing_settings)


def test_the_walker_and_the_plan_never_follow_links_out_of_the_archive(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    secret = tmp_path / "outside.txt"
    secret.write_text("not part of the archive")
    (archive / "a.txt").write_text("Title\n\nBody.\n")
    (archive / "inside.txt").symlink_to(archive / "a.txt")
    (archive / "outside.txt").symlink_to(secret)
    (archive / ".hidden.txt").write_text("ignored")
    walk = walk_archive(archive)
    assert [file.source for file in walk.files] == ["a.txt", "inside.txt"]
    assert walk.skipped == (SkippedFile("outside.txt", "symlink points outside the archive"),)
    plan = make_plan(archive, {}, max_file_bytes=1000)
    checksums = {task.source: task.sha256 for task in plan.tasks}
    assert checksums == {"a.txt": file_sha256(archive / "a.txt"), "inside.txt": file_sha256(archive / "a.txt")}
    assert plan.walk_skipped == walk.skipped
    assert all(task.sha256.startswith("large:") for task in make_plan(archive, {}, max_file_bytes=3).tasks)


def test_an_unchanged_file_is_not_read_and_a_touched_one_is_hashed_not_reindexed(hashing_settings, monkeypatch):
    build_index(hashing_settings, progress=False)
    path = hashing_settings.archive_dir / "002_257df2b6438dc5da.txt"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # touched, same content
    opened: list[str] = []
    real_read = build_module.LocalEngine.process

    def spy(self, job, embedder):
        opened.extend(task.source for task in job.files)
        return real_read(self, job, embedder)

    monkeypatch.setattr(build_module.LocalEngine, "process", spy)
    report = build_index(hashing_settings, progress=False)
    assert opened == [] and not report.published
    (hashing_settings.archive_dir / "palmyra.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert build_index(hashing_settings, progress=False).added == 1 and opened == ["palmyra.txt"]


def test_missing_archive_creates_no_index(tmp_path):
    settings = Settings(
        embedding_backend="hashing", archive_dir=tmp_path / "nowhere", index_dir=tmp_path / "idx"
    )
    with pytest.raises(ArchiveNotFound):
        build_index(settings, progress=False)
    assert not (tmp_path / "idx").exists()


def test_old_builds_are_cleaned_up(hashing_settings):
    build_index(hashing_settings, progress=False)
    for n in range(3):
        (hashing_settings.archive_dir / f"extra{n}.txt").write_text(NEW_ARTICLE.replace("Friday", f"day {n}"))
        build_index(hashing_settings, progress=False)
    index_dir = hashing_settings.resolved_index_dir()
    builds = list((index_dir / publish.BUILDS).iterdir())
    assert len(builds) == 2  # the serving build and the one before it
    named = set()
    for build in builds:
        manifest = json.loads((build / publish.MANIFEST).read_text())
        named |= {manifest["tables"], *(item["file"] for item in manifest["vectors"]["segments"])}
    on_disk = {path.name for path in (index_dir / publish.DATA).iterdir()}
    assert {name.removesuffix("-wal").removesuffix("-shm") for name in on_disk} == named


def test_compressed_vector_index_above_the_threshold(hashing_settings):
    settings = hashing_settings.model_copy(update={"approximate_above": 5})
    build_index(settings, progress=False)
    searcher = Searcher.open(settings)
    assert searcher.status()["vector_index"] == "ivf-sq8" and searcher.vectors.kind == "ivf-sq8"
    assert searcher.search(NUJABA, k=3, mode="dense")[0].chunk.source == "001_4b85ccf491a580e5.txt"
    # Raising the threshold switches back to exact search without re-embedding.
    exact = hashing_settings.model_copy(update={"approximate_above": 10_000})
    embedder = CountingEmbedder()
    report = build_index(exact, progress=False, embedder=embedder)
    assert report.published and embedder.embedded == 0
    assert Searcher.open(exact).status()["vector_index"] == "flat"


# ---------------------------------------------------------------- refusing and detecting


def test_missing_index(hashing_settings):
    with pytest.raises(IndexMissing) as caught:
        Searcher.open(hashing_settings)
    assert caught.value.fix is not None and not caught.value.fix.full
    assert "archive-qa build --archive" in caught.value.one_line()


@pytest.mark.parametrize(
    "change",
    [
        {"chunk_max_tokens": 200},
        {"chunk_target_tokens": 100},
        {"chunk_overlap_sentences": 0},
    ],
)
def test_other_chunker_settings_are_refused(hashing_settings, change):
    build_index(hashing_settings, progress=False)
    other = hashing_settings.model_copy(update=change)
    with pytest.raises(IndexMismatch) as caught:
        Searcher.open(other)
    message = caught.value.one_line()
    assert "\n" not in message and "--full" in message and next(iter(change)).split("_", 1)[1] in message
    assert caught.value.fix.full and caught.value.index_dir == hashing_settings.resolved_index_dir()


def test_other_model_is_refused(hashing_settings):
    build_index(hashing_settings, progress=False)
    with pytest.raises(IndexMismatch, match="hashing-128") as caught:
        Searcher.open(hashing_settings, embedder=HashingEmbedder(dim=128))
    assert caught.value.fix.full and caught.value.one_line().endswith("--full")

    renamed = HashingEmbedder()
    renamed.name = "another-model"
    with pytest.raises(IndexMismatch, match="another-model"):
        Searcher.open(hashing_settings, embedder=renamed)
    torch_settings = hashing_settings.model_copy(update={"embedding_backend": "torch"})
    with pytest.raises(IndexMismatch, match="all-MiniLM-L6-v2"):
        Searcher.open(torch_settings)  # decided from the model folder's files, without loading the model


def test_a_build_with_another_model_rebuilds_in_full(hashing_settings):
    build_index(hashing_settings, progress=False)
    embedder = HashingEmbedder(dim=128)
    report = build_index(hashing_settings, progress=False, embedder=embedder)
    assert report.embedded == report.chunks and any("rebuilding in full" in w.reason for w in report.warnings)
    assert Searcher.open(hashing_settings, embedder=embedder).status()["dim"] == 128


def _data(settings: Settings) -> Path:
    return settings.resolved_index_dir() / publish.DATA


def _manifest(settings: Settings) -> dict:
    return json.loads((serving_dir(settings) / publish.MANIFEST).read_text())


@pytest.mark.parametrize(
    "damage",
    ["truncate-vectors", "delete-tables", "garbage-manifest", "drop-manifest-file-list", "wrong-generation"],
)
def test_damage_seen_on_open_is_reported_and_repaired_by_a_build(hashing_settings, damage):
    build_index(hashing_settings, progress=False)
    folder = serving_dir(hashing_settings)
    manifest = _manifest(hashing_settings)
    if damage == "truncate-vectors":
        path = _data(hashing_settings) / manifest["vectors"]["segments"][0]["file"]
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "delete-tables":
        (_data(hashing_settings) / manifest["tables"]).unlink()
    elif damage == "garbage-manifest":
        (folder / publish.MANIFEST).write_text("{not json")
    elif damage == "drop-manifest-file-list":
        del manifest["index_files"]
        (folder / publish.MANIFEST).write_text(json.dumps(manifest))
    else:
        manifest["generation"] += 5
        (folder / publish.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt) as caught:
        Searcher.open(hashing_settings)
    assert "\n" not in caught.value.one_line() and "archive-qa build" in caught.value.one_line()

    report = build_index(hashing_settings, progress=False)
    assert report.published and any("rebuilding in full" in w.reason for w in report.warnings)
    assert Searcher.open(hashing_settings).search(NUJABA, k=1)[0].chunk.source == "001_4b85ccf491a580e5.txt"


@pytest.mark.parametrize("damage", ["flip-vector-byte", "flip-table-byte"])
def test_damage_inside_files_is_found_by_verify_and_repaired_by_build_verify(hashing_settings, damage):
    build_index(hashing_settings, progress=False)
    assert verify_index(hashing_settings)["articles"] == 8
    manifest = _manifest(hashing_settings)
    if damage == "flip-vector-byte":
        path = _data(hashing_settings) / manifest["vectors"]["segments"][0]["file"]
        offset = path.stat().st_size // 2
    else:  # checkpoint the WAL into the file first, so the damage lands in the table pages
        connection = sqlite3.connect(_data(hashing_settings) / manifest["tables"])
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        path = _data(hashing_settings) / manifest["tables"]
    data = bytearray(path.read_bytes())
    if damage == "flip-vector-byte":
        data[offset] ^= 0xFF
    else:  # the page-type byte of every table page (a flipped byte inside a text cell would be mere content)
        for page in range(1, len(data) // 4096):
            data[page * 4096] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt) as caught:
        verify_index(hashing_settings)
    assert caught.value.fix is not None

    if damage == "flip-vector-byte":  # a plain build does not re-hash the vectors: it sees nothing to do
        assert not build_index(hashing_settings, progress=False).published
        repaired = build_index(hashing_settings, progress=False, verify=True)
    else:  # damaged table pages already fail the build's own reads
        repaired = build_index(hashing_settings, progress=False)
    assert repaired.published and any("rebuilding in full" in w.reason for w in repaired.warnings)
    assert verify_index(hashing_settings)["chunks"] == repaired.chunks


# ---------------------------------------------------------------- atomicity and the lock


def test_a_failed_build_leaves_the_previous_index_serving(hashing_settings, monkeypatch):
    build_index(hashing_settings, progress=False)
    before = serving_dir(hashing_settings)
    files_before = sorted(path.name for path in _data(hashing_settings).iterdir())
    (hashing_settings.archive_dir / "palmyra.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    def explode(connection, rows):
        raise OSError("disk full")

    monkeypatch.setattr(lexical_module, "add_postings", explode)
    with pytest.raises(OSError, match="disk full"):
        build_index(hashing_settings, progress=False)
    assert serving_dir(hashing_settings) == before
    assert [p.name for p in (hashing_settings.resolved_index_dir() / publish.BUILDS).iterdir()] == [before.name]
    assert sorted(path.name for path in _data(hashing_settings).iterdir()) == files_before
    searcher = Searcher.open(hashing_settings)
    assert searcher.status()["articles"] == 8
    monkeypatch.undo()
    assert build_index(hashing_settings, progress=False).added == 1


CRASHING_BUILD = """
import os, sys
from index import lexical, publish

POINT = sys.argv.pop(1)
if POINT == "mid-rows":  # inside the SQLite transaction, some rows written
    real = lexical.add_postings
    def crash(connection, rows):
        real(connection, rows)
        os._exit(9)  # like a kill: no cleanup, no finally
    lexical.add_postings = crash
elif POINT == "after-commit":  # tables committed, manifest written, `current` not yet swapped
    real_replace = publish.os.replace
    def crash_replace(source, target):
        if str(target).endswith("current"):
            os._exit(9)
        real_replace(source, target)
    publish.os.replace = crash_replace
else:  # the new build folder made, its manifest half-written, tables not committed
    def crash(path, text):
        path.write_text(text[: len(text) // 2])  # half-written
        os._exit(9)
    publish.write_durably = crash
from archive_qa.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("point", ["mid-rows", "before-manifest", "after-commit"])
def test_a_build_killed_midway_leaves_the_old_index_answering(hashing_settings, point):
    build_index(hashing_settings, progress=False)
    before = serving_dir(hashing_settings)
    (hashing_settings.archive_dir / "palmyra.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    removed = hashing_settings.archive_dir / "003_52b4fc36533fb985.txt"  # two articles the crashed build drops
    removed_passage = next(c.text for c in Searcher.open(hashing_settings).iter_chunks() if c.source == removed.name)
    removed_bytes = removed.read_bytes()
    removed.unlink()
    env = {**os.environ, "ARCHIVE_QA_EMBEDDING_BACKEND": "hashing", "PYTHONPATH": str(PROJECT_ROOT)}
    index = str(hashing_settings.resolved_index_dir())
    command = [sys.executable, "-c", CRASHING_BUILD, point, "build", "--archive", str(hashing_settings.archive_dir),
               "--index", index, "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 9, result.stderr
    builds_dir = hashing_settings.resolved_index_dir() / publish.BUILDS
    crashed = [p for p in builds_dir.iterdir() if p != before]
    assert len(crashed) == (0 if point == "mid-rows" else 1)
    if point == "before-manifest":
        assert all(not json_ok(folder / publish.MANIFEST) for folder in crashed), "the kill left a readable manifest"
    assert serving_dir(hashing_settings) == before

    searcher = Searcher.open(hashing_settings)
    assert searcher.status()["articles"] == 8 and searcher.chunk_count == len(list(searcher.iter_chunks()))
    assert searcher.search(NUJABA, k=1)[0].chunk.source == "001_4b85ccf491a580e5.txt"
    assert not any(hit.chunk.source == "palmyra.txt" for hit in searcher.search("Liwa al-Baqir convoy", k=20))
    if point != "after-commit":  # killed between the commit and the swap, its removals' postings are gone
        assert searcher.search(removed_passage, k=1, mode="bm25")[0].chunk.source == removed.name

    removed.write_bytes(removed_bytes)  # back as it was: the next build must give its rows and postings back

    report = build_index(hashing_settings, progress=False)  # the lock died with the process
    assert (report.added, report.removed) == (1, 0) and report.published
    searcher = Searcher.open(hashing_settings)
    assert searcher.status()["articles"] == 9 and searcher.chunk_count == len(list(searcher.iter_chunks()))
    assert searcher.search("Liwa al-Baqir convoy Palmyra oasis", k=1)[0].chunk.source == "palmyra.txt"
    assert {p.name for p in builds_dir.iterdir()} == {before.name, serving_dir(hashing_settings).name}
    assert all(not folder.exists() for folder in crashed), "the next build removes the half-written one"
    assert verify_index(hashing_settings)["articles"] == 9
    assert searcher.search(removed_passage, k=1, mode="bm25")[0].chunk.source == removed.name


def json_ok(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def test_a_concurrent_build_fails_clearly_or_waits(hashing_settings):
    build_index(hashing_settings, progress=False)
    index_dir = hashing_settings.resolved_index_dir()
    with publish.build_lock(index_dir):
        with pytest.raises(IndexLocked) as caught:
            build_index(hashing_settings, progress=False)
        message = str(caught.value)
        assert "\n" not in message and "--wait" in message and str(os.getpid()) in message
        with pytest.raises(IndexLocked, match="after waiting 0.3s"):
            build_index(hashing_settings, progress=False, lock_timeout=0.3)

    holder = publish.build_lock(index_dir).__enter__()
    threading.Timer(0.4, holder.__exit__, args=(None, None, None)).start()
    report = build_index(hashing_settings, progress=False, lock_timeout=10)
    assert report.articles == 8


def test_two_builds_at_once_never_corrupt(hashing_settings):
    (hashing_settings.archive_dir / "palmyra.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    results: list[object] = []

    def run() -> None:
        try:
            results.append(build_index(hashing_settings, progress=False, lock_timeout=60))
        except Exception as error:  # collected and asserted below
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(not isinstance(result, Exception) for result in results), results
    assert sorted(result.added for result in results) == [0, 0, 9]
    assert Searcher.open(hashing_settings).status()["articles"] == 9


# ---------------------------------------------------------------- the command line


def test_cli_build_and_search_json(hashing_settings, monkeypatch, capsys):
    monkeypatch.setenv("ARCHIVE_QA_EMBEDDING_BACKEND", "hashing")
    args = [
        "--archive",
        str(hashing_settings.archive_dir),
        "--index",
        str(hashing_settings.resolved_index_dir()),
    ]
    assert main(["build", *args, "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["articles"] == 8 and built["added"] == 8
    assert main(["build", *args, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["added"], again["updated"], again["removed"]) == (0, 0, 0)
    assert main(["search", NUJABA, *args, "--json", "-k", "2"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["source"] == "001_4b85ccf491a580e5.txt" and hits[0]["rank"] == 1
    assert main(["search", NUJABA, *args, "--json", "--since", "2023-11-01"]) == 0
    assert {hit["source"] for hit in json.loads(capsys.readouterr().out)} == {"002_257df2b6438dc5da.txt"}


def test_cli_search_without_index_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_EMBEDDING_BACKEND", "hashing")
    status = main(["search", "anything", "--index", str(tmp_path / "none"), "--json"])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "archive-qa build" in captured.err


class _FreedWhere:
    """Writes the pid of the process whose garbage collector frees it."""

    def __init__(self, marks: Path) -> None:
        self.marks = marks
        self.cycle = self  # only the cyclic collector can free it

    def __del__(self) -> None:
        with open(self.marks, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")


def _collect_in_worker() -> int:
    import gc

    gc.collect()
    return os.getpid()


def test_build_workers_never_free_what_they_inherited(tmp_path):
    # A loaded model's garbage (an ONNX Runtime session) freed in a forked worker hung a build forever; the
    # pool collects in this process first and freezes the rest, so no worker's collector frees inherited objects.
    import gc

    from index.engine import forked_pool

    marks = tmp_path / "freed-by.txt"
    gc.disable()
    try:
        _FreedWhere(marks)  # garbage from now on: a reference cycle, left for the collector
        with forked_pool(2) as pool:
            workers = {pool.submit(_collect_in_worker).result() for _ in range(6)}
    finally:
        gc.enable()
    gc.collect()
    freed_by = {int(pid) for pid in marks.read_text(encoding="utf-8").split()} if marks.exists() else set()
    assert os.getpid() not in workers and freed_by == {os.getpid()}
