"""Bad input: each bad file is skipped (or read with a warning) with a reason; the other files are read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from archive.dedup import near_duplicate_groups
from archive.load import articles_from_text, scan_archive
from archive_qa.cli import main
from archive_qa.commands.common import EXIT_SKIPPED
from core.errors import ArchiveNotFound
from core.files import decode

GOOD = ("Harbour Reopens After the Storm\n\n"
        "The harbour reopened on Monday after a storm closed it for three days, the harbour master said.\n\n"
        "Ships that had waited offshore began unloading grain and fuel on Monday afternoon.\n")


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def bad_archive(tmp_path, monkeypatch):
    """An archive holding one file of every bad kind, beside good ones."""
    root = tmp_path / "archive"
    write(root / "a_good.txt", GOOD)
    write(root / "empty.txt", b"")
    write(root / "blank.md", "  \n\n\t\n")
    write(root / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 40)
    write(root / "bad_utf8.txt", GOOD.replace("storm", "st\xf6rm").encode("utf-8")[:-1]
          + b" caf\xc3\xa9 \xff\xfe.\n")
    with open(root / "huge.txt", "wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50_000_000)
    write(root / "no_article.txt", "TT\nprint\n20\n\n.\n\nRead More\n")
    write(root / "report.pdf", b"%PDF-1.4 not really")
    write(root / "locked.txt", GOOD)
    write(root / ".hidden.txt", GOOD)
    write(root / ".git" / "notes.txt", GOOD)
    write(root / "nested" / "deeper" / "post.md", "# Market Day Returns\n\n" + GOOD.split("\n\n", 1)[1])
    outside = write(tmp_path / "outside" / "secret.txt", GOOD)
    os.symlink(outside, root / "link_out.txt")
    os.symlink(outside.parent, root / "dir_out")
    os.symlink(root / "a_good.txt", root / "link_in.txt")
    os.symlink(root / "nested", root / "loop")  # a folder link inside the archive is not followed twice

    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.txt":  # root ignores chmod, so simulate what an unreadable file does
            raise PermissionError(13, "Permission denied", str(self))
        if self.name == "huge.txt":
            raise AssertionError("the size limit must be checked before reading")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return root


def test_every_bad_file_is_reported_and_every_good_file_is_read(bad_archive):
    scan = scan_archive(bad_archive)
    assert {item.source: item.reason for item in scan.skipped} == {
        "binary.txt": "binary file, not text",
        "blank.md": "empty file (only whitespace)",
        "dir_out": "symlink points outside the archive",
        "empty.txt": "empty file",
        "huge.txt": "file is 50.0 MB, over the 20 MB limit",
        "link_out.txt": "symlink points outside the archive",
        "locked.txt": "cannot read file: Permission denied",
        "no_article.txt": "no recognisable article (nothing left after cleaning)",
        "report.pdf": "unsupported file type .pdf",
    }
    assert [a.id for a in scan.articles] == [
        "a_good.txt#0", "bad_utf8.txt#0", "link_in.txt#0", "nested/deeper/post.md#0"]
    warnings = [(w.source, w.reason) for w in scan.warnings]
    assert warnings == [("bad_utf8.txt", "not valid UTF-8; 2 bytes replaced")]
    damaged = next(a for a in scan.articles if a.source == "bad_utf8.txt")
    assert "café" in damaged.body and "\ufffd" in damaged.body
    # The same story reached through a link and in its own file: one group, the other listed as "also in".
    assert ("a_good.txt#0", "link_in.txt#0") in scan.duplicate_groups
    assert scan.also_in("link_in.txt#0") == ("a_good.txt#0",)


def test_the_size_limit_is_a_setting(tmp_path):
    write(tmp_path / "small.txt", GOOD)
    scan = scan_archive(tmp_path, max_file_bytes=100)
    assert scan.articles == () and scan.skipped[0].reason.startswith("file is 0.0 MB, over the 0.0001 MB")


def test_a_missing_archive_or_a_file_raises_archive_not_found(tmp_path):
    with pytest.raises(ArchiveNotFound, match="not found"):
        scan_archive(tmp_path / "nowhere")
    with pytest.raises(ArchiveNotFound, match="not a folder"):
        scan_archive(write(tmp_path / "file.txt", GOOD))


def test_decoding_falls_back_and_says_so():
    assert decode("\ufeffplain “utf-8”".encode()).text == "plain “utf-8”"
    assert decode("plain “utf-8”".encode()).warning == ""
    legacy = decode("Officials said “the road is open” in the café.".encode("cp1252"))
    assert legacy.text == "Officials said “the road is open” in the café."
    assert legacy.warning == "not valid UTF-8; decoded as cp1252"
    cyrillic = decode("Официальные лица заявили, что дорога открыта.".encode("cp1251"))
    assert cyrillic.text == "Официальные лица заявили, что дорога открыта." and "cp1251" in cyrillic.warning
    stray = decode(b"plain text with one undefined \x81 byte")
    assert stray.warning == "not valid UTF-8; decoded as cp1252; 1 byte replaced"
    utf16 = decode("Road opens".encode("utf-16"))
    assert utf16.text == "Road opens" and utf16.warning == "decoded as UTF-16"


def test_html_comment_thread_kept_by_the_extractor_is_removed_by_the_text_rules():
    page = ("<html><head><title>Port Reopens After Storm</title></head><body>\n"
            "<div><h1>Port Reopens After Storm</h1>\n"
            "<p>The port reopened on Monday after a storm closed it for three days, officials said.</p>\n"
            "<p>Ships that had waited offshore began unloading grain and fuel on Monday afternoon.</p>\n"
            "<p>Pete G says:</p>\n"
            "<p>About time, the shops here ran out of bread on Saturday and nobody told us.</p>\n"
            "<p>Ana M says:</p>\n"
            "<p>My brother works there and says the cranes are still broken, do not believe.</p>\n"
            "</div></body></html>\n")
    articles, warning = articles_from_text(page, "port.html", "html")
    assert warning == "" and [a.title for a in articles] == ["Port Reopens After Storm"]
    assert [p.text.split()[0] for p in articles[0].paragraphs] == ["The", "Ships"]
    assert [(p.start_line, p.end_line) for p in articles[0].paragraphs] == [(3, 3), (4, 4)]


def test_near_duplicates_group_wire_copies_and_leave_other_stories_alone():
    wire = ("Ships that had waited offshore for three days began unloading grain, fuel and medicine on "
            "Monday afternoon after the storm passed, and port officials said the backlog would be cleared "
            "by Friday if the weather held. Dock workers were called in from neighbouring towns to run "
            "extra shifts.")
    first, _ = articles_from_text(f"Port Reopens\n\n{wire}\n", "outlet_a.txt")
    longer, _ = articles_from_text(f"Port Reopens After Storm\n\n{wire}\n\nMore ships are due on Tuesday.\n",
                                   "outlet_b.txt")
    other, _ = articles_from_text(f"Rail Link Reopens\n\n{GOOD.split(chr(10))[2]}\n", "other.txt")
    groups = near_duplicate_groups([*first, *other, *longer])
    assert groups == (("outlet_b.txt#0", "outlet_a.txt#0"),)  # the fuller copy is the one to show


def test_cli_exit_status_three_when_something_was_skipped(bad_archive, capsys):
    status = main(["articles", "--archive", str(bad_archive), "--json"])
    captured = capsys.readouterr()
    assert status == EXIT_SKIPPED
    assert len(json.loads(captured.out)) == 4
    assert "skipped huge.txt: file is 50.0 MB, over the 20 MB limit" in captured.err
    assert "warning bad_utf8.txt: not valid UTF-8; 2 bytes replaced" in captured.err


def test_cli_exit_status_zero_and_error_status_for_a_missing_archive(tmp_path, capsys):
    write(tmp_path / "ok.txt", GOOD)
    assert main(["articles", "--archive", str(tmp_path)]) == 0
    assert main(["articles", "--archive", str(tmp_path / "missing")]) == 1
    assert "archive folder not found" in capsys.readouterr().err
