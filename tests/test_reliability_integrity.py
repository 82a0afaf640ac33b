"""Index integrity: a damaged index file gives one clear error, never a different answer served silently.

Black-box: every data file under the index folder (whatever the layout: manifest, tables, vectors, ...) is
damaged in turn on a fresh copy of a built index: truncated to half, to nothing, extended with garbage, or
edited in place (same size). Then the index is opened and searched (and asked) as a user would.
Accepted outcomes:
- refused: an ArchiveError (IndexCorrupt, ...) whose one_line() is one line; via the CLI, one stderr line;
- served identically to the undamaged index (the damage touched nothing read);
- for an in-place edit only (same size, which the cheap checks on open cannot see), a different result is
  accepted when the on-demand verification (`index.verify.verify_index`, `archive-qa build --verify`)
  refuses the index. A different result that verification does not catch is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from test_reliability_crash import QUERIES, clean_env, cli, run_build, signature, write_archive

from core.errors import ArchiveError
from core.settings import Settings

DAMAGES = ("truncate-half", "truncate-empty", "append-garbage", "edit-25%", "edit-50%", "edit-90%")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("integrity")
    archive = root / "archive"
    write_archive(archive, 40, seed=3)
    assert run_build(archive, root / "pristine").returncode == 0
    return {"root": root, "archive": archive, "pristine": root / "pristine"}


def data_files(index: Path) -> list[str]:
    """Every regular file under the index folder except the build lock (relative paths)."""
    found = []
    for folder, _subfolders, names in os.walk(index):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink() and "lock" not in name:
                found.append(path.relative_to(index).as_posix())
    return sorted(found)


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate-half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncate-empty":
        path.write_bytes(b"")
    elif how == "append-garbage":
        path.write_bytes(data + os.urandom(4096))
    else:  # edit in place: invert a run of 64 bytes at a fraction of the file
        at = min(len(data) - 1, int(len(data) * int(how.split("-")[1].rstrip("%")) / 100))
        edited = bytes(byte ^ 0xFF for byte in data[at : at + 64])
        path.write_bytes(data[:at] + edited + data[at + len(edited) :])


def settings_for(archive: Path, index: Path) -> Settings:
    return Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index)


def answers(settings: Settings) -> list:
    """What a user sees: searches in every mode and an extractive answer."""
    from qa.answer import answer_question

    shown = signature(settings.resolved_index_dir(), settings.archive_dir)
    from index.search import Searcher

    searcher = Searcher.open(settings)
    answer = answer_question(searcher, "What did the militias threaten?", settings, k=5)
    return [shown, json.dumps(answer.to_json(), sort_keys=True)]


def verification_refuses(settings: Settings, index: Path) -> bool | None:
    """True/False: the on-demand verification refuses/accepts the index; None when there is none yet."""
    try:
        from index.verify import verify_index
    except ImportError:
        return None
    try:
        verify_index(settings)
    except ArchiveError as error:
        assert "\n" not in error.one_line()
        return True
    return False


def test_damaged_files_are_refused_or_harmless(built):
    pristine_settings = settings_for(built["archive"], built["pristine"])
    expected = answers(pristine_settings)
    files = data_files(built["pristine"])
    assert files, "the index folder holds data files"
    outcomes: Counter = Counter()
    failures = []
    for name in files:
        for how in DAMAGES:
            index = built["root"] / "case"
            shutil.rmtree(index, ignore_errors=True)
            shutil.copytree(built["pristine"], index, symlinks=True)
            damage(index / name, how)
            settings = settings_for(built["archive"], index)
            try:
                seen = answers(settings)
            except ArchiveError as error:
                assert "\n" not in error.one_line()
                outcomes["refused on open or search"] += 1
                continue
            if seen == expected:
                outcomes["served identically"] += 1
                continue
            caught = verification_refuses(settings, index)
            if how.startswith("edit") and caught:
                outcomes["different until verified; verification refuses"] += 1
            else:
                outcomes["WRONG ANSWER SERVED"] += 1
                failures.append(f"{name} {how} (verification: {caught})")
    print(f"\nintegrity: {len(files)} files x {len(DAMAGES)} damages: {dict(outcomes)}")
    assert not failures, f"damaged index served a different answer: {failures}"


@pytest.mark.parametrize("how", ["truncate-half", "edit-50%"])
def test_cli_says_one_line_for_a_damaged_index(built, how):
    """Through the CLI: one stderr line and no stdout, or the undamaged result."""
    files = data_files(built["pristine"])
    largest = max(files, key=lambda name: (built["pristine"] / name).stat().st_size)
    index = built["root"] / f"cli-{how}"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(built["pristine"], index, symlinks=True)
    command = [*cli(), "search", QUERIES[0], "--json", "--archive", str(built["archive"]), "--index"]
    pristine = subprocess.run([*command, str(built["pristine"])], env=clean_env(), capture_output=True, text=True)
    damage(index / largest, how)
    damaged = subprocess.run([*command, str(index)], env=clean_env(), capture_output=True, text=True)
    assert "Traceback" not in damaged.stderr
    if damaged.returncode != 0:
        assert damaged.stdout == ""
        assert len(damaged.stderr.strip().splitlines()) == 1, damaged.stderr
    else:
        assert json.loads(damaged.stdout) == json.loads(pristine.stdout) or (
            how.startswith("edit") and verification_refuses(settings_for(built["archive"], index), index))


def test_incremental_build_answers_as_a_full_build(built):
    """An index updated in place must answer exactly as one built from scratch over the same files."""
    root = built["root"]
    archive = root / "changed"
    shutil.rmtree(archive, ignore_errors=True)
    shutil.copytree(built["archive"], archive)
    for path in sorted(archive.iterdir())[:10]:
        path.unlink()
    write_archive(archive, 8, seed=4, start=100)
    incremental, fresh = root / "incremental", root / "fresh"
    for folder in (incremental, fresh):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(built["pristine"], incremental, symlinks=True)
    assert run_build(archive, incremental).returncode == 0
    assert run_build(archive, fresh).returncode == 0
    updated, scratch = signature(incremental, archive), signature(fresh, archive)
    modes = [(query, mode) for query in QUERIES for mode in ("dense", "bm25", "hybrid")]
    differing = [modes[i] for i in range(len(modes)) if updated[i] != scratch[i]]
    assert differing == [], f"the updated index ranks or scores differently from a fresh build for {differing}"
