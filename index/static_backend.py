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
import logging
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
            from model2vec import StaticModel

            # huggingface_hub warns that the card has no metadata block: noise for a local folder
            logging.getLogger("huggingface_hub.repocard").setLevel(logging.ERROR)
            self.model = StaticModel.from_pretrained(str(path), normalize=True)
        except ImportError as error:
            raise ModelUnavailable(f"the static backend needs model2vec ({error}): pip install -e .") from error
        except Exception as error:  # the library raises many kinds; all mean "cannot load"
            raise ModelUnavailable(f"cannot load the static embedding model from {path}: {error}") from error
        if int(self.model.dim) != self.dim:
            raise ModelUnavailable(f"static embedding model {path}: {self.model.dim} dimensions, card says {self.dim}")
        self.tokenizer = self.model.tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._lock = threading.Lock()  # a Rust tokenizer raises "Already borrowed" if two threads share it

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # max_length=None: a chunk is embedded whole (the chunker bounds it); one process, since the build
            # engines already spread files over the cores.
            vectors = self.model.encode(list(texts), max_length=None, use_multiprocessing=False,
                                        show_progress_bar=False)
        matrix = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1.0))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            pieces = len(self.tokenizer.encode(text, add_special_tokens=False).ids)
        return pieces + 2  # as MiniLM counts its [CLS] and [SEP]
