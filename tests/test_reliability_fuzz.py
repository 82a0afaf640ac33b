"""Hostile and broken input: a fuzz archive generated here; every file is indexed or reported with a reason.

The build runs through the CLI (hashing embedder) and must never crash; the counts of what was tried are
printed (`pytest -s`) and recorded in docs/RELIABILITY.md. An unreadable file cannot be made for root
(chmod 000 does not stop it), so that case scans the archive in a forked child that drops to `nobody`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from test_reliability_crash import archive_paragraphs, clean_env, cli

SEED = 20261122


def _good_text(rng: random.Random, name: str) -> str:
    body = "\n\n".join(rng.sample(archive_paragraphs(), k=3))
    return f"Dispatch about {name}\n\n{body}\n"


def make_fuzz_archive(root: Path) -> Counter:
    """Write the fuzz archive; returns how many files of each kind were written."""
    rng = random.Random(SEED)
    tried: Counter = Counter()

    def put(kind: str, name: str, content: bytes | str) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        tried[kind] += 1

    for number in range(24):  # random bytes under every supported extension
        extension = (".txt", ".md", ".html", ".htm")[number % 4]
        put("random bytes", f"random/r{number:02d}{extension}", rng.randbytes(rng.choice([1, 17, 512, 8192, 70_000])))
    for number in range(6):  # valid UTF-8 cut in the middle of a multi-byte character
        text = _good_text(rng, f"Qadirov{number}").replace("e", "é").encode("utf-8")
        cut = text.rfind("é".encode()) + 1
        put("truncated utf-8", f"truncated/t{number}.txt", text[:cut])
    for number in range(4):
        text = _good_text(rng, f"Nulsen{number}")
        put("NUL bytes", f"nul/n{number}.txt", text.replace(" ", "\x00", 5 * (number + 1)))
    put("NUL bytes", "nul/all_nul.txt", b"\x00" * 4096)
    put("10 MB single line", "huge/one_line.txt", ("word " * 2_000_000).encode())
    put("10 MB single line", "huge/one_token.html", b"<p>" + b"x" * 10_000_000 + b"</p>")
    depth = 20_000
    put("nested/malformed HTML", "html/deep_divs.html", "<html><body>" + "<div>" * depth + "Deep text here. " * 20
        + "</div>" * depth + "</body></html>")
    put("nested/malformed HTML", "html/unclosed.html", "<html><body><p>Unclosed <b><i><table><tr><td>"
        + _good_text(rng, "Unclosedov") + "<script>while(1){}</script><p><p><p>")
    put("nested/malformed HTML", "html/tag_soup.html", "".join(rng.choice(["<", ">", "</", "p", "div", "&amp;", "&#x",
                                                                            "<!--", "-->", "\"", "'", "=", " "])
                                                               for _ in range(50_000)))
    put("nested/malformed HTML", "html/only_script.html", "<script>" + "var a=1;" * 10_000 + "</script>")
    put("nested/malformed HTML", "html/entities.html", "<p>" + "&#xD800;&#0;&#1114112;&bogus;" * 500 + "</p>")
    put("nested markdown", "md/deep_quote.md", ">" * 5000 + " quoted\n\n" + _good_text(rng, "Quotov"))
    put("nested markdown", "md/deep_list.md", "".join("  " * i + "- item\n" for i in range(2000)))
    put("encodings", "enc/utf16.txt", _good_text(rng, "Utfsixteen").encode("utf-16"))
    put("encodings", "enc/latin1.txt", _good_text(rng, "Latinov").replace("e", "é").encode("latin-1", errors="replace"))
    put("encodings", "enc/bom_only.txt", b"\xef\xbb\xbf")
    put("encodings", "enc/cr_only.txt", _good_text(rng, "Carriageov").replace("\n", "\r"))
    put("encodings", "enc/many_lines.txt", "x\n" * 200_000)
    put("empty", "empty/empty.txt", b"")
    put("empty", "empty/blank.md", " \n\t\n\n")
    for name in ("names/with space.txt", "names/ünïcödé 北京 مرحبا.txt", "names/new\nline.txt", "names/-rf.txt",
                 "names/" + "long" * 60 + ".txt", "names/quote'\"$(x).md", "names/tab\tname.html"):
        put("odd names", name, _good_text(rng, "Namenov"))
    put("unsupported type", "other/report.pdf", b"%PDF-1.4 " + rng.randbytes(100))
    put("unsupported type", "other/no_extension", _good_text(rng, "Extless"))
    os.symlink("loop_b.txt", root / "loop_a.txt")
    os.symlink("loop_a.txt", root / "loop_b.txt")
    os.symlink(".", root / "self_loop")  # a folder link to itself: must not be followed forever
    tried["symlink loop"] += 3
    os.symlink("/etc/passwd", root / "outside.txt")
    tried["symlink out of the archive"] += 1
    os.mkfifo(root / "pipe.txt")  # reading a FIFO would block the build forever
    tried["FIFO"] += 1
    put("good", "good/control.txt", _good_text(rng, "Controlov"))
    put("unreadable (tested as nobody)", "locked/locked.txt", _good_text(rng, "Lockedov"))
    return tried


def _files(root: Path) -> list[str]:
    """Every entry a user would expect accounted for: files, file symlinks, FIFOs (not folders or folder links)."""
    found = []
    for folder, _subfolders, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() and path.is_dir():
                continue
            found.append(path.relative_to(root).as_posix())
    return sorted(found)


@pytest.fixture(scope="module")
def fuzz_archive():
    # Not under pytest's tmp folder: that is private to root, and one case reads the archive as nobody.
    root = Path(tempfile.mkdtemp(prefix="archive-qa-fuzz-"))
    os.chmod(root, 0o755)
    archive = root / "archive"
    archive.mkdir()
    tried = make_fuzz_archive(archive)
    for folder, _, names in os.walk(archive):
        os.chmod(folder, 0o755)
        for name in names:
            path = Path(folder) / name
            if not path.is_symlink() and path.is_file():
                os.chmod(path, 0o644)
    os.chmod(archive / "locked" / "locked.txt", 0)
    yield archive, tried
    shutil.rmtree(root, ignore_errors=True)


def test_fuzz_archive_is_indexed_or_reported(fuzz_archive, tmp_path):
    archive, tried = fuzz_archive
    index = tmp_path / "index"
    command = [*cli(), "build", "--archive", str(archive), "--index", str(index), "--json"]
    build = subprocess.run(command, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert build.returncode in (0, 3), build.stderr[-2000:]
    assert "Traceback" not in build.stderr
    report = json.loads(build.stdout)
    articles = subprocess.run([*cli(), "articles", "--archive", str(archive), "--index", str(index), "--json"],
                              env=clean_env(), capture_output=True, text=True, timeout=300)
    assert articles.returncode in (0, 3), articles.stderr[-2000:]
    indexed = {row["source"] for row in json.loads(articles.stdout)}
    skipped = {row["source"]: row["reason"] for row in report["skipped_files"]}
    unaccounted = [name for name in _files(archive) if name not in indexed and name not in skipped]
    assert unaccounted == [], f"files neither indexed nor reported: {unaccounted}"
    assert all(reason.strip() for reason in skipped.values())
    assert "good/control.txt" in indexed
    search = subprocess.run([*cli(), "search", "Controlov \x7f é 北京", "--json", "--archive", str(archive),
                             "--index", str(index)], env=clean_env(), capture_output=True, text=True, timeout=300)
    assert search.returncode == 0, search.stderr
    reasons = Counter(reason.split(":")[0].split("(")[0].strip() for reason in skipped.values())
    print(f"\nfuzz archive: {sum(tried.values())} entries tried: {dict(tried)}")
    print(f"indexed files: {len(indexed)}; reported: {len(skipped)}; articles: {report['articles']}, "
          f"chunks: {report['chunks']}; build {report['seconds']}s")
    print(f"skip reasons: {dict(reasons)}")


def _scan_as_nobody(archive: Path) -> dict[str, str]:
    """Scan the archive in a forked child running as `nobody`; the skipped files it reports, by source."""
    from archive.load import scan_archive

    scan_archive(archive)  # as root first: every lazily imported reader is loaded before the fork
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            scan = scan_archive(archive)
            payload = json.dumps({item.source: item.reason for item in scan.skipped}).encode()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(child, 0)
    return json.loads(data or b"null")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to drop privileges in a child")
def test_unreadable_file_is_reported(fuzz_archive):
    archive, _ = fuzz_archive
    locked = archive / "locked" / "locked.txt"
    assert stat.S_IMODE(locked.stat().st_mode) == 0
    if os.geteuid() != 0:
        from archive.load import scan_archive

        skipped = {item.source: item.reason for item in scan_archive(archive).skipped}
    else:
        skipped = _scan_as_nobody(archive)
    assert skipped is not None, "the scan as nobody crashed"
    assert "locked/locked.txt" in skipped
    assert "ermission" in skipped["locked/locked.txt"] or "read" in skipped["locked/locked.txt"]
