"""The index directory on disk: layout, manifest, tables, checksums, the build lock and the atomic swap.

    INDEX_DIR/
      current -> builds/<stamp>      the serving build; replaced atomically by os.replace of a new symlink
      builds/<stamp>/                 manifest.json, vectors.faiss, bm25/, chunks.jsonl, articles.jsonl
      build.lock                      fcntl.flock'ed by the one running build

A build writes a fresh builds/<stamp>, fsyncs it, then swaps `current`; readers resolve `current` once and
read only that folder, so they never see a half-written index and a crash leaves the old one serving.
Nothing here is pickled: JSON, JSON lines, .npy without pickle, and faiss.write_index.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from archive.records import Article, Paragraph
from core import text as core_text
from core.errors import IndexCorrupt, IndexLocked, IndexMismatch
from index import chunk as chunking
from index.records import Chunk

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
ARTICLES = "articles.jsonl"
BM25_DIR = "bm25"
CURRENT = "current"
BUILDS = "builds"
LOCK = "build.lock"
KEEP_PREVIOUS = 1  # older builds kept for readers that resolved `current` just before a swap


# ---------------------------------------------------------------- locating and checking an index


def resolve_build_dir(index_dir: Path) -> Path | None:
    """The folder of the serving build, or None when no index was built here."""
    link = index_dir / CURRENT
    if link.is_symlink():
        return (index_dir / os.readlink(link)).resolve()
    if (index_dir / MANIFEST).is_file():  # a flat index folder (copied by hand) is read as is
        return index_dir
    return None


def rebuild_command(settings, *, full: bool = False) -> str:
    archive = settings.archive_dir
    command = f"archive-qa build --archive {archive} --index {settings.resolved_index_dir()}"
    return f"`{command} --full`" if full else f"`{command}`"


def chunker_config(settings) -> dict[str, int]:
    """The settings that shape chunks and lexical tokens; an index built with others is refused."""
    return {
        "version": chunking.VERSION,
        "max_tokens": settings.chunk_max_tokens,
        "target_tokens": settings.chunk_target_tokens,
        "overlap_sentences": settings.chunk_overlap_sentences,
        "lexical_version": core_text.VERSION,
    }


def read_manifest(build_dir: Path, settings) -> dict[str, Any]:
    path = build_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise IndexCorrupt(
            f"index at {build_dir} has no {MANIFEST}; rebuild it with {rebuild_command(settings)}"
        ) from error
    except (OSError, ValueError) as error:
        raise IndexCorrupt(
            f"index manifest {path} is unreadable ({error}); rebuild it with {rebuild_command(settings)}"
        ) from error
    if not isinstance(manifest, dict):
        raise IndexCorrupt(
            f"index manifest {path} is not a JSON object; rebuild it with {rebuild_command(settings)}"
        )
    return manifest


def incompatibility(
    manifest: dict[str, Any], *, model_name: str, model_dim: int | None, chunker: dict[str, int]
) -> str | None:
    """Why an index cannot serve these settings, or None when it can."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"it has format version {manifest.get('format_version')}, this program reads {FORMAT_VERSION}"
    model = manifest.get("model") or {}
    if model.get("name") != model_name or (model_dim is not None and model.get("dim") != model_dim):
        return (
            f"it was built with the model {model.get('name')} ({model.get('dim')} dimensions) but the "
            f"settings ask for {model_name} ({model_dim if model_dim is not None else '?'} dimensions)"
        )
    built = manifest.get("chunker") or {}
    changed = sorted(key for key in chunker if built.get(key) != chunker[key])
    if changed:
        described = ", ".join(f"{key} {built.get(key)} -> {chunker[key]}" for key in changed)
        return f"it was built with other chunker settings ({described})"
    return None


def check_compatible(manifest: dict[str, Any], settings, *, model_name: str, model_dim: int | None) -> None:
    reason = incompatibility(
        manifest, model_name=model_name, model_dim=model_dim, chunker=chunker_config(settings)
    )
    if reason:
        raise IndexMismatch(
            f"index at {settings.resolved_index_dir()} cannot be used: {reason}; "
            f"rebuild it with {rebuild_command(settings, full=True)}"
        )


def verify_files(build_dir: Path, manifest: dict[str, Any], settings) -> None:
    """Every file the manifest lists is present with its size and checksum."""
    listed = manifest.get("index_files")
    if not isinstance(listed, dict) or not listed:
        raise IndexCorrupt(
            f"index manifest in {build_dir} lists no files; rebuild it with {rebuild_command(settings)}"
        )
    for name, expected in listed.items():
        path = build_dir / name
        problem = None
        if not path.is_file():
            problem = f"{name} is missing"
        elif path.stat().st_size != expected.get("bytes"):
            problem = f"{name} has the wrong size"
        elif file_sha256(path) != expected.get("sha256"):
            problem = f"{name} fails its checksum"
        if problem:
            raise IndexCorrupt(
                f"index at {build_dir} is damaged: {problem}; rebuild it with {rebuild_command(settings)}"
            )


# ---------------------------------------------------------------- files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def index_file_table(build_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every file of a build (manifest excluded), fsynced on the way."""
    table: dict[str, dict[str, Any]] = {}
    for path in sorted(build_dir.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            fsync_path(path)
            table[path.relative_to(build_dir).as_posix()] = {
                "bytes": path.stat().st_size,
                "sha256": file_sha256(path),
            }
    return table


def archive_checksums(archive_dir: Path, max_file_bytes: int) -> dict[str, str]:
    """sha256 of every file under the archive (hidden ones excluded), keyed by relative path.

    Symlinks to files inside the archive are hashed like those files; others are recorded by target and
    never followed (they may point outside the archive). Files larger than `max_file_bytes` are recorded
    by size and modification time, since reading them is what the limit avoids.
    """
    table: dict[str, str] = {}
    root = Path(archive_dir)
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            key = path.relative_to(root).as_posix()
            try:
                if path.is_symlink():
                    target = path.resolve()
                    if not (target.is_file() and target.is_relative_to(root.resolve())):
                        table[key] = f"symlink:{os.readlink(path)}"
                        continue
                    path = target  # a link inside the archive is read like the file it points to
                status = path.stat()
                if status.st_size > max_file_bytes:
                    table[key] = f"large:{status.st_size}:{status.st_mtime_ns}"
                else:
                    table[key] = file_sha256(path)
            except OSError as error:
                table[key] = f"unreadable:{error.errno}"
    return table


# ---------------------------------------------------------------- records <-> JSON rows


def chunk_row(chunk: Chunk, key: str) -> dict[str, Any]:
    return {
        "id": chunk.id,
        "article_id": chunk.article_id,
        "ordinal": chunk.ordinal,
        "source": chunk.source,
        "title": chunk.title,
        "text": chunk.text,
        "lines": [chunk.start_line, chunk.end_line],
        "date": chunk.date,
        "outlet": chunk.outlet,
        "paragraphs": list(chunk.paragraph_span) if chunk.paragraph_span else None,
        "key": key,
    }


def chunk_from_row(row: dict[str, Any]) -> Chunk:
    return Chunk(
        id=row["id"],
        article_id=row["article_id"],
        ordinal=int(row["ordinal"]),
        source=row["source"],
        title=row["title"],
        text=row["text"],
        start_line=int(row["lines"][0]),
        end_line=int(row["lines"][1]),
        date=row.get("date", ""),
        outlet=row.get("outlet", ""),
        paragraph_span=tuple(row["paragraphs"]) if row.get("paragraphs") else None,
    )


def article_row(article: Article) -> dict[str, Any]:
    row = asdict(article)
    row["paragraphs"] = [asdict(paragraph) for paragraph in article.paragraphs]
    return row


def article_from_row(row: dict[str, Any]) -> Article:
    paragraphs = tuple(Paragraph(**paragraph) for paragraph in row["paragraphs"])
    return Article(**{**row, "paragraphs": paragraphs})


def article_key(article: Article) -> str:
    """What the chunks of an article depend on: its title and paragraph texts (not its lines or source)."""
    payload = json.dumps(
        [article.title, [[p.text, p.is_heading] for p in article.paragraphs]], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- lock and atomic swap


class BuildLock:
    """An exclusive fcntl.flock on INDEX_DIR/build.lock, waited for up to `timeout` seconds."""

    def __init__(self, index_dir: Path, timeout: float = 0.0) -> None:
        self.path = index_dir / LOCK
        self.timeout = max(timeout, 0.0)
        self._handle: IO[str] | None = None

    def __enter__(self) -> BuildLock:
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip()
                    handle.close()
                    waited = f" after waiting {self.timeout:g}s" if self.timeout else ""
                    raise IndexLocked(
                        f"another build{f' (process {holder})' if holder else ''} is updating "
                        f"{self.path.parent}{waited}; try again when it ends, or pass --wait SECONDS"
                    ) from None
                time.sleep(min(0.1, max(deadline - time.monotonic(), 0.01)))
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def new_build_dir(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    folder = index_dir / BUILDS / f"{stamp}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


def publish(index_dir: Path, build_dir: Path) -> None:
    """Make `build_dir` the serving build in one atomic step (rename of a fresh symlink over `current`)."""
    fsync_path(build_dir)
    fsync_path(build_dir.parent)
    temporary = index_dir / f".{CURRENT}.{os.getpid()}.{secrets.token_hex(4)}"
    os.symlink(os.path.relpath(build_dir, index_dir), temporary)
    try:
        os.replace(temporary, index_dir / CURRENT)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(index_dir)


def remove_stale_builds(index_dir: Path, current: Path, previous: Path | None = None) -> None:
    """Delete crashed halves and old builds, keeping `current` and one previous complete build for readers
    that resolved `current` just before the swap. Call only while holding the lock."""
    builds = index_dir / BUILDS
    if not builds.is_dir():
        return
    kept = {current.resolve()}
    others = [folder for folder in builds.iterdir() if folder.resolve() not in kept]
    if previous is not None:
        kept.add(previous.resolve())
    else:
        complete = [folder for folder in others if (folder / MANIFEST).is_file()]
        kept.update(
            folder.resolve() for folder in sorted(complete, key=lambda f: f.stat().st_mtime)[-KEEP_PREVIOUS:]
        )
    for folder in others:
        if folder.resolve() not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    for leftover in index_dir.glob(f".{CURRENT}.*"):
        leftover.unlink(missing_ok=True)
