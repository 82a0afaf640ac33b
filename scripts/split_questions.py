"""Split the web question set into a calibration half and a test half, in the data itself.

    .venv/bin/python scripts/split_questions.py [FILE] [--reassign]

FILE defaults to tests/eval/web_questions.jsonl. Every line gets a field "half": "calibration" | "test".
Thresholds and weights may be chosen on the calibration half only; the test half is for reporting.

The split is a seeded, stratified shuffle: SEED = 20261122. Strata are answerable questions (one stratum per
expected answer type), unanswerable "near" questions and unanswerable "far" questions. Within each stratum the
questions are put in a random order drawn from random.Random(SEED) (strata visited in sorted order, questions
first sorted by text so the file's line order does not matter), then dealt alternately, each time to the half
that is smaller so far within the stratum (ties go to the half that is smaller overall, then to calibration).
Each stratum is therefore split within one question, and the two halves overall within one.

Stable on purpose: a question that already carries a "half" keeps it (so adding questions later never moves a
question that someone may already have tuned on); only questions without one are dealt. --reassign ignores
existing halves and redoes the whole split from the seed. Re-running on an unchanged file changes nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

SEED = 20261122
HALVES = ("calibration", "test")
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "tests" / "eval" / "web_questions.jsonl"


def stratum(item: dict) -> str:
    """The stratum a question is balanced within."""
    if item.get("unanswerable"):
        return "unanswerable-near" if item.get("near") else "unanswerable-far"
    return f"answerable-{item.get('type', 'other')}"


def assign_halves(items: list[dict], reassign: bool = False) -> list[dict]:
    """Return copies of items, each with a "half"; existing halves are kept unless reassign."""
    out = [dict(item) for item in items]
    if reassign:
        for item in out:
            item.pop("half", None)
    rng = random.Random(SEED)
    overall = Counter(item["half"] for item in out if "half" in item)
    by_stratum: dict[str, list[dict]] = {}
    for item in out:
        by_stratum.setdefault(stratum(item), []).append(item)
    for name in sorted(by_stratum):
        members = by_stratum[name]
        within = Counter(item["half"] for item in members if "half" in item)
        todo = sorted((item for item in members if "half" not in item), key=lambda item: item["question"])
        rng.shuffle(todo)
        for item in todo:
            half = min(HALVES, key=lambda h: (within[h], overall[h], HALVES.index(h)))
            item["half"] = half
            within[half] += 1
            overall[half] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--reassign", action="store_true", help="redo the whole split, ignoring existing halves")
    args = parser.parse_args(argv)
    lines = [line for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [json.loads(line) for line in lines]
    split = assign_halves(items, reassign=args.reassign)
    args.file.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in split), encoding="utf-8")
    counts = Counter((stratum(item), item["half"]) for item in split)
    totals = Counter(item["half"] for item in split)
    print(f"{args.file}: {len(split)} questions, " + ", ".join(f"{h} {totals[h]}" for h in HALVES))
    for name in sorted({stratum(item) for item in split}):
        print(f"  {name:24} " + "  ".join(f"{h} {counts[(name, h)]}" for h in HALVES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
