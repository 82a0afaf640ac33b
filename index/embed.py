"""Embedders: sentence-transformers from a local folder, and a deterministic hashing stand-in for tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core.errors import ModelUnavailable


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors and counts the model's tokens."""

    name: str  # identifies the model in the index manifest
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, each row of unit length."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32 of unit length."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text`, special tokens included."""
        ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def model_identity(model_dir: str | Path) -> tuple[str, int | None]:
    """Name and dimension of a local sentence-transformers folder, read from its files without loading it.

    The name is the model card's title when it is a single word (all-MiniLM-L6-v2), else the folder name.
    """
    path = Path(model_dir).expanduser()
    name = path.name if path.name not in {"model", "models", ""} else path.parent.name
    card = path / "README.md"
    if card.is_file():
        for line in card.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                if title and " " not in title:
                    name = title
                break
    return name, _model_dim(path)


def _model_dim(path: Path) -> int | None:
    """Output dimension: the last Dense layer's out_features, else the pooling layer's input dimension."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dim = None
    for module in modules:
        try:
            config = json.loads((path / module.get("path", "") / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if "out_features" in config:
            dim = int(config["out_features"])
        elif "word_embedding_dimension" in config and dim is None:
            dim = int(config["word_embedding_dimension"])
    return dim


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, on the CPU, with no network."""

    def __init__(self, model_dir: str | Path, *, batch_size: int = 32) -> None:
        path = Path(model_dir).expanduser()
        if not path.is_dir():
            raise ModelUnavailable(
                f"embedding model folder not found: {model_dir} "
                "(set embedding_model / ARCHIVE_QA_EMBEDDING_MODEL to a local sentence-transformers folder)"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise ModelUnavailable(
                f"sentence-transformers is not installed ({error}): pip install -e ."
            ) from error
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as error:  # the library raises many kinds; all mean "cannot load"
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ModelUnavailable(f"cannot load the embedding model from {path}: {reason}") from error
        self.name = model_identity(path)[0]
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        self.max_tokens = int(self.model.max_seq_length)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # a fast tokenizer raises "Already borrowed" if two threads share it

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            encoded = self.model.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)
        return len(encoded["input_ids"])


_FEATURE_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\w+|[^\w\s]")


class HashingEmbedder:
    """Deterministic, fast, model-free vectors from hashed words and character trigrams (tests only).

    Texts sharing words or word fragments get a high cosine; nothing is learned, so it knows no synonyms.
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"
        self.max_tokens = 256

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        ).casefold()
        for word in _FEATURE_WORD.findall(folded):
            features = [("w", word, 1.0)]
            padded = f"<{word}>"
            features.extend(("c", padded[i : i + 3], 0.35) for i in range(max(len(padded) - 2, 1)))
            for kind, feature, weight in features:
                digest = hashlib.blake2b(f"{kind}:{feature}".encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                vector[value % self.dim] += weight if value >> 63 else -weight
        return vector

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(np.stack([self._vector(text) for text in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text)) + 2  # as if [CLS] and [SEP] were added


def model_description(settings) -> tuple[str, int | None]:
    """Name and dimension of the configured model, without loading it (for manifest checks)."""
    if settings.embedding_backend == "hashing":
        embedder = HashingEmbedder()
        return embedder.name, embedder.dim
    return model_identity(settings.embedding_model)


def make_embedder(settings) -> Embedder:
    """The embedder the settings ask for; loading failures raise ModelUnavailable."""
    if settings.embedding_backend == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(settings.embedding_model, batch_size=settings.embed_batch_size)
