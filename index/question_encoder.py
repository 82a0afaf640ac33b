"""MiniLM at question time, without torch: all-MiniLM-L6-v2 run by ONNX Runtime and the `tokenizers` library.

With static vectors in the index (embedding_backend = "static", the default) a question is first ranked by the
static table and BM25; this encoder then embeds the question and the shortlist of the hybrid top N chunks and
re-ranks them with MiniLM's cosine (index.search), and the answerer embeds its candidate sentences with it. So
a build never runs MiniLM, and a question reads MiniLM's cosines for the passages it answers from: the abstention
rule's passage signal is MiniLM's again (qa.abstain).

The ONNX file is exported from the bundled model by scripts/export_minilm_onnx.py and shipped in
models/minilm-onnx/ with its card (minilm.json), which records the file's sha256, checked before the model is
loaded. A text's vector is the mean of its token vectors over the attention mask, L2-normalised: what
sentence-transformers computes for this model (the card records the cosine to torch's vectors). One text per ONNX
run: int8 activations are quantised per run, so a text's vector never depends on what it was batched with, and a
cached vector equals a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelUnavailable
from core.files import file_sha256

DEFAULT_ENCODER_DIR = Path(__file__).resolve().parents[1] / "models" / "minilm-onnx"
CARD_FILE = "minilm.json"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = Path("tokenizer") / "tokenizer.json"
BACKEND = "minilm-onnx"
QUERY_CACHE_SIZE = 256


def read_card(folder: str | Path) -> dict:
    path = Path(folder).expanduser() / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelUnavailable(
            f"question-time MiniLM not found: {path} is missing (set minilm_onnx_dir / ARCHIVE_QA_MINILM_ONNX_DIR, "
            "or export it: python scripts/export_minilm_onnx.py --out models/minilm-onnx)") from error
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"question-time MiniLM card {path} is unreadable: {error}") from error
    if not isinstance(card, dict) or not {"name", "dim", "sha256", "max_length"} <= set(card):
        raise ModelUnavailable(f"question-time MiniLM card {path} lacks name, dim, sha256 or max_length")
    return card


def encoder_identity(card: dict) -> str:
    """The name of this encoder's vectors: the model's name, plus the file's format and digest unless fp32.

    fp32 gives the vectors sentence-transformers gives (cosine 1.0 to torch's), so it shares the model's name with
    an index built by the torch or ONNX backends; int8 vectors differ slightly and are named apart.
    """
    if card.get("format", "fp32") == "fp32":
        return str(card["name"])
    return f"{card['name']}+{card['format']}@{str(card['sha256'])[:12]}"


def _check_files(folder: Path, card: dict) -> None:
    for relative, key in ((Path(MODEL_FILE), "sha256"), (TOKENIZER_FILE, "tokenizer_sha256")):
        path = folder / relative
        if not path.is_file():
            raise ModelUnavailable(f"question-time MiniLM file missing: {path} (reinstall it from the repository)")
        expected = card.get(key)
        if expected and file_sha256(path) != expected:
            raise ModelUnavailable(f"question-time MiniLM file {path} does not match its sha256 in {CARD_FILE} "
                                   "(altered or incompletely copied; reinstall it from the repository)")


class OnnxMiniLM:
    """The Embedder protocol (index.embed) over the ONNX MiniLM: unit-length float32 vectors, 256-token window."""

    backend = BACKEND

    def __init__(self, folder: str | Path | None = None, *, check: bool = True, threads: int = 0) -> None:
        path = Path(folder or DEFAULT_ENCODER_DIR).expanduser()
        card = read_card(path)
        if check:
            _check_files(path, card)
        self.card = card
        self.name = encoder_identity(card)
        self.dim = int(card["dim"])
        self.max_tokens = int(card["max_length"])
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            # One short sequence per run: threads that spin-wait between runs only take the core from what loads
            # beside it (the readers, spaCy): measured 0.71 s -> 0.54 s for 20 chunks on a busy 2-core machine.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = ort.InferenceSession(str(path / MODEL_FILE), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
        except ImportError as error:
            raise ModelUnavailable(f"the question-time MiniLM needs onnxruntime and tokenizers ({error}): "
                                   "pip install -e .") from error
        except Exception as error:  # onnxruntime and tokenizers raise their own kinds for a broken file
            raise ModelUnavailable(f"cannot load the question-time MiniLM from {path}: {error}") from error
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        self._counter = Tokenizer.from_file(str(path / TOKENIZER_FILE))
        self._counter.no_padding()
        self._counter.no_truncation()
        self.inputs = {item.name for item in self.session.get_inputs()}
        self._lock = threading.Lock()  # one session run and one tokenizer call at a time ("Already borrowed")
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def _vector(self, text: str) -> np.ndarray:
        encoded = self.tokenizer.encode(text)
        feed = {"input_ids": np.array([encoded.ids], dtype=np.int64),
                "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([encoded.type_ids], dtype=np.int64)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0][0]
        mask = feed["attention_mask"][0].astype(np.float32)[:, None]
        pooled = (hidden * mask).sum(axis=0) / max(float(mask.sum()), 1e-9)
        norm = float(np.linalg.norm(pooled))
        return (pooled / norm if norm > 0 else pooled).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.ascontiguousarray(np.stack([self._vector(text) for text in texts]), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached.copy()
            vector = self._vector(text)
            self._queries[text] = vector.copy()
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._counter.encode(text, add_special_tokens=True).ids)


class QueryEncoder:
    """The question-time MiniLM serving an index built with MiniLM's own vectors (embedding_backend "onnx" or "torch")
    under the default static settings: questions and sentences are embedded by this file (int8: cosine 0.99 to the
    fp32 vectors the index holds) instead of loading torch, and the passages' cosines come from the index. Named as
    the index's vectors, which are the same model's; loaded on first use."""

    def __init__(self, settings: Any, name: str) -> None:
        card = read_card(encoder_dir(settings))
        self._settings = settings
        self.name = name
        self.dim = int(card["dim"])
        self.max_tokens = int(card["max_length"])

    def _encoder(self) -> OnnxMiniLM:
        return load_encoder(self._settings)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder().embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encoder().embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self._encoder().count_tokens(text)


_LOADING = threading.Lock()
_LOADED: dict[str, OnnxMiniLM] = {}


def encoder_dir(settings: Any) -> Path:
    return Path(getattr(settings, "minilm_onnx_dir", None) or DEFAULT_ENCODER_DIR)


def load_encoder(settings: Any = None, folder: str | Path | None = None) -> OnnxMiniLM:
    """The question-time encoder, loaded (and its files checked) once per process and folder."""
    path = Path(folder) if folder is not None else encoder_dir(settings)
    key = str(path.resolve())
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = OnnxMiniLM(path)
        return _LOADED[key]


def prefetch_encoder(settings: Any) -> threading.Thread:
    """Start loading the encoder in a daemon thread; a failure is left for load_encoder to raise when needed."""

    def load_quietly() -> None:
        with contextlib.suppress(ModelUnavailable):
            load_encoder(settings)

    thread = threading.Thread(target=load_quietly, name="minilm-prefetch", daemon=True)
    thread.start()
    return thread
