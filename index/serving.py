"""The serving build as the next build sees it: opened for reuse, or refused with the reason to rebuild.

A build reuses the serving generation's tables (it writes the next generation into them), its vectors (to
copy those of unchanged content) and its file stats (to plan). When the serving index cannot be reused
(another model or chunker, damage, `--verify` finding a bad checksum) the build starts a new lineage and
notes why ("rebuilding in full: ...").
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.records import SkippedFile
from core.errors import IndexCorrupt, IndexMismatch
from index import manifest as manifests
from index import publish, tables
from index.vectors import VectorStore
from index.writer import Reuse, TableWriter


@dataclass
class Serving:
    """The serving build, opened for reuse by the next one."""

    build_dir: Path
    manifest: dict[str, Any]
    connection: sqlite3.Connection  # a write connection to its tables
    generation: int
    counts: dict[str, int]
    vectors: VectorStore



def open_serving(settings, model: tuple[str, int | None], notes: list[SkippedFile], *, verify: bool) -> Serving | None:
    """The serving build when it can be reused; None (with a note saying why) when it must be rebuilt."""
    index_dir = settings.resolved_index_dir()
    build_dir = publish.resolve_build_dir(index_dir)
    if build_dir is None:
        return None
    try:
        manifest = manifests.read_manifest(build_dir, settings)
        manifests.check_compatible(manifest, settings, model_name=model[0], model_dim=model[1])
        manifests.check_files(index_dir, manifest, settings)
        connection = tables.connect(index_dir / publish.DATA / manifest["tables"], write=True)
        generation = int(manifest["generation"])
        counts = tables.generation_counts(connection, generation)
        if counts is None or counts["chunks"] != (manifest.get("counts") or {}).get("chunks"):
            connection.close()
            raise manifests.corrupt(settings, f"index at {build_dir} names a generation its tables do not hold")
        vectors = vector_store(index_dir, manifest, connection, generation)
        serving = Serving(build_dir, manifest, connection, generation, counts, vectors)
        if verify:
            from index.verify import verify_serving

            verify_serving(settings, serving)
    except (IndexMismatch, IndexCorrupt) as error:
        notes.append(SkippedFile(str(index_dir), f"rebuilding in full: {error.reason}"))
        return None
    except sqlite3.DatabaseError as error:
        notes.append(SkippedFile(str(index_dir), f"rebuilding in full: its tables are unreadable ({error})"))
        return None
    return serving


def vector_store(index_dir: Path, manifest: dict[str, Any], connection, generation: int) -> VectorStore:
    return VectorStore(
        index_dir / publish.DATA,
        manifests.segments_of(manifest),
        int(manifest["model"]["dim"] or 0),
        tables.hidden_slots(connection, generation),
        manifest.get("vector_index"),
    )


def all_records(serving: Serving) -> dict[str, str]:
    shown = tables.visible("articles", serving.generation)
    return dict(serving.connection.execute(f"SELECT article_id, record FROM articles WHERE {shown}").fetchall())


def reuse_from(serving: Serving | None, full: bool) -> Reuse | None:
    if serving is None or full:
        return None
    return Reuse(serving.connection, serving.generation, serving.vectors)


def reusable_keys(serving: Serving | None, same_lineage: bool, full: bool, writer: TableWriter) -> frozenset[str]:
    if serving is None or full:
        return frozenset()
    if same_lineage:
        return frozenset(writer.reusable)
    shown = tables.visible("articles", serving.generation)  # a new lineage (other dedup setting) keeps vectors
    return frozenset(row[0] for row in serving.connection.execute(f"SELECT key FROM articles WHERE {shown}"))
