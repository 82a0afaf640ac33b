"""The manifest of a build: what it is made of, what it was built with, and the cheap checks on open.

A manifest is small JSON. It names the tables file and generation the build serves, the vector segments and
vector index (with their sizes and sha256, taken once when written: they are never modified), the counts,
and the model and chunker settings an index must match to serve a query. Opening checks what costs nothing
(the manifest parses, the files it names exist with their sizes, the tables hold its generation with its
counts); `index.verify` re-hashes every byte, on demand and with `build --verify`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BuildCommand, IndexCorrupt, IndexMismatch
from core.text import VERSION as LEXICAL_VERSION
from index import chunk as chunking
from index.publish import DATA, MANIFEST

FORMAT_VERSION = 2


def fix_command(settings, *, full: bool = False) -> BuildCommand:
    return BuildCommand(Path(settings.archive_dir), settings.resolved_index_dir(), full=full)


def corrupt(settings, reason: str) -> IndexCorrupt:
    return IndexCorrupt(reason, index_dir=settings.resolved_index_dir(), fix=fix_command(settings))


def chunker_config(settings) -> dict[str, int]:
    """The settings that shape chunks and lexical tokens; an index built with others is refused."""
    return {
        "version": chunking.VERSION,
        "max_tokens": settings.chunk_max_tokens,
        "target_tokens": settings.chunk_target_tokens,
        "overlap_sentences": settings.chunk_overlap_sentences,
        "lexical_version": LEXICAL_VERSION,
    }


@dataclass(frozen=True)
class Segment:
    """Vectors of slots [first, first + count), float16 rows, in `file` under INDEX_DIR/data.

    A merged segment (index.compact) is sparse: it stands for the slots [first, end) but holds only `count`
    of them, those listed (ascending int64) in its `ids` file, its rows in that order.
    """

    file: str
    first: int
    count: int
    sha256: str
    ids: str = ""
    ids_sha256: str = ""
    end: int = 0

    @property
    def stop(self) -> int:
        """One past the highest slot of the range this segment stands for."""
        return self.end if self.ids else self.first + self.count

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"file": self.file, "first": self.first, "count": self.count, "sha256": self.sha256}
        if self.ids:
            entry.update(ids=self.ids, ids_sha256=self.ids_sha256, end=self.end)
        return entry


def segments_of(manifest: dict[str, Any]) -> list[Segment]:
    return [Segment(**item) for item in (manifest.get("vectors") or {}).get("segments", [])]


def read_manifest(build_dir: Path, settings) -> dict[str, Any]:
    path = build_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise corrupt(settings, f"index at {build_dir} has no {MANIFEST}") from error
    except (OSError, ValueError) as error:
        raise corrupt(settings, f"index manifest {path} is unreadable ({error})") from error
    if not isinstance(manifest, dict):
        raise corrupt(settings, f"index manifest {path} is not a JSON object")
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
    reason = incompatibility(manifest, model_name=model_name, model_dim=model_dim, chunker=chunker_config(settings))
    if reason:
        raise IndexMismatch(
            f"index at {settings.resolved_index_dir()} cannot be used: {reason}",
            index_dir=settings.resolved_index_dir(),
            fix=fix_command(settings, full=True),
        )


def check_files(index_dir: Path, manifest: dict[str, Any], settings) -> None:
    """The cheap check on open: every file the manifest names is there with its recorded size."""
    listed = manifest.get("index_files")
    if not isinstance(listed, dict) or not manifest.get("tables"):
        raise corrupt(settings, f"index manifest in {index_dir} lists no files")
    dim = int((manifest.get("model") or {}).get("dim") or 0)
    sizes = {name: item.get("bytes") for name, item in listed.items()}
    for segment in segments_of(manifest):
        sizes[segment.file] = segment.count * dim * 2
        if segment.ids:
            sizes[segment.ids] = segment.count * 8
    sizes[manifest["tables"]] = None  # grows with every update: presence only
    for name, expected in sizes.items():
        path = index_dir / DATA / name
        if not path.is_file():
            raise corrupt(settings, f"index at {index_dir} is damaged: {name} is missing")
        if expected is not None and path.stat().st_size != expected:
            raise corrupt(settings, f"index at {index_dir} is damaged: {name} has the wrong size")
