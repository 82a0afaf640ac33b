"""The static embedding backend (embedding_backend = "static"): a model2vec token-vector table distilled here from
the bundled all-MiniLM-L6-v2 (scripts/distill_static.py), shipped in models/static-minilm.

A text's vector is the mean of its tokens' vectors: a table lookup, no attention, no torch, no transformers. It
embeds a 300-article archive in under a second where MiniLM takes a minute and a half. Fused with BM25 its top 5
passages hold the answer as often as MiniLM's, and the reader (qa/reader.py) picks the sentence among them; its
cosines are a weaker sign that the archive answers at all, so refusals are fewer (docs/EVALUATION.md, "Issue 20").

The folder's static.json lists the sha256 of every model file; they are checked before the table is loaded, so an
altered or half-copied model is refused with one line instead of giving silently different vectors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ModelUnavailable
from core.files import file_sha256

DEFAULT_STATIC_DIR = Path(__file__).resolve().parents[1] / "models" / "static-minilm"
CARD_FILE = "static.json"


def read_card(model_dir: str | Path) -> dict:
    """The model's static.json, or ModelUnavailable naming what is wrong."""
    path = Path(model_dir).expanduser()
    card_path = path / CARD_FILE
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelUnavailable(
            f"static embedding model not found: {card_path} is missing "
            "(set static_model_dir / ARCHIVE_QA_STATIC_MODEL_DIR, or make it: python scripts/distill_static.py)"
        ) from error
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"static embedding model card {card_path} is unreadable: {error}") from error
    if not isinstance(card, dict) or not {"name", "dims", "files"} <= set(card):
        raise ModelUnavailable(f"static embedding model card {card_path} lacks name, dims or files")
    return card


def static_identity(model_dir: str | Path) -> tuple[str, int]:
    """The name recorded in an index manifest for this model's vectors, and their dimension, from the card alone.

    The name carries the start of the table's sha256: a model distilled again with other settings or another
    vocabulary gives other vectors, and an index built with one is refused by a searcher using the other.
    """
    card = read_card(model_dir)
    table = str(card["files"].get("model.safetensors", ""))[:12]
    return f"{card['name']}@{table}", int(card["dims"])


def verify_files(model_dir: Path, card: dict) -> None:
    for relative, expected in sorted(card["files"].items()):
        path = model_dir / relative
        if not path.is_file():
            raise ModelUnavailable(f"static embedding model file missing: {path}")
        if file_sha256(path) != expected:
            raise ModelUnavailable(
                f"static embedding model file {path} does not match its sha256 in {CARD_FILE} "
                "(altered or incompletely copied; reinstall it or distil it again)"
            )


class StaticEmbedder:
    """Vectors from the distilled token table: L2-normalised float32, like every other embedder."""

    max_tokens = 256  # no context window of its own: chunks keep MiniLM's bound so both backends chunk alike
    # index.embed owns the backend names (STATIC_BACKEND chooses this class) and imports this module, never the
    # reverse: the name is repeated here, and tests/test_static_backend.py checks that the two agree.
    backend = "static"

    def __init__(self, model_dir: str | Path | None = None) -> None:
        path = Path(model_dir or DEFAULT_STATIC_DIR).expanduser()
        card = read_card(path)
        verify_files(path, card)
        self.name, self.dim = static_identity(path)
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            # The table and the tokenizer read directly, as model2vec's StaticModel reads them: importing model2vec
            # (huggingface_hub, joblib, requests) cost 0.3-0.7 s of every cold search. The arithmetic below is
            # model2vec 0.9's (tests/test_static_backend.py checks the vectors are the same).
            tensors = load_file(str(path / "model.safetensors"))
            self.table = tensors["embeddings"]
            self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        except ImportError as error:
            raise ModelUnavailable(f"the static backend needs safetensors and tokenizers ({error}): "
                                   "pip install -e .") from error
        except Exception as error:  # safetensors and tokenizers raise their own kinds for a broken file
            raise ModelUnavailable(f"cannot load the static embedding model from {path}: {error}") from error
        if set(tensors) != {"embeddings"}:
            # weights or a token mapping: a vocabulary-quantised model, which this reader does not apply
            raise ModelUnavailable(f"static embedding model {path}: unexpected tensors {sorted(tensors)}")
        if self.table.ndim != 2 or int(self.table.shape[1]) != self.dim:
            raise ModelUnavailable(f"static embedding model {path}: table of shape {self.table.shape}, "
                                   f"card says {self.dim} dimensions")
        if self.table.shape[0] != self.tokenizer.get_vocab_size():
            raise ModelUnavailable(f"static embedding model {path}: {self.table.shape[0]} vectors for "
                                   f"{self.tokenizer.get_vocab_size()} tokens")
        unknown = getattr(self.tokenizer.model, "unk_token", None)
        self.unknown_id = self.tokenizer.token_to_id(unknown) if unknown is not None else None
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._lock = threading.Lock()  # a Rust tokenizer raises "Already borrowed" if two threads share it

    def _token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        with self._lock:
            encodings = self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        ids = [encoding.ids for encoding in encodings]
        if self.unknown_id is not None:
            ids = [[token for token in row if token != self.unknown_id] for row in ids]
        return ids

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # A chunk is embedded whole (the chunker bounds it). The mean is taken in the table's dtype and
        # normalised once there, then again in float32: model2vec's steps, so an index built with it matches.
        rows = [self.table[ids].mean(axis=0) if ids else np.zeros(self.dim) for ids in self._token_ids(texts)]
        stacked = np.stack(rows)
        stacked = stacked / (np.linalg.norm(stacked, axis=1, keepdims=True) + 1e-32)
        matrix = np.asarray(stacked, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1.0))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            pieces = len(self.tokenizer.encode(text, add_special_tokens=False).ids)
        return pieces + 2  # as MiniLM counts its [CLS] and [SEP]
