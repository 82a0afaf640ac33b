"""`bench.py mentions`: `archive-qa mentions` latency on a synthetic archive.

    .venv/bin/python scripts/bench.py mentions --articles 4000 --json [--workdir DIR]

Writes N dated articles of filler news prose into a temporary folder; a quarter of them name Hezbollah in
several spellings, several times each (about 10,000 mentions at 4,000 articles). Builds the index with the
hashing embedder (the vectors play no part in mentions) and times `find_mentions` over a loaded searcher:
the first call (cold word caches) and the median of the following ones.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

SPELLINGS = ("Hezbollah", "Hizbullah", "Hizballah", "Hizb Allah", "Hezbollah’s")
FILLER = (
    "Officials in the provincial capital said the convoy reached the crossing before dawn on {day}.",
    "Residents reported shelling near the river, and local councils asked for aid deliveries to resume.",
    "The ministry declined to comment on the report, citing an ongoing review of border security.",
    "Analysts said the move reflected a wider realignment of armed groups across the eastern desert.",
    "Prices of fuel and bread rose again in the markets of the city, traders told reporters on {day}.",
    "A spokesperson for the coalition said its forces had not been involved in the incident.",
)
NAMED = (
    "Fighters of {name} were seen moving weapons near the border, according to {name} officials and others.",
    "{name} denied the claim, and a commander allied with {name} said the units had withdrawn.",
)


def _article(rng: random.Random, number: int, mentions: bool) -> str:
    year, month, day = 2020 + number % 5, 1 + number % 12, 1 + number % 28
    paragraphs = []
    for _ in range(6):
        sentences = [rng.choice(FILLER).format(day=f"day {day}") for _ in range(3)]
        if mentions and rng.random() < 0.75:
            sentences.insert(1, rng.choice(NAMED).format(name=rng.choice(SPELLINGS)))
        paragraphs.append(" ".join(sentences))
    header = f"Report {number} From The Eastern Front\n\n{calendar.month_name[month]} {day}, {year}\n\n"
    return header + "\n\n".join(paragraphs) + "\n"


def add_parser(commands) -> None:
    parser = commands.add_parser("mentions", help="`archive-qa mentions` latency on a synthetic archive",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workdir", type=Path, help="keep the archive and index here (reused when present)")


def run(args: argparse.Namespace) -> int:
    from core.settings import Settings
    from index.build import build_index
    from index.mentions import find_mentions
    from index.search import Searcher

    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-mentions-") as temporary:
        folder = args.workdir or Path(temporary)
        archive, index = folder / "archive", folder / "index"
        if not archive.is_dir():
            archive.mkdir(parents=True)
            for number in range(args.articles):
                text = _article(rng, number, number % 4 == 0)
                (archive / f"{number:06d}.txt").write_text(text, encoding="utf-8")
        settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=index)
        started = time.perf_counter()
        report = build_index(settings, progress=False)
        build_seconds = time.perf_counter() - started
        searcher = Searcher.open(settings)
        timings, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            found = find_mentions(searcher, "Hezbollah")
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    figures = {
        "articles": report.articles,
        "chunks": report.chunks,
        "mentions": found.total,
        "articles_with_mentions": len(found.articles),
        "spellings": list(found.spellings),
        "build_seconds_hashing": round(build_seconds, 1),
        "first_call_ms": round(timings[0], 1),
        "median_ms": round(statistics.median(timings[1:]), 1) if len(timings) > 1 else None,
        "max_ms": round(max(timings[1:]), 1) if len(timings) > 1 else None,
        # CPU time of this process: what the work costs when other processes share the cores.
        "cpu_median_ms": round(statistics.median(cpu[1:]), 1) if len(cpu) > 1 else None,
        "load_average_1min": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(figures, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))
    return 0
