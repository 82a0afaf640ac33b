"""Full integrity check of an index, on demand (`build --verify`, `index.verify.verify_index`).

Opening an index checks only what costs nothing (index.manifest.check_files). This re-reads every byte:
the sha256 of each vector segment and of the vector index, SQLite's quick_check, FTS5's own integrity check,
and the counts of the generation against its rows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from index import manifest as manifests
from index import publish, tables
from index.vectors import segment_sha256


def verify_index(settings) -> dict[str, Any]:
    """Verify the serving index; returns its counts. Raises IndexMissing, IndexMismatch or IndexCorrupt."""
    from index.search import Searcher

    searcher = Searcher.open(settings)  # the cheap checks, and a manifest known to match the settings
    searcher.close()
    try:
        connection = tables.connect(settings.resolved_index_dir() / publish.DATA / searcher.manifest["tables"],
                                    write=True)
    except sqlite3.DatabaseError as error:
        raise manifests.corrupt(settings, f"index tables are damaged ({error})") from error
    try:
        _verify(settings, searcher.manifest, connection, searcher.generation)
    finally:
        connection.close()
    return dict(searcher.manifest["counts"])


def verify_serving(settings, serving) -> None:
    """The same checks on a build's view of the serving index (raises IndexCorrupt)."""
    _verify(settings, serving.manifest, serving.connection, serving.generation)


def _verify(settings, manifest: dict[str, Any], connection: sqlite3.Connection, generation: int) -> None:
    data = settings.resolved_index_dir() / publish.DATA
    for segment in manifests.segments_of(manifest):
        if segment_sha256(data / segment.file) != segment.sha256:
            raise manifests.corrupt(settings, f"index vectors {segment.file} fail their checksum")
        if segment.ids and segment_sha256(data / segment.ids) != segment.ids_sha256:
            raise manifests.corrupt(settings, f"index vector ids {segment.ids} fail their checksum")
    for name, expected in (manifest.get("index_files") or {}).items():
        if segment_sha256(data / name) != expected.get("sha256"):
            raise manifests.corrupt(settings, f"index file {name} fails its checksum")
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        connection.execute("INSERT INTO lexical(lexical) VALUES ('integrity-check')")
        shown_articles = connection.execute(
            f"SELECT COUNT(*) FROM articles a WHERE {tables.visible('a', generation)}").fetchone()[0]
        shown_chunks = connection.execute(
            f"SELECT COUNT(*) FROM chunks c WHERE {tables.visible('c', generation)}").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise manifests.corrupt(settings, f"index tables are damaged ({error})") from error
    if problems != ["ok"]:
        raise manifests.corrupt(settings, f"index tables are damaged ({'; '.join(problems[:3])})")
    counts = manifest.get("counts") or {}
    if (shown_articles, shown_chunks) != (counts.get("articles"), counts.get("chunks")):
        raise manifests.corrupt(settings, f"index tables hold {shown_articles} articles and {shown_chunks} chunks, "
                                          f"the manifest counts {counts.get('articles')} and {counts.get('chunks')}")
