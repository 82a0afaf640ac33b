"""Building the index: plan -> process -> publish, incremental by file, atomic by manifest swap, locked.

    plan      index.plan      which files changed (size + mtime, sha256 only when the stat moved)
    process   index.engine    changed files -> articles, chunks, tokens, signatures, vectors (streamed)
    publish   index.writer    one SQLite transaction for generation G + 1, a new vector segment
              index.publish   vector index, manifest, atomic swap of `current`, garbage collection

Unchanged files are never read; articles whose content is unchanged (moved lines, a renamed file) reuse
their vectors, so the model is not even loaded when nothing needs embedding. Memory is bounded by the
engine's batches. On any failure the previous index keeps serving (index.publish explains why).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.records import SkippedFile
from core.errors import ArchiveError, ArchiveNotFound
from index import compact as compacting
from index import manifest as manifests
from index import publish, tables
from index.embed import Embedder, HashingEmbedder, make_embedder, model_description
from index.engine import EMBEDDER_COUNTER, HASHING_COUNTER, ChunkingSpec, Engine, EngineJob, LocalEngine
from index.plan import Plan, make_plan, stored_files
from index.serving import Serving, all_records, open_serving, reusable_keys, reuse_from
from index.vectors import FLAT, IVF, SegmentWriter, VectorStore, train_ivf
from index.writer import TableWriter, skipped_files

ProgressCallback = Callable[[int, int], None]
RETRAIN_TAIL = 10_000  # vectors added after the IVF index was trained, searched exactly, before retraining


@dataclass(frozen=True)
class BuildReport:
    """What a build did. `to_json` is the `archive-qa build --json` document."""

    articles: int
    chunks: int
    added: int
    updated: int
    removed: int
    skipped_files: tuple[SkippedFile, ...] = ()
    warnings: tuple[SkippedFile, ...] = ()
    seconds: float = 0.0
    embedded: int = 0  # chunks embedded by this build; 0 when every vector was reused
    published: bool = False  # False when the archive had not changed and the index was left as it was
    index_dir: str = ""
    compacted: dict[str, Any] | None = None  # what compaction did (index.compact), when it did anything

    def to_json(self) -> dict[str, Any]:
        document = {
            "articles": self.articles,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "skipped_files": [{"source": item.source, "reason": item.reason} for item in self.skipped_files],
            "seconds": round(self.seconds, 3),
        }
        if self.compacted is not None:
            document["compacted"] = self.compacted
        return document

    def summary(self) -> str:
        changes = f"{self.added} added, {self.updated} updated, {self.removed} removed"
        work = f"{self.embedded} chunks embedded" if self.published else "index unchanged"
        skipped = f"; {len(self.skipped_files)} files skipped" if self.skipped_files else ""
        return (
            f"Indexed {self.articles} articles as {self.chunks} chunks ({changes}; {work}{skipped}) "
            f"in {self.seconds:.1f}s -> {self.index_dir}"
        )


def build_index(
    settings,
    *,
    full: bool = False,
    progress: bool = True,
    lock_timeout: float = 0.0,
    embedder: Embedder | None = None,
    on_progress: ProgressCallback | None = None,
    engine: Engine | None = None,
    verify: bool = False,
    compact: bool = False,
) -> BuildReport:
    """Build or incrementally update the index of `settings.archive_dir` in `settings.resolved_index_dir()`.

    `verify` re-hashes the serving index first (and rebuilds it in full if damaged). `compact` merges every
    vector segment and vacuums the tables (index.compact; builds otherwise compact as index.merge's policy
    says). Raises IndexLocked when
    another build holds the lock past `lock_timeout` seconds, ArchiveNotFound, ModelUnavailable.
    """
    started = time.monotonic()
    if not Path(settings.archive_dir).is_dir():  # say so before creating an index folder for nothing
        raise ArchiveNotFound(f"archive folder not found: {settings.archive_dir}")
    index_dir = settings.resolved_index_dir()
    index_dir.mkdir(parents=True, exist_ok=True)
    with publish.build_lock(index_dir, lock_timeout):
        model = (embedder.name, embedder.dim) if embedder else model_description(settings)
        notes: list[SkippedFile] = []
        serving = open_serving(settings, model, notes, verify=verify)
        try:
            return _build(settings, serving, full, embedder, engine, notes, started, progress, on_progress,
                          model[1], compact)
        finally:
            if serving is not None:
                serving.connection.close()


def _build(settings, serving, full, embedder, engine, notes, started, progress, on_progress, dim,
           compact=False) -> BuildReport:
    index_dir = settings.resolved_index_dir()
    dedup = {"threshold": settings.near_duplicate_threshold}
    same_lineage = serving is not None and not full and serving.manifest.get("dedup") == dedup
    stored = stored_files(serving.connection, serving.generation) if same_lineage and serving else {}
    plan = make_plan(settings.archive_dir, stored, settings.max_file_bytes)
    if (same_lineage and serving and not plan.changed and not compact
            and _vector_kind(settings, serving.counts) == _kind(serving)):
        _restat(serving.connection, plan)
        publish.remove_unreferenced(index_dir, *_kept(index_dir, serving.build_dir))
        skipped, warnings = skipped_files(serving.connection, serving.generation)
        return _report(settings, serving.counts, None, skipped, tuple(warnings) + tuple(notes), started)
    target = _Target.open(index_dir, serving if same_lineage else None, dim)
    writer = TableWriter(target.connection, target.generation, target.segment, dedup["threshold"], full,
                         reuse_from(serving, full))
    try:
        writer.begin(serving.generation if same_lineage and serving else 0)
        if not same_lineage and serving is not None:
            writer.tally.before = all_records(serving)
        writer.apply_plan(plan)
        job = _job(settings, plan, embedder, reusable_keys(serving, same_lineage, full, writer))
        results = (engine or LocalEngine()).process(job, lambda: embedder or make_embedder(settings))
        for result in _progress(results, len(job.files), progress, on_progress):
            writer.add(result)
        counts = writer.finish(serving.counts if same_lineage and serving else {})
        build_dir, compaction = _publish(settings, target, counts, serving if same_lineage else None, embedder,
                                         writer.commit, compact)
    except BaseException:
        writer.rollback()
        target.abort()
        raise
    skipped, warnings = skipped_files(target.connection, target.generation)
    _checkpoint(target.connection)
    target.connection.close()
    publish.remove_unreferenced(index_dir, *_kept(index_dir, build_dir, serving.build_dir if serving else None))
    compacting.vacuum_if_needed(target.data_dir / target.tables_name, compaction)
    tally = writer.tally
    report = _report(settings, counts, tally, skipped, tuple(warnings) + tuple(notes), started)
    if compact or compaction.happened():
        report = replace(report, compacted=compaction.to_json(), seconds=time.monotonic() - started)
    return report


def _checkpoint(connection: sqlite3.Connection) -> None:
    """Copy the WAL into the tables file and truncate it (else a full build leaves a WAL as large as the
    tables); readers in the middle of a query make it a partial checkpoint, which is fine."""
    with contextlib.suppress(sqlite3.OperationalError):  # busy: the next build checkpoints
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _restat(connection: sqlite3.Connection, plan: Plan) -> None:
    """Files touched but unchanged: store their new stat, so the next build does not hash them again. In place:
    a stat is no part of what a generation shows."""
    if plan.restat:
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                                   [(size, mtime, row) for row, size, mtime in plan.restat])


def _report(settings, counts, tally, skipped, warnings, started) -> BuildReport:
    return BuildReport(
        articles=int(counts["articles"]),
        chunks=int(counts["chunks"]),
        added=tally.added if tally else 0,
        updated=tally.updated if tally else 0,
        removed=tally.removed if tally else 0,
        skipped_files=tuple(skipped),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
        embedded=tally.embedded if tally else 0,
        published=tally is not None,
        index_dir=str(settings.resolved_index_dir()),
    )


# ---------------------------------------------------------------- processing


def _job(settings, plan: Plan, embedder: Embedder | None, reuse: frozenset[str]) -> EngineJob:
    configured = model_description(settings)[0]
    if embedder is not None and embedder.name != configured:  # another model than the settings name
        counter = HASHING_COUNTER if isinstance(embedder, HashingEmbedder) else EMBEDDER_COUNTER
        window = getattr(embedder, "max_tokens", settings.chunk_max_tokens)
    elif settings.embedding_backend == "hashing":
        counter, window = HASHING_COUNTER, HashingEmbedder().max_tokens
    else:
        counter, window = str(settings.embedding_model), _model_window(settings.embedding_model)
    spec = ChunkingSpec(
        max_tokens=min(settings.chunk_max_tokens, window or settings.chunk_max_tokens),
        target_tokens=settings.chunk_target_tokens,
        overlap_sentences=settings.chunk_overlap_sentences,
        max_file_bytes=settings.max_file_bytes,
        counter=counter,
    )
    name = embedder.name if embedder else model_description(settings)[0]
    return EngineJob(plan.tasks, spec, reuse, name, embed_batch=max(settings.embed_batch_size, 64))


def _model_window(model_dir) -> int | None:
    """The model's max_seq_length from its sentence-transformers config, without loading it."""
    try:
        config = json.loads((Path(model_dir) / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("max_seq_length")
    return int(value) if isinstance(value, int) else None


def _progress(results, total: int, progress: bool, on_progress: ProgressCallback | None):
    from tqdm import tqdm

    with tqdm(total=total, desc="indexing", unit="file", disable=not progress, file=sys.stderr, leave=False) as bar:
        if on_progress:
            on_progress(0, total)
        for done, result in enumerate(results, start=1):
            bar.update(1)
            if on_progress:
                on_progress(done, total)
            yield result


# ---------------------------------------------------------------- where the new generation goes


@dataclass
class _Target:
    connection: sqlite3.Connection
    generation: int
    segment: SegmentWriter
    tables_name: str
    fresh: bool  # a new lineage (its tables file is deleted if the build fails)
    data_dir: Path

    @classmethod
    def open(cls, index_dir: Path, serving: Serving | None, model_dim: int | None) -> _Target:
        data_dir = index_dir / publish.DATA
        data_dir.mkdir(exist_ok=True)
        if serving is None:
            name = publish.new_name() + ".sqlite"
            connection = tables.connect(data_dir / name, write=True)
            generation, first = 1, 0
        else:
            name = serving.manifest["tables"]
            connection = serving.connection
            generation = int(connection.execute("SELECT MAX(gen) FROM generations").fetchone()[0] or 0) + 1
            first = int(connection.execute("SELECT MAX(id) FROM chunks").fetchone()[0] or -1) + 1
            # Compaction may forget the rows of the newest slots: never hand a slot out twice.
            first = max(first, int(connection.execute("SELECT MAX(slots) FROM generations").fetchone()[0] or 0))
        dim = int(model_dim or 0) if serving is None else int(serving.manifest["model"]["dim"])
        segment = SegmentWriter(data_dir / f"{name.removesuffix('.sqlite')}-{publish.new_name()}.f16", dim, first)
        return cls(connection, generation, segment, name, serving is None, data_dir)

    def abort(self) -> None:
        self.segment.abort()
        if self.fresh:
            self.connection.close()
            for suffix in ("", "-wal", "-shm"):
                (self.data_dir / f"{self.tables_name}{suffix}").unlink(missing_ok=True)


def _publish(settings, target: _Target, counts, serving: Serving | None, embedder: Embedder | None,
             commit: Callable[[], None], compact: bool = False) -> tuple[Path, compacting.Compaction]:
    """Merges, vector index, manifest, commit of the tables, swap: the commit is the last step before the swap."""
    index_dir = settings.resolved_index_dir()
    segment = target.segment.close()
    segments = manifests.segments_of(serving.manifest) if serving else []
    if segment.count:
        segments.append(segment)
    else:
        (target.data_dir / segment.file).unlink(missing_ok=True)
    dim = target.segment.dim or (embedder.dim if embedder else 0) or _fallback_dim(settings, serving)
    segments, compaction = compacting.compact_segments(
        target.connection, target.generation, serving.generation - 1 if serving else 0, target.data_dir,
        target.tables_name.removesuffix(".sqlite"), segments, dim, force=compact,
        protected=compacting.protected_manifests(index_dir, serving.manifest if serving else None))
    hidden = tables.hidden_slots(target.connection, target.generation)
    store = VectorStore(target.data_dir, segments, dim, hidden)
    vector_index = _vector_index(settings, counts, store, serving, target)
    model_name = embedder.name if embedder else model_description(settings)[0]
    manifest = {
        "format_version": manifests.FORMAT_VERSION,
        "model": {"name": model_name, "dim": dim},
        "chunker": manifests.chunker_config(settings),
        "dedup": {"threshold": settings.near_duplicate_threshold},
        "tables": target.tables_name,
        "generation": target.generation,
        "counts": counts,
        "vectors": {"dtype": "float16", "segments": [item.to_json() for item in segments]},
        "vector_index": vector_index,
        "index_files": _index_files(vector_index),
        "archive": str(Path(settings.archive_dir).resolve()),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    build_dir = publish.new_build_dir(index_dir)
    try:
        publish.write_durably(build_dir / publish.MANIFEST, json.dumps(manifest, indent=1))
        publish.publish(index_dir, build_dir, before_swap=commit)
    except BaseException:
        import shutil

        shutil.rmtree(build_dir, ignore_errors=True)
        for name in compaction.new_files:
            (target.data_dir / name).unlink(missing_ok=True)
        raise
    return build_dir, compaction


def _fallback_dim(settings, serving: Serving | None) -> int:
    if serving is not None:
        return int(serving.manifest["model"]["dim"])
    described = model_description(settings)[1]
    return described if described is not None else make_embedder(settings).dim


def _vector_kind(settings, counts: dict[str, int]) -> str:
    return IVF if counts["chunks"] > settings.approximate_above else FLAT


def _kind(serving: Serving) -> str:
    return (serving.manifest.get("vector_index") or {}).get("kind", FLAT)


def _vector_index(settings, counts, store: VectorStore, serving: Serving | None, target: _Target) -> dict[str, Any]:
    if _vector_kind(settings, counts) == FLAT:
        return {"kind": FLAT, "covers": 0}
    previous = (serving.manifest.get("vector_index") or {}) if serving else {}
    covers = int(previous.get("covers", 0))
    if previous.get("kind") == IVF and counts["slots"] - covers <= max(RETRAIN_TAIL, covers // 10):
        return previous  # the new vectors are searched exactly beside it until the tail grows
    name = f"{target.tables_name.removesuffix('.sqlite')}-ann-{publish.new_name()}.faiss"
    entry = train_ivf(store, target.data_dir / name)
    from index.vectors import segment_sha256

    entry["sha256"] = segment_sha256(target.data_dir / name)
    return entry


def _index_files(vector_index: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if not vector_index.get("file"):
        return {}
    return {vector_index["file"]: {"bytes": vector_index["bytes"], "sha256": vector_index["sha256"]}}


def _kept(index_dir: Path, build_dir: Path, previous: Path | None = None) -> tuple[list[Path], set[str]]:
    """Builds to keep and the data files they name."""
    kept = publish.kept_builds(index_dir, build_dir, previous)
    referenced: set[str] = set()
    for folder in kept:
        try:
            manifest = json.loads((folder / publish.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        referenced.add(str(manifest.get("tables")))
        referenced.update(item.file for item in manifests.segments_of(manifest))
        referenced.update(item.ids for item in manifests.segments_of(manifest) if item.ids)
        referenced.update((manifest.get("index_files") or {}).keys())
    return kept, referenced


def archive_changed(settings) -> bool:
    """True when the archive's files differ from those the serving index was built from (or no index)."""
    index_dir = settings.resolved_index_dir()
    build_dir = publish.resolve_build_dir(index_dir)
    if build_dir is None:
        return True
    try:
        manifest = manifests.read_manifest(build_dir, settings)
        connection = tables.connect(index_dir / publish.DATA / str(manifest.get("tables")), write=False)
    except (ArchiveError, sqlite3.Error):
        return True
    try:
        stored = stored_files(connection, int(manifest.get("generation") or 0))
        return make_plan(settings.archive_dir, stored, settings.max_file_bytes).changed
    except sqlite3.Error:
        return True
    finally:
        connection.close()
