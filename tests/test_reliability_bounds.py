"""Resource bounds: a 100 kB question, an empty one, -k of 0 or 10 000: one clear line, bounded memory.

Black-box through the CLI (hashing embedder). Peak memory of each command is read from the kernel's
accounting of the finished child (os.wait4), not sampled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_reliability_crash import clean_env, cli, run_build

from core.settings import BUNDLED_ARCHIVE

HUGE = ("Why did the militias in Deir Ezzor open recruitment? " * 2000)[:100_000]


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bounds")
    archive = root / "archive"
    shutil.copytree(BUNDLED_ARCHIVE, archive)
    assert run_build(archive, root / "index").returncode == 0
    return archive, root / "index"


def run(index: tuple[Path, Path], *args: str) -> tuple[int, str, str, int]:
    """Exit status, stdout, stderr and peak RSS (MB) of one `archive-qa` command."""
    archive, folder = index
    command = [*cli(), *args, "--archive", str(archive), "--index", str(folder), "--json"]
    process = subprocess.Popen(command, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=300)  # reaps the child, so wait4 cannot: read its usage first
    return process.returncode, stdout, stderr, 0


def run_measured(index: tuple[Path, Path], *args: str) -> tuple[int, str, str, float]:
    archive, folder = index
    command = [*cli(), *args, "--archive", str(archive), "--index", str(folder), "--json"]
    out_path, err_path = folder.parent / "out.txt", folder.parent / "err.txt"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(command, env=clean_env(), stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, out_path.read_text(), err_path.read_text(), usage.ru_maxrss / 1024


def one_clear_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_and_query(index, question):
    status, stdout, stderr, _ = run(index, "ask", question)
    assert (status, stdout) == (1, "")
    assert "empty" in one_clear_line(stderr)
    status, stdout, stderr, _ = run(index, "search", question)
    assert (status, stdout) == (1, "")
    assert "empty" in one_clear_line(stderr)


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize("k", ["0", "-1", "10000", "abc", "1e3", ""])
def test_out_of_range_k_is_one_line(index, command, k):
    status, stdout, stderr, _ = run(index, command, "Hezbollah", "-k", k)
    assert (status, stdout) == (2, "")
    line = one_clear_line(stderr)
    assert "-k" in line and "--help" in line


def test_answers_read_a_bounded_number_of_passages(index):
    status, stdout, stderr, _ = run(index, "ask", "What did Hezbollah threaten?", "-k", "1000")
    assert (status, stdout) == (1, "")
    assert "k=1000" in one_clear_line(stderr)
    status, stdout, stderr, _ = run(index, "search", "Hezbollah", "-k", "1000")  # search may list them all
    assert status == 0, stderr
    assert 0 < len(json.loads(stdout)) <= 1000


def test_100_kb_question_is_refused_in_one_line_and_search_stays_bounded(index):
    status, stdout, stderr, _ = run(index, "ask", HUGE)
    assert (status, stdout) == (1, "")
    assert "characters" in one_clear_line(stderr)
    status, stdout, stderr, small_mb = run_measured(index, "search", "militias Deir Ezzor recruitment")
    assert status == 0, stderr
    status, stdout, stderr, huge_mb = run_measured(index, "search", HUGE)
    assert status == 0, stderr
    assert isinstance(json.loads(stdout), list)
    print(f"\npeak RSS: search with a short query {small_mb:.0f} MB, with a 100 kB query {huge_mb:.0f} MB")
    assert huge_mb < small_mb * 1.5 + 50, "a 100 kB query must not cost memory in proportion to anything large"


def test_library_refuses_the_same_bounds(hashing_settings):
    """qa.answer.answer_question is what the app and the batch mode call: the bounds hold there too."""
    from core.errors import ArchiveError
    from index.build import build_index
    from index.search import Searcher
    from qa.answer import answer_question

    build_index(hashing_settings, progress=False)
    searcher = Searcher.open(hashing_settings)
    for question, k in (("", 5), (HUGE, 5), ("Hezbollah?", 0), ("Hezbollah?", 10_000)):
        with pytest.raises(ArchiveError) as raised:
            answer_question(searcher, question, hashing_settings, k=k)
        assert "\n" not in raised.value.one_line()
