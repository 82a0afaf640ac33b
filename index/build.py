"""Building the index: incremental by content, atomic by directory swap, serialised by a lock.

Articles whose title and paragraphs are unchanged keep their chunks and vectors (read back from the
previous FAISS file); only new or edited articles are chunked and embedded, so the model is not even
loaded when nothing needs embedding. An archive that did not change at all leaves the index untouched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from archive.records import ArchiveScan, Article, SkippedFile
from core.errors import ArchiveError, ArchiveNotFound, IndexCorrupt, IndexMismatch
from index import store
from index.chunk import chunk_article
from index.embed import Embedder, make_embedder, model_description
from index.lexical import LexicalIndex
from index.records import Chunk
from index.vectors import FaissStore, choose_kind

ProgressCallback = Callable[[int, int], None]


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

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "skipped_files": [{"source": item.source, "reason": item.reason} for item in self.skipped_files],
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        changes = f"{self.added} added, {self.updated} updated, {self.removed} removed"
        work = f"{self.embedded} chunks embedded" if self.published else "index unchanged"
        skipped = f"; {len(self.skipped_files)} files skipped" if self.skipped_files else ""
        return (
            f"Indexed {self.articles} articles as {self.chunks} chunks ({changes}; {work}{skipped}) "
            f"in {self.seconds:.1f}s -> {self.index_dir}"
        )


@dataclass
class _Previous:
    """The serving build, as far as a new build can reuse it."""

    build_dir: Path
    manifest: dict[str, Any]
    _chunks: list[Chunk] | None = None
    _store: FaissStore | None = None
    _keys: list[str] = field(default_factory=list)

    def chunks_by_key(self) -> dict[str, list[tuple[Chunk, int]]]:
        """Stored chunks (with their vector ids) grouped by the content key of their article."""
        if self._chunks is None:
            rows = list(store.read_jsonl(self.build_dir / store.CHUNKS))
            self._chunks = [store.chunk_from_row(row) for row in rows]
            self._keys = [row["key"] for row in rows]
        grouped: dict[str, list[tuple[Chunk, int]]] = {}
        seen_article: dict[str, str] = {}
        for vector_id, (chunk, key) in enumerate(zip(self._chunks, self._keys, strict=True)):
            if seen_article.setdefault(key, chunk.article_id) == chunk.article_id:
                grouped.setdefault(key, []).append((chunk, vector_id))
        return grouped

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if self._store is None:
            self._store = FaissStore.load(self.build_dir / store.VECTORS)
        return self._store.vectors(np.asarray(ids, dtype=np.int64))


def _load_previous(
    index_dir: Path, settings, model_name: str, model_dim: int | None, notes: list[SkippedFile]
) -> _Previous | None:
    build_dir = store.resolve_build_dir(index_dir)
    if build_dir is None:
        return None
    try:
        manifest = store.read_manifest(build_dir, settings)
        store.check_compatible(manifest, settings, model_name=model_name, model_dim=model_dim)
        store.verify_files(build_dir, manifest, settings)
    except (IndexMismatch, IndexCorrupt) as error:
        notes.append(SkippedFile(str(index_dir), f"rebuilding in full: {str(error).split('; rebuild')[0]}"))
        return None
    return _Previous(build_dir, manifest)


def _remap(template: Chunk, article: Article) -> Chunk:
    """A stored chunk of identical text, moved onto `article` (its id, source, lines, date may differ)."""
    span = template.paragraph_span or (0, len(article.paragraphs) - 1)
    paragraphs = article.paragraphs[span[0] : span[1] + 1]
    return replace(
        template,
        id=f"{article.id}:{template.ordinal}",
        article_id=article.id,
        source=article.source,
        title=article.title,
        start_line=min(p.start_line for p in paragraphs),
        end_line=max(p.end_line for p in paragraphs),
        date=article.date,
        outlet=article.outlet,
    )


def _embed(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int,
    progress: bool,
    on_progress: ProgressCallback | None,
) -> np.ndarray:
    from tqdm import tqdm

    parts = []
    with tqdm(
        total=len(texts), desc="embedding", unit="chunk", disable=not progress, file=sys.stderr, leave=False
    ) as bar:
        if on_progress:
            on_progress(0, len(texts))
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            parts.append(np.asarray(embedder.embed_documents(batch), dtype=np.float32))
            bar.update(len(batch))
            if on_progress:
                on_progress(start + len(batch), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _article_digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def build_index(
    settings,
    *,
    full: bool = False,
    progress: bool = True,
    lock_timeout: float = 0.0,
    embedder: Embedder | None = None,
    on_progress: ProgressCallback | None = None,
) -> BuildReport:
    """Build or incrementally update the index of `settings.archive_dir` in `settings.resolved_index_dir()`.

    Raises IndexLocked when another build holds the lock past `lock_timeout` seconds, ArchiveNotFound,
    ModelUnavailable. On any failure the previous index keeps serving.
    """
    from archive.load import scan_archive

    started = time.monotonic()
    if not Path(settings.archive_dir).is_dir():  # say so before creating an index folder for nothing
        raise ArchiveNotFound(f"archive folder not found: {settings.archive_dir}")
    index_dir = settings.resolved_index_dir()
    index_dir.mkdir(parents=True, exist_ok=True)
    with store.BuildLock(index_dir, lock_timeout):
        # Checksums first: a file edited while the build runs then reads as changed next time, never as indexed.
        files = store.archive_checksums(settings.archive_dir, settings.max_file_bytes)
        scan: ArchiveScan = scan_archive(
            settings.archive_dir,
            max_file_bytes=settings.max_file_bytes,
            near_duplicate_threshold=settings.near_duplicate_threshold,
        )
        model_name, model_dim = (embedder.name, embedder.dim) if embedder else model_description(settings)
        notes: list[SkippedFile] = []
        previous = _load_previous(index_dir, settings, model_name, model_dim, notes)

        articles = list(scan.articles)
        digests = {article.id: _article_digest(store.article_row(article)) for article in articles}
        old = (previous.manifest.get("articles") or {}) if previous else {}
        added = [aid for aid in digests if aid not in old]
        removed = [aid for aid in old if aid not in digests]
        updated = [aid for aid in digests if aid in old and (full or old[aid].get("record") != digests[aid])]
        groups = [list(group) for group in scan.duplicate_groups]

        def report(chunks: int, embedded: int, published: bool) -> BuildReport:
            return BuildReport(
                articles=len(articles),
                chunks=chunks,
                added=len(added),
                updated=len(updated),
                removed=len(removed),
                skipped_files=tuple(scan.skipped),
                warnings=tuple(scan.warnings) + tuple(notes),
                seconds=time.monotonic() - started,
                embedded=embedded,
                published=published,
                index_dir=str(index_dir),
            )

        if (
            previous is not None
            and not (full or added or removed or updated)
            and previous.manifest.get("files") == files
            and previous.manifest.get("duplicate_groups") == groups
            and previous.manifest.get("vector_index")
            == _vector_config(settings, previous.manifest["counts"]["chunks"])
        ):
            store.remove_stale_builds(index_dir, current=previous.build_dir)
            return report(int(previous.manifest["counts"]["chunks"]), 0, False)

        keys = {article.id: store.article_key(article) for article in articles}
        reusable = {} if (full or previous is None) else previous.chunks_by_key()
        chunks, chunk_keys, matrix, embedded = _chunks_and_vectors(
            articles, keys, reusable, previous, embedder, settings, progress, on_progress
        )
        model_dim = matrix.shape[1]
        manifest = {
            "format_version": store.FORMAT_VERSION,
            "model": {"name": model_name, "dim": model_dim},
            "chunker": store.chunker_config(settings),
            "counts": {"articles": len(articles), "chunks": len(chunks)},
            "articles": {
                article.id: {
                    "content_hash": article.content_hash,
                    "key": keys[article.id],
                    "record": digests[article.id],
                }
                for article in articles
            },
            "files": files,
            "duplicate_groups": groups,
            "skipped_files": [{"source": item.source, "reason": item.reason} for item in scan.skipped],
            "archive": str(Path(settings.archive_dir).resolve()),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "vector_index": _vector_config(settings, len(chunks)),
        }
        build_dir = _write_build(index_dir, manifest, chunks, chunk_keys, articles, matrix, settings)
        store.remove_stale_builds(
            index_dir, current=build_dir, previous=previous.build_dir if previous else None
        )
        return report(len(chunks), embedded, True)


def _chunks_and_vectors(
    articles: list[Article],
    keys: dict[str, str],
    reusable: dict[str, list[tuple[Chunk, int]]],
    previous: _Previous | None,
    embedder: Embedder | None,
    settings,
    progress: bool,
    on_progress: ProgressCallback | None,
) -> tuple[list[Chunk], list[str], np.ndarray, int]:
    """Chunks of every article (in order), their content keys, their vectors, and how many were embedded.

    Articles whose content key the previous build holds reuse its chunks and vectors; the others (each
    distinct content once) are chunked and embedded now.
    """
    templates: dict[str, list[Chunk]] = {}
    template_vectors: dict[str, np.ndarray] = {}
    fresh: list[Article] = []
    for article in articles:
        key = keys[article.id]
        if key in templates:
            continue
        if key in reusable and previous is not None:
            templates[key] = [chunk for chunk, _ in reusable[key]]
            template_vectors[key] = previous.vectors([vector_id for _, vector_id in reusable[key]])
        else:
            templates[key] = []
            fresh.append(article)

    new_chunks: list[Chunk] = []
    if fresh:
        embedder = embedder or make_embedder(settings)
        window = getattr(embedder, "max_tokens", settings.chunk_max_tokens)
        max_tokens = min(settings.chunk_max_tokens, window)
        for article in fresh:
            templates[keys[article.id]] = chunk_article(
                article,
                embedder.count_tokens,
                max_tokens=max_tokens,
                target_tokens=settings.chunk_target_tokens,
                overlap_sentences=settings.chunk_overlap_sentences,
            )
            new_chunks.extend(templates[keys[article.id]])
        texts = [chunk.embedding_text() for chunk in new_chunks]
        vectors = _embed(embedder, texts, settings.embed_batch_size, progress, on_progress)
        position = 0
        for article in fresh:
            count = len(templates[keys[article.id]])
            template_vectors[keys[article.id]] = vectors[position : position + count]
            position += count

    if embedder is not None:
        dim = embedder.dim
    elif previous is not None:
        dim = int(previous.manifest["model"]["dim"])
    else:  # nothing to embed and nothing to reuse: the model's config fixes the (empty) matrix's width
        described = model_description(settings)[1]
        dim = described if described is not None else make_embedder(settings).dim

    chunks: list[Chunk] = []
    chunk_keys: list[str] = []
    parts: list[np.ndarray] = [np.zeros((0, dim), dtype=np.float32)]
    for article in articles:
        key = keys[article.id]
        chunks.extend(_remap(template, article) for template in templates[key])
        chunk_keys.extend([key] * len(templates[key]))
        parts.append(template_vectors.get(key, parts[0]))
    return chunks, chunk_keys, np.concatenate(parts), len(new_chunks)


def _vector_config(settings, count: int) -> dict[str, Any]:
    kind = choose_kind(count, settings.approximate_above)
    config: dict[str, Any] = {"kind": kind}
    if kind == "hnsw":
        config.update(m=settings.hnsw_m, ef_construction=HNSW_EF_CONSTRUCTION)
    return config


HNSW_EF_CONSTRUCTION = 200


def _write_build(
    index_dir: Path,
    manifest: dict[str, Any],
    chunks: list[Chunk],
    chunk_keys: list[str],
    articles: list[Article],
    matrix: np.ndarray,
    settings,
) -> Path:
    """Write a complete new build beside the serving one, then swap it in; on failure remove it."""
    build_dir = store.new_build_dir(index_dir)
    try:
        kind = manifest["vector_index"]["kind"]
        vectors = FaissStore.create(
            matrix.shape[1],
            kind,
            hnsw_m=settings.hnsw_m,
            ef_construction=HNSW_EF_CONSTRUCTION,
            ef_search=settings.hnsw_ef_search,
        )
        vectors.add(matrix)
        vectors.save(build_dir / store.VECTORS)
        store.write_jsonl(
            build_dir / store.CHUNKS,
            (store.chunk_row(chunk, key) for chunk, key in zip(chunks, chunk_keys, strict=True)),
        )
        store.write_jsonl(build_dir / store.ARTICLES, (store.article_row(article) for article in articles))
        LexicalIndex.build([chunk.embedding_text() for chunk in chunks]).save(build_dir / store.BM25_DIR)
        manifest["index_files"] = store.index_file_table(build_dir)
        # The manifest goes last: a build folder without one is, by construction, incomplete.
        store.write_text(build_dir / store.MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        store.publish(index_dir, build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    return build_dir


def archive_changed(settings) -> bool:
    """True when the archive's files differ from those the serving index was built from (or no index)."""
    build_dir = store.resolve_build_dir(settings.resolved_index_dir())
    if build_dir is None:
        return True
    try:
        manifest = store.read_manifest(build_dir, settings)
    except ArchiveError:
        return True
    return manifest.get("files") != store.archive_checksums(settings.archive_dir, settings.max_file_bytes)
