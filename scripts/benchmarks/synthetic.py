"""`bench.py archive`: a deterministic synthetic news archive for benchmarks, made of paragraphs of real text.

    .venv/bin/python scripts/bench.py archive --articles 100000 --out /work/bench100k/archive --json

Every article gets a made-up person's name that no other article uses (in the headline and worked into
several paragraphs), a date line, and 500-1200 words of paragraphs drawn without replacement from a pool
of real paragraphs (the bundled corpus/ and, when present, the web pages of /work/shared/corpus-web,
extracted with trafilatura). Article i depends only on (seed, i, pool): a larger archive starts with the
same articles as a smaller one. `build`, `million` and `ray` write theirs with it; this subcommand writes one
to keep (e.g. for `million --archive`), and the test suite loads this file to check the generator.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PAGES = Path("/work/shared/corpus-web")
MIN_PARAGRAPH_WORDS = 25
MAX_PARAGRAPH_WORDS = 250  # longer blocks are lists or transcripts, not news paragraphs
MIN_WORDS, MAX_WORDS = 500, 1200
_SPACE = re.compile(r"\s+")
_FIRST = ["Ilvar", "Maren", "Tovik", "Sarine", "Dalmo", "Fenna", "Corvin", "Elsabe", "Harun", "Liske",
          "Oskan", "Peyra", "Quillon", "Rasmi", "Teodra", "Ulvin", "Vessa", "Yorin", "Zafrel", "Nadka"]
_SYLLABLES = ["ba", "ker", "lo", "vin", "sa", "dor", "mi", "tal", "ru", "nes", "fa", "gol", "pe", "zan", "ho",
              "let", "qui", "mar", "do", "vek"]
_ROLES = ["a spokesperson for the regional council", "a local official", "an analyst who follows the region",
          "a resident who witnessed the events", "a researcher at a policy institute", "a senior commander",
          "a lawyer representing several families", "an aid worker in the area"]
_LEADS = ["{name}, {role}, said the situation was still developing.",
          "According to {name}, {role}, the account below was confirmed by several sources.",
          "\"We are watching this closely,\" said {name}, {role}.",
          "{name}, {role}, declined to give further details."]


@dataclass(frozen=True)
class SyntheticArticle:
    index: int
    name: str
    title: str
    date: str
    paragraphs: tuple[str, ...]

    @property
    def file_name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return f"{self.index:06d}_{slug}.txt"

    def text(self) -> str:
        return "\n\n".join([self.title, self.date, *self.paragraphs]) + "\n"

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def made_up_name(index: int) -> str:
    """A name unique to `index`: the surname spells the index in base 20 with one syllable per digit."""
    digits, rest = [], index
    while True:
        digits.append(_SYLLABLES[rest % 20])
        rest //= 20
        if rest == 0:
            break
    surname = "".join(reversed(digits)) + "ren"
    return f"{_FIRST[(index * 7) % len(_FIRST)]} {surname.capitalize()}"


def _pool_sources(pages_dir: Path | None) -> list[Path]:
    files = sorted(p for p in (ROOT / "corpus").glob("*") if p.is_file())
    if pages_dir is not None and pages_dir.is_dir():
        files += sorted(p for p in pages_dir.iterdir() if p.suffix.lower() in {".html", ".htm"})
    return files


def _paragraphs_of(path: Path) -> list[str]:
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in {".html", ".htm"}:
        import trafilatura

        raw = trafilatura.extract(raw, include_comments=False, include_tables=False) or ""
        blocks = raw.split("\n")
    else:
        blocks = re.split(r"\n\s*\n", raw)
    return [_SPACE.sub(" ", block).strip() for block in blocks]


def paragraph_pool(pages_dir: Path | None = DEFAULT_PAGES, cache_dir: Path | None = None) -> list[str]:
    """Distinct real paragraphs of at least MIN_PARAGRAPH_WORDS words, in a fixed order (cached as JSON)."""
    sources = _pool_sources(pages_dir)
    key = hashlib.sha1("\n".join(f"{p}:{p.stat().st_size}" for p in sources).encode()).hexdigest()[:12]
    key = hashlib.sha1(f"{key}:{MIN_PARAGRAPH_WORDS}:{MAX_PARAGRAPH_WORDS}".encode()).hexdigest()[:12]
    cache = (cache_dir or ROOT / "var" / "bench") / f"paragraphs-{key}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    seen: set[str] = set()
    pool = []
    for path in sources:
        for paragraph in _paragraphs_of(path):
            if MIN_PARAGRAPH_WORDS <= len(paragraph.split()) <= MAX_PARAGRAPH_WORDS and paragraph not in seen:
                seen.add(paragraph)
                pool.append(paragraph)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(pool, ensure_ascii=False), encoding="utf-8")
    return pool


def make_article(index: int, pool: Sequence[str], seed: int = 0) -> SyntheticArticle:
    rng = random.Random(f"{seed}:{index}")
    name = made_up_name(index)
    target = rng.randint(MIN_WORDS, MAX_WORDS)
    order = rng.sample(range(len(pool)), k=min(len(pool), 60))
    paragraphs: list[str] = []
    words = 0
    for position in order:
        if words >= target:
            break
        size = len(pool[position].split())
        if words + size > MAX_WORDS:
            continue
        paragraphs.append(pool[position])
        words += size
    # The name is worked into the story so a query about it has one right article.
    role = rng.choice(_ROLES)
    for slot in sorted(rng.sample(range(len(paragraphs)), k=min(3, len(paragraphs)))):
        lead = rng.choice(_LEADS).format(name=name, role=role)
        paragraphs[slot] = f"{paragraphs[slot]} {lead}"
    first_words = re.sub(r"[^\w\s'-]", "", paragraphs[0]).split()[:7]
    title = f"{name}: {' '.join(first_words)}"
    day = date(2019, 1, 1) + timedelta(days=rng.randrange(2400))
    return SyntheticArticle(index, name, title, f"{day:%B} {day.day}, {day.year}", tuple(paragraphs))


def generate(count: int, pool: Sequence[str], seed: int = 0) -> Iterator[SyntheticArticle]:
    for index in range(count):
        yield make_article(index, pool, seed)


def write_archive(target: Path, count: int, pool: Sequence[str], seed: int = 0, per_folder: int = 1000) -> dict:
    """Writes `count` articles under `target` (1,000 per sub-folder); returns files, characters and words."""
    chars = words = 0
    for article in generate(count, pool, seed):
        folder = target / f"{article.index // per_folder:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = article.text()
        (folder / article.file_name).write_text(text, encoding="utf-8")
        chars += len(text)
        words += article.words
    return {"files": count, "chars": chars, "words": words}


def make_queries(count: int, articles: int, pool: Sequence[str], seed: int) -> list[str]:
    """Distinct questions: who-is questions about an article's name, and word runs from its paragraphs."""
    queries: list[str] = []
    seen: set[str] = set()
    for article in generate(articles, pool, seed):
        if len(queries) >= count:
            break
        words = article.paragraphs[len(article.paragraphs) // 2].split()
        for query in (f"What did {article.name} say?", "What happened when " + " ".join(words[3:13]) + "?"):
            if query not in seen:
                seen.add(query)
                queries.append(query)
    return queries[:count]


def add_parser(commands) -> None:
    parser = commands.add_parser("archive", help="write the synthetic archive the speed benchmarks read",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="folder to write (1,000 articles per sub-folder)")
    parser.add_argument("--no-web-pages", action="store_true", help="paragraphs from corpus/ only")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    pool = paragraph_pool(None if args.no_web_pages else DEFAULT_PAGES)
    figures = {**write_archive(args.out, args.articles, pool, args.seed), "seed": args.seed,
               "paragraph_pool": len(pool), "folder": str(args.out)}
    print(json.dumps(figures, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))
    return 0
