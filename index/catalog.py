"""What an index holds, read from its tables: the articles of the serving build (`archive-qa articles --index`).

The tables keep every article whole (its title, outlet, date, caption and paragraphs with their raw-file
lines, index.tables), so the listing is the archive scan's as it was when the index was built, whatever the
archive folder holds now. Nothing is searched: the model and chunker the index was built with need not
match the settings, as they must for `Searcher.open`; the index must exist, be readable and consistent,
and come from the archive the settings name.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.records import Article, SkippedFile
from core.errors import IndexMismatch, IndexMissing
from index import manifest as manifests
from index import publish, tables
from index.search import Searcher
from index.writer import skipped_files


@dataclass(frozen=True)
class IndexListing:
    """The serving build's articles in archive order, their near-duplicates, and the files it skipped."""

    articles: tuple[Article, ...]
    duplicate_groups: tuple[tuple[str, ...], ...]  # article ids, the one shown first leading
    skipped: tuple[SkippedFile, ...]
    warnings: tuple[SkippedFile, ...]
    archive: str  # the archive folder the index was built from

    def also_in(self, article_id: str) -> tuple[str, ...]:
        """Ids of the other articles in the same near-duplicate group (as ArchiveScan.also_in)."""
        for group in self.duplicate_groups:
            if article_id in group:
                return tuple(other for other in group if other != article_id)
        return ()


def list_index(settings) -> IndexListing:
    """The articles of the index at `settings.resolved_index_dir()`.

    Raises IndexMissing (no index there), IndexCorrupt (unreadable or inconsistent), IndexMismatch (another
    format version, or built from another archive than `settings.archive_dir`).
    """
    build_dir, manifest, connection = _connect(settings)
    try:
        skipped, warnings = skipped_files(connection, int(manifest["generation"]))
        searcher = Searcher(settings, build_dir, manifest, connection)
        return IndexListing(tuple(searcher.articles()), tuple(searcher.duplicate_groups()), tuple(skipped),
                            tuple(warnings), str(manifest.get("archive") or ""))
    except sqlite3.DatabaseError as error:
        raise manifests.corrupt(settings, f"index at {build_dir} is unreadable ({error})") from error
    finally:
        connection.close()


def _connect(settings) -> tuple[Path, dict[str, Any], sqlite3.Connection]:
    """The serving build's folder, manifest and tables (read-only), after the checks listing needs."""
    index_dir = settings.resolved_index_dir()
    build_dir = publish.resolve_build_dir(index_dir)
    if build_dir is None:
        raise IndexMissing(f"no index at {index_dir}", index_dir=index_dir, fix=manifests.fix_command(settings))
    if not build_dir.is_dir():
        raise manifests.corrupt(settings, f"index at {index_dir} points to a missing build")
    manifest = manifests.read_manifest(build_dir, settings)
    if manifest.get("format_version") != manifests.FORMAT_VERSION:
        raise IndexMismatch(f"index at {index_dir} has format version {manifest.get('format_version')}, this "
                            f"program reads {manifests.FORMAT_VERSION}", index_dir=index_dir,
                            fix=manifests.fix_command(settings, full=True))
    archive = str(Path(settings.archive_dir).resolve())
    built_from = manifest.get("archive")
    if built_from and built_from != archive:
        raise IndexMismatch(f"index at {index_dir} was built from the archive {built_from}, not {archive}; "
                            f"pass --archive {built_from} to list it", index_dir=index_dir)
    connection: sqlite3.Connection | None = None
    try:
        connection = tables.connect(index_dir / publish.DATA / manifest["tables"], write=False)
        counts = tables.generation_counts(connection, int(manifest["generation"]))
    except (sqlite3.DatabaseError, KeyError, TypeError, ValueError) as error:
        if connection is not None:
            connection.close()
        raise manifests.corrupt(settings, f"index at {build_dir} is unreadable ({error})") from error
    if counts is None or counts != manifest.get("counts"):
        connection.close()
        raise manifests.corrupt(settings, f"index at {build_dir} is inconsistent (its tables do not hold "
                                          f"generation {manifest.get('generation')} as the manifest counts it)")
    return build_dir, manifest, connection
