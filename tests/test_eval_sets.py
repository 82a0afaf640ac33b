"""Validator for the evaluation question sets (no model, no index: fast).

tests/eval/web_questions.jsonl is the honest set over the development archive (scripts/make_dev_archive.py):
every answerable item must name a file of the archive, raw 1-based lines (as `sed -n 'A,Bp'` shows them) and
answer strings that occur in those lines' visible text; the unanswerable items must be numerous and mostly
close to covered topics; the calibration/test halves (scripts/split_questions.py) must be balanced.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_SET = ROOT / "tests" / "eval" / "web_questions.jsonl"
OLD_SET = ROOT / "tests" / "eval" / "questions.jsonl"
SHARED = ROOT.parent / "shared"
TYPES = {"person", "organisation", "place", "number", "date", "reason", "other"}
HALVES = {"calibration", "test"}
# Invisible characters some pages put inside words (soft hyphens in guardian.co.tt and nymag.com pages).
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
TAG = re.compile(r"<[^>]*>")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def normalise(text: str) -> str:
    """Casefold, drop invisible characters, collapse every run of non-alphanumerics to one space."""
    text = text.translate(INVISIBLE).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def visible(raw: str) -> str:
    """Raw text with HTML tags removed and entities unescaped (plain-text files pass through)."""
    return html.unescape(TAG.sub(" ", raw))


def raw_lines(path: Path) -> list[str]:
    """Lines as sed counts them: split on newline only."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def source_path(name: str) -> Path:
    folder = "corpus-web" if name.endswith(".html") else "corpus"
    return SHARED / folder / name


WEB = load(WEB_SET)
ANSWERABLE = [q for q in WEB if not q.get("unanswerable")]
UNANSWERABLE = [q for q in WEB if q.get("unanswerable")]
needs_corpus = pytest.mark.skipif(not (SHARED / "corpus-web").is_dir(), reason="../shared/corpus-web not present")


def test_every_item_is_well_formed():
    questions = [q["question"].strip() for q in WEB]
    assert all(questions), "empty question"
    assert len(set(questions)) == len(questions), "duplicate questions"
    for q in ANSWERABLE:
        assert set(q) >= {"question", "source", "answers", "lines", "type", "half"}, q
        assert "/" not in q["source"] and q["source"].endswith((".html", ".txt")), q
        assert q["answers"] and all(isinstance(a, str) and normalise(a) for a in q["answers"]), q
        first, last = q["lines"]
        assert isinstance(first, int) and isinstance(last, int) and 1 <= first <= last, q
        assert q["type"] in TYPES, q
    for q in UNANSWERABLE:
        assert q["unanswerable"] is True and isinstance(q["near"], bool), q
        assert "source" not in q and "answers" not in q, q


def test_counts():
    assert len(WEB) >= 150
    assert len(ANSWERABLE) >= 120
    assert len(UNANSWERABLE) >= 30
    assert 2 * sum(q["near"] for q in UNANSWERABLE) >= len(UNANSWERABLE)
    assert len({q["source"] for q in ANSWERABLE}) >= 90
    assert len({q["type"] for q in ANSWERABLE}) == len(TYPES)


def test_halves_are_balanced():
    assert {q["half"] for q in WEB} == HALVES
    groups = {
        "all": WEB,
        "answerable": ANSWERABLE,
        "unanswerable": UNANSWERABLE,
        "near": [q for q in UNANSWERABLE if q["near"]],
        "far": [q for q in UNANSWERABLE if not q["near"]],
    }
    for name, items in groups.items():
        counts = Counter(q["half"] for q in items)
        assert abs(counts["calibration"] - counts["test"]) <= 2, (name, counts)


def test_split_is_reproducible():
    spec = importlib.util.spec_from_file_location("split_questions", ROOT / "scripts" / "split_questions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.assign_halves(WEB) == WEB  # re-running keeps every half
    fresh = module.assign_halves(WEB, reassign=True)
    assert [q["question"] for q in fresh] == [q["question"] for q in WEB]
    assert module.assign_halves(WEB, reassign=True) == fresh  # the seed alone decides
    counts = Counter((module.stratum(q), q["half"]) for q in fresh)
    for name in {module.stratum(q) for q in fresh}:
        assert abs(counts[(name, "calibration")] - counts[(name, "test")]) <= 1, name


@needs_corpus
def test_answers_occur_in_their_raw_lines():
    cache: dict[str, list[str]] = {}
    missing = []
    for q in ANSWERABLE:
        path = source_path(q["source"])
        assert path.is_file(), f"{q['source']} is not in the development archive"
        lines = cache.setdefault(q["source"], raw_lines(path))
        first, last = q["lines"]
        assert last <= len(lines), q
        text = " " + normalise(visible("\n".join(lines[first - 1 : last]))) + " "
        missing += [(q["source"], q["lines"], a) for a in q["answers"] if f" {normalise(a)} " not in text]
    assert not missing


def test_old_set_still_parses():
    old = load(OLD_SET)
    assert len(old) >= 78
    for q in old:
        assert q["question"].strip()
        assert q.get("unanswerable") or (q["source"] and q["answers"] and len(q["lines"]) == 2), q


@needs_corpus
def test_make_dev_archive_copies_and_is_idempotent(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("make_dev_archive", ROOT / "scripts" / "make_dev_archive.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dest = tmp_path / "archive"
    assert module.main([str(dest), "--shared", str(SHARED)]) == 0
    names = {p.name for p in dest.iterdir()}
    assert "README.md" not in names
    assert {q["source"] for q in ANSWERABLE} <= names
    expected = [*(SHARED / "corpus-web").glob("*.html"), *(SHARED / "corpus").glob("*.txt")]
    assert len(names) == len(expected)
    assert module.main([str(dest), "--shared", str(SHARED)]) == 0
    assert "0 copied" in capsys.readouterr().out.splitlines()[-1]
    with pytest.raises(SystemExit, match="missing"):
        module.main([str(dest), "--shared", str(tmp_path / "nowhere")])
