"""Build the development archive: the 144 web pages and the 5 sample files side by side in one flat folder.

    .venv/bin/python scripts/make_dev_archive.py [DEST] [--shared DIR]

DEST defaults to var/dev-archive (git ignores var/). The shared folder is found next to the repository
(repo/../shared) unless --shared names it. Copies <shared>/corpus-web/*.html (its README.md is skipped) and
<shared>/corpus/*.txt; the questions of tests/eval/web_questions.jsonl name these files by their bare names.
Idempotent: files already present with the same bytes are left alone, changed ones are rewritten, and files in
DEST that are not part of the archive are left untouched (they are reported, not deleted).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "var" / "dev-archive"
DEFAULT_SHARED = ROOT.parent / "shared"
# (subfolder of the shared folder, glob of the files taken from it)
SOURCES = (("corpus-web", "*.html"), ("corpus", "*.txt"))


def archive_files(shared: Path) -> list[Path]:
    """The files of the development archive, or SystemExit with one line when the shared folder is incomplete."""
    files: list[Path] = []
    for sub, pattern in SOURCES:
        folder = shared / sub
        if not folder.is_dir():
            raise SystemExit(f"error: {folder} is missing; pass --shared DIR (the folder with corpus-web/ and corpus/)")
        found = sorted(folder.glob(pattern))
        if not found:
            raise SystemExit(f"error: no {pattern} files in {folder}")
        files.extend(found)
    names = [f.name for f in files]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise SystemExit(f"error: file names occur twice in the shared folders: {', '.join(clashes)}")
    return files


def copy_archive(files: list[Path], dest: Path) -> tuple[int, int]:
    """Copy files into dest; returns (copied, unchanged)."""
    dest.mkdir(parents=True, exist_ok=True)
    copied = unchanged = 0
    for src in files:
        target = dest / src.name
        if target.is_file() and filecmp.cmp(src, target, shallow=False):
            unchanged += 1
            continue
        shutil.copyfile(src, target)
        copied += 1
    return copied, unchanged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST, help="target (default var/dev-archive)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared folder (default ../shared)")
    args = parser.parse_args(argv)
    files = archive_files(args.shared)
    copied, unchanged = copy_archive(files, args.dest)
    wanted = {f.name for f in files}
    extra = sorted(p.name for p in args.dest.iterdir() if p.name not in wanted)
    print(f"{args.dest}: {len(files)} files ({copied} copied, {unchanged} unchanged)")
    if extra:
        print(f"note: {len(extra)} other file(s) in {args.dest} left as they are: {', '.join(extra[:5])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
