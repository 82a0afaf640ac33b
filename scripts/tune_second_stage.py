"""Choose the question-time MiniLM re-ranking (shortlist size N and fusion) on the calibration half only.

    .venv/bin/python scripts/tune_second_stage.py --archive DEV --index STATIC_INDEX [--encoder-dir DIR ...]

STATIC_INDEX is an index of DEV built with embedding_backend = "static" (DEV from scripts/make_dev_archive.py).
For each encoder folder (default: models/minilm-onnx), each shortlist size and each fusion of index.search's
second stage, prints hybrid lines@1/@5/@20 over the answerable questions of the calibration half of
tests/eval/web_questions.jsonl (a passage of the right file overlapping the labelled lines in the top k). Every
chunk of the index is embedded once per encoder first, so the grid costs only the fusions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CUTOFFS = (1, 5, 20)
# None: the first stage alone (static + BM25). Otherwise index.search.second_stage's weights per ranking.
FUSIONS: list[dict[str, float] | None] = [None, {"minilm": 1.0}]
FUSIONS += [{"first": 1.0, "minilm": m} for m in (0.5, 1.0, 2.0)]
FUSIONS += [{"dense": d, "bm25": 1.0, "minilm": m}
            for d, m in itertools.product((0.0, 0.25, 0.5), (0.25, 0.5, 0.75, 1.0, 1.5, 2.0))]


def lines_recall(searcher, items: list[dict], k: int = max(CUTOFFS)) -> dict[str, float]:
    found = dict.fromkeys(CUTOFFS, 0)
    for item in items:
        low, high = item["lines"]
        hits = searcher.search(item["question"], k=k, mode="hybrid")
        overlap = [h.chunk.source.endswith(item["source"]) and h.chunk.start_line <= high and h.chunk.end_line >= low
                   for h in hits]
        for cutoff in CUTOFFS:
            found[cutoff] += any(overlap[:cutoff])
    return {f"lines@{c}": round(found[c] / len(items), 4) for c in CUTOFFS}


def main() -> int:
    from core.settings import load_settings
    from index.question_encoder import OnnxMiniLM
    from index.search import SHORTLIST_VECTORS, Searcher
    from qa.evaluate import load_questions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "eval" / "web_questions.jsonl")
    parser.add_argument("--half", default="calibration")
    parser.add_argument("--encoder-dir", type=Path, action="append", default=None)
    parser.add_argument("--shortlists", type=lambda s: [int(x) for x in s.split(",")], default=[10, 20, 30, 50])
    parser.add_argument("--vectors-dir", type=Path, default=None,
                        help="keep each encoder's chunk vectors here (NAME.npy) and reuse them on the next run")
    args = parser.parse_args()
    items = [i for i in load_questions(args.questions)
             if i.get("half") == args.half and not i.get("unanswerable") and i.get("lines")]
    results = []
    for folder in args.encoder_dir or [None]:
        settings = load_settings(archive_dir=args.archive, index_dir=args.index, embedding_backend="static",
                                 minilm_onnx_dir=folder)
        searcher = Searcher.open(settings)
        encoder = searcher.answer_embedder
        assert isinstance(encoder, OnnxMiniLM)
        started = time.perf_counter()
        texts = [chunk.embedding_text() for chunk in searcher.iter_chunks()]
        SHORTLIST_VECTORS.max_entries = max(SHORTLIST_VECTORS.max_entries, 4 * len(texts))
        stored = args.vectors_dir / f"{encoder.name}-{len(texts)}.npy" if args.vectors_dir else None
        if stored is not None and stored.is_file():
            for text, vector in zip(texts, np.load(stored), strict=True):  # as if embedded in this process
                SHORTLIST_VECTORS._vectors[(encoder.name, text)] = vector
        vectors = SHORTLIST_VECTORS.embed(encoder, texts)
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            np.save(stored, vectors)
        print(f"# {encoder.name}: {len(texts)} chunks embedded in {time.perf_counter() - started:.0f} s",
              file=sys.stderr, flush=True)
        for shortlist, fusion in itertools.product(args.shortlists, FUSIONS):
            if fusion is None and shortlist != args.shortlists[0]:
                continue
            searcher.two_stage = fusion is not None
            searcher.second_stage_weights = fusion or {}
            searcher.settings = settings.model_copy(update={"minilm_shortlist": shortlist})
            row = {"encoder": encoder.name, "shortlist": shortlist, "fusion": fusion, **lines_recall(searcher, items)}
            results.append(row)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
