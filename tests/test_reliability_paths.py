"""Path safety: the app's source views and the answerers read only files inside the archive.

Hostile `source` values (as a crafted index row or a URL parameter could carry them) are refused by the one
path guard, by the app's raw-line view (ui.evidence.read_raw_lines) and by the answerers' raw-file reader.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest

try:  # the guard's home moves to core.files; import it from wherever it lives now
    from core.files import UnsafePath, safe_source_path
except ImportError:  # pragma: no cover - before the move
    from qa.sources import UnsafePath, safe_source_path

from qa.sources import RawFiles
from ui.evidence import read_raw_lines

SECRET = "TOP SECRET LINE outside the archive\n"

HOSTILE = [
    "../secret.txt",
    "../../../../../../etc/passwd",
    "sub/../../secret.txt",
    "./../secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "%2e%2e%2fsecret.txt",
    "%2e%2e/secret.txt",
    "..%2fsecret.txt",
    "%252e%252e%252fsecret.txt",  # double-encoded
    "..%5csecret.txt",
    "..\\secret.txt",
    "sub/%2e%2e/%2e%2e/secret.txt",
    "file:///etc/passwd",
    "~/secret.txt",
    "link_out.txt",  # a symlink to the file outside
    "dir_out/secret.txt",  # a folder symlink pointing outside
    "sub/link_up/secret.txt",  # a folder symlink inside pointing above the root
    "good.txt\x00../secret.txt",
    "",
    ".",
    "sub",
    "pipe.txt",  # a FIFO: reading it would hang the page
    "/dev/zero",
    "../archive/../secret.txt",
]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    (root / "sub").mkdir(parents=True)
    (root / "good.txt").write_text("line one\nline two\nline three\n", encoding="utf-8")
    (root / "sub" / "inner.txt").write_text("inner one\ninner two\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", root / "link_out.txt")
    os.symlink(tmp_path, root / "dir_out")
    os.symlink("../..", root / "sub" / "link_up")
    os.symlink("good.txt", root / "link_in.txt")  # inside: allowed
    os.mkfifo(root / "pipe.txt")
    return root


def _variants(source: str) -> list[str]:
    """The source as given and as a caller that URL-decodes (once or twice) would pass it on."""
    once = urllib.parse.unquote(source)
    return sorted({source, once, urllib.parse.unquote(once)})


@pytest.mark.parametrize("source", HOSTILE)
def test_guard_refuses_everything_outside(archive, source):
    for variant in _variants(source):
        with pytest.raises(UnsafePath):
            safe_source_path(archive, variant)
        with pytest.raises(UnsafePath):
            read_raw_lines(archive, variant, 1, 1)
        raw = RawFiles(archive)
        assert raw.lines(variant) is None
        assert raw.text_of(variant, 1, 1) is None
        assert not raw.holds(variant, 1, 1, "TOP SECRET LINE")


def test_files_inside_are_served(archive):
    assert safe_source_path(archive, "good.txt") == (archive / "good.txt").resolve()
    assert safe_source_path(archive, "sub/inner.txt").name == "inner.txt"
    assert safe_source_path(archive, "sub/../good.txt").name == "good.txt"  # `..` that stays inside
    assert safe_source_path(archive, "link_in.txt").name == "good.txt"
    cited = [line for line in read_raw_lines(archive, "good.txt", 2, 2, context=1) if line.cited]
    assert [line.text for line in cited] == ["line two"]


def test_a_literal_percent_name_inside_is_a_file_not_an_escape(archive):
    """A file really named '%2e%2e%2fx.txt' is served as itself; nothing decodes it into '../x.txt'."""
    (archive / "%2e%2e%2fx.txt").write_text("percent named\n", encoding="utf-8")
    assert safe_source_path(archive, "%2e%2e%2fx.txt").parent == archive.resolve()
    with pytest.raises(UnsafePath):
        safe_source_path(archive, urllib.parse.unquote("%2e%2e%2fx.txt"))


def test_a_link_swapped_after_the_check_is_still_inside(archive, tmp_path):
    """The guard returns the resolved path, so the reader opens the checked target, not the link."""
    link = archive / "moving.txt"
    os.symlink("good.txt", link)
    resolved = safe_source_path(archive, "moving.txt")
    link.unlink()
    os.symlink(tmp_path / "secret.txt", link)
    assert resolved.read_text(encoding="utf-8").startswith("line one")
