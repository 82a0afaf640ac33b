"""Embedders: sentence-transformers from a local folder, and a deterministic hashing stand-in for tests."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.env import set_offline_environment
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


TORCH_BACKEND = "torch"
STATIC_BACKEND = "static"  # index.static_backend (imported only when chosen; it never imports this module)
ONNX_BACKENDS = ("onnx", "onnx-int8")
QUERY_CACHE_SIZE = 256  # one `ask` embeds its question up to three times (search, evidence, sentence scores)


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indexes of `texts` in batches of similar length, longest first.

    A batch is padded to its longest text, so mixing a 20-token sentence with a 256-token chunk makes the
    model compute 236 tokens of padding; sorting first keeps padding small. Callers restore the order.
    """
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    size = max(1, batch_size)
    return [order[start : start + size] for start in range(0, len(order), size)]


def encode_length_sorted(
    encode: Callable[[list[str]], np.ndarray], texts: Sequence[str], batch_size: int, dim: int
) -> np.ndarray:
    """`encode` applied batch by batch in length order, rows returned in the order of `texts`."""
    result = np.zeros((len(texts), dim), dtype=np.float32)
    for batch in length_sorted_batches(texts, batch_size):
        result[batch] = np.asarray(encode([texts[i] for i in batch]), dtype=np.float32)
    return result


def embedder_name(base_name: str, backend: str, quantisation: str | None = None) -> str:
    """The name recorded in the index manifest for vectors made by `backend`.

    torch and ONNX fp32 give the same vectors (max abs difference ~1e-7, docs/BENCHMARKS.md), so they share
    the model's name and switching between them needs no rebuild. int8 vectors differ (cosine ~0.99 to fp32)
    and differ again between quantisation configs, so they carry the config in the name: an index built
    with one is refused by a searcher using another, with a rebuild as the fix.
    """
    if backend == "onnx-int8":
        from index.onnx_backend import quantisation_for_cpu

        return f"{base_name}+int8-{quantisation or quantisation_for_cpu()}"
    return base_name


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, on the CPU, with no network.

    backend "torch" runs the PyTorch weights; "onnx" and "onnx-int8" run an ONNX Runtime graph exported
    from the same folder on first use and cached under `cache_dir` (index.onnx_backend).
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        batch_size: int = 32,
        backend: str = TORCH_BACKEND,
        cache_dir: str | Path | None = None,
        threads: int | None = None,
    ) -> None:
        path = Path(model_dir).expanduser()
        if not path.is_dir():
            raise ModelUnavailable(
                f"embedding model folder not found: {model_dir} "
                "(set embedding_model / ARCHIVE_QA_EMBEDDING_MODEL to a local sentence-transformers folder)"
            )
        set_offline_environment()
        from index.onnx_backend import physical_cores, quantisation_for_cpu

        self.threads = threads or physical_cores()
        self.backend = backend
        self.quantisation = quantisation_for_cpu() if backend == "onnx-int8" else None
        self.model = _load_model(path, backend, self.quantisation, cache_dir, self.threads)
        self.name = embedder_name(model_identity(path)[0], backend, self.quantisation)
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        self.max_tokens = int(self.model.max_seq_length)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # a fast tokenizer raises "Already borrowed" if two threads share it
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = encode_length_sorted(self._encode, list(texts), self.batch_size, self.dim)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached.copy()
        vector = self.embed_documents([text])[0]
        with self._lock:
            self._queries[text] = vector.copy()
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector

    def count_tokens(self, text: str) -> int:
        with self._lock:
            encoded = self.model.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)
        return len(encoded["input_ids"])


def _load_model(
    path: Path, backend: str, quantisation: str | None, cache_dir: str | Path | None, threads: int
) -> Any:
    """The SentenceTransformer for `backend`; an ONNX variant is exported into `cache_dir` first if needed."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ModelUnavailable(f"sentence-transformers is not installed ({error}): pip install -e .") from error
    try:
        if backend == TORCH_BACKEND:
            import torch

            torch.set_num_threads(threads)  # one per physical core; SMT siblings only add contention
            return SentenceTransformer(str(path), device="cpu", local_files_only=True)
        from index import onnx_backend

        if backend == "onnx" and not onnx_backend.onnx_available():
            # ONNX Runtime not installed: torch gives the same fp32 vectors (same manifest name), only slower.
            return _load_model(path, TORCH_BACKEND, None, cache_dir, threads)
        variant = onnx_backend.OnnxVariant(quantisation)
        folder = onnx_backend.ensure_export(path, cache_dir or path.parent / "onnx-cache", variant)
        kwargs = {"file_name": variant.file_name, "provider": "CPUExecutionProvider",
                  "session_options": onnx_backend.session_options(threads)}
        return SentenceTransformer(str(folder), backend="onnx", device="cpu", local_files_only=True,
                                   model_kwargs=kwargs)
    except ImportError as error:
        raise ModelUnavailable(
            f"the {backend} embedding backend needs optimum-onnx[onnxruntime] ({error}): pip install -e ."
        ) from error
    except Exception as error:  # the libraries raise many kinds; all mean "cannot load"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailable(f"cannot load the embedding model from {path} ({backend}): {reason}") from error


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


class VectorCache:
    """Vectors of texts already embedded, shared by every embedder of the same name (a bounded LRU).

    For `ask`, which embeds the sentences of its top passages: the same passages come back for related
    questions (and for the same question asked again from the app), so their sentences are embedded once.
    Keyed by the embedder's name, which names the vectors (torch and ONNX fp32 share them).
    """

    def __init__(self, max_entries: int = 20_000) -> None:  # 20k x 384 float32 = 31 MB at most
        self.max_entries = max_entries
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) vectors of `texts`, embedding only those not seen before (in one batch call)."""
        keys = [(embedder.name, text) for text in texts]
        with self._lock:
            found = {key: self._vectors[key] for key in keys if key in self._vectors}
            for key in found:
                self._vectors.move_to_end(key)
        missing = list(dict.fromkeys(key[1] for key in keys if key not in found))
        if missing:
            fresh = np.asarray(embedder.embed_documents(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    found[(embedder.name, text)] = vector
                    self._vectors[(embedder.name, text)] = vector
                while len(self._vectors) > self.max_entries:
                    self._vectors.popitem(last=False)
        with self._lock:
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([found[key] for key in keys])

    def clear(self) -> None:
        """Forget every vector and the counts (a benchmark measuring questions whose passages are new)."""
        with self._lock:
            self._vectors.clear()
            self.hits = self.misses = 0


SENTENCE_VECTORS = VectorCache()


def embed_cached(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """embedder.embed_documents(texts) through the process-wide VectorCache (for ask-time sentences)."""
    return SENTENCE_VECTORS.embed(embedder, texts)


def static_dir(settings) -> Path:
    from index.static_backend import DEFAULT_STATIC_DIR

    return Path(getattr(settings, "static_model_dir", None) or DEFAULT_STATIC_DIR)


def model_description(settings) -> tuple[str, int | None]:
    """Name and dimension of the configured model, without loading it (for manifest checks)."""
    if settings.embedding_backend == "hashing":
        embedder = HashingEmbedder()
        return embedder.name, embedder.dim
    if settings.embedding_backend == STATIC_BACKEND:
        from index.static_backend import static_identity

        return static_identity(static_dir(settings))
    name, dim = model_identity(settings.embedding_model)
    return embedder_name(name, settings.embedding_backend), dim


def make_embedder(settings) -> Embedder:
    """The embedder the settings ask for; loading failures raise ModelUnavailable."""
    if settings.embedding_backend == "hashing":
        return HashingEmbedder()
    if settings.embedding_backend == STATIC_BACKEND:
        from index.static_backend import StaticEmbedder

        return StaticEmbedder(static_dir(settings))
    return SentenceTransformerEmbedder(
        settings.embedding_model,
        batch_size=settings.embed_batch_size,
        backend=settings.embedding_backend,
        cache_dir=settings.model_cache_dir,
    )


class BackgroundEmbedder:
    """An embedder whose model starts loading in a thread at once; only the first call that needs it waits.

    The app creates one per server process: its page (question box, sidebar, BM25 search) renders while the
    model loads, instead of after the 5 s it takes. `name` and `dim` come from the model's files (what
    `Searcher.open` checks against the manifest), so opening an index never waits either. A failed load is
    raised to the caller that needed the model, and the next call tries again.
    """

    def __init__(self, settings, factory: Callable[[], Embedder] | None = None) -> None:
        self.name, dim = model_description(settings)
        self.dim = dim or 0
        self._factory = factory or (lambda: make_embedder(settings))
        self._lock = threading.Lock()
        self._loaded: Embedder | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._start()

    def _start(self) -> None:
        self._error = None
        self._thread = threading.Thread(target=self._load, name="archive-qa-model-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            self._loaded = self._factory()
        except BaseException as error:  # noqa: BLE001 - handed to the caller that needs the model
            self._error = error

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    def get(self) -> Embedder:
        """The loaded embedder, waiting for the load if it is still running."""
        loaded = self._loaded
        if loaded is not None:  # every call after the load: no lock, no join
            return loaded
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            error = self._error or RuntimeError("the embedding model did not load")
            if self._thread is thread:
                self._start()  # the next caller tries again (a model folder fixed meanwhile)
        raise error

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.get().embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.get().embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self.get().count_tokens(text)

    def __getattr__(self, name: str) -> Any:  # max_tokens, backend, ...: what the loaded model has
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)
