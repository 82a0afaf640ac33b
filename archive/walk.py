"""The one archive walker: which files an archive holds, by relative path, with their size and mtime.

Used by the scan (`archive.load`), the index build's change detection and `archive_changed`. The rules
live here only: hidden entries (a leading dot) are ignored; a symlink is followed only when it resolves
inside the archive, and a symlink to a folder is never followed (its files are read where they really
are, and following it could loop); anything else that is not a regular file is skipped with a reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from archive.records import SkippedFile


@dataclass(frozen=True)
class ArchiveFile:
    """A regular file of the archive (a symlink inside the archive stands for its target)."""

    source: str  # path relative to the archive root, forward slashes
    path: Path  # where to read it
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ArchiveWalk:
    files: tuple[ArchiveFile, ...]  # sorted by source
    skipped: tuple[SkippedFile, ...]  # entries that are not readable files, with the reason


def walk_archive(root: Path) -> ArchiveWalk:
    """Every file under `root`, sorted by relative path; see the module docstring for the rules."""
    root = Path(root)
    real_root = root.resolve()
    files: list[ArchiveFile] = []
    skipped: list[SkippedFile] = []
    _visit(root, "", real_root, files, skipped)
    files.sort(key=lambda item: item.source)
    skipped.sort(key=lambda item: item.source)
    return ArchiveWalk(tuple(files), tuple(skipped))


def _visit(directory: Path, prefix: str, real_root: Path, files: list[ArchiveFile], skipped: list[SkippedFile]) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as error:
        skipped.append(SkippedFile(prefix.rstrip("/") or ".", f"cannot list folder: {error.strerror or error}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        relative = f"{prefix}{entry.name}"
        try:
            if entry.is_symlink():
                problem = _symlink_problem(Path(entry.path), real_root)
                if problem is not None:
                    if problem:
                        skipped.append(SkippedFile(relative, problem))
                    continue
            if entry.is_dir(follow_symlinks=False):
                _visit(Path(entry.path), f"{relative}/", real_root, files, skipped)
            elif entry.is_file():
                status = entry.stat()  # follows a symlink inside the archive: its target's size and mtime
                files.append(ArchiveFile(relative, Path(entry.path), status.st_size, status.st_mtime_ns))
            else:
                skipped.append(SkippedFile(relative, "not a regular file"))
        except OSError as error:
            skipped.append(SkippedFile(relative, f"cannot read file: {error.strerror or error}"))


def _symlink_problem(path: Path, real_root: Path) -> str | None:
    """None for a link to a file inside the archive; "" for a link to a folder (silently not followed);
    otherwise why the link is skipped."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken symlink"
    if not target.is_relative_to(real_root):
        return "symlink points outside the archive"
    if target.is_dir():
        return ""
    return None
