"""Loading a model trained here and shipped in models/: its card read, its ONNX file checked against the sha256 the
card records (a changed or truncated file is refused with one clear message), loaded once per process, and
optionally prefetched in a background thread while the index loads on the other core."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from core.errors import ArchiveError
from core.files import file_sha256

TOKENIZER_FILE = Path("tokenizer") / "tokenizer.json"
Model = TypeVar("Model")


class ReaderUnavailable(ArchiveError):
    """A reader's files are missing, altered, or cannot be loaded."""


@dataclass(frozen=True)
class ModelFiles:
    """The names of a shipped model's files inside its folder, and what to call it in messages."""

    model: str
    card: str
    what: str


def read_card(files: ModelFiles, folder: Path) -> dict:
    card_path = folder / files.card
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReaderUnavailable(f"no {files.what} at {folder} ({files.card} is missing)") from exc
    except (OSError, ValueError) as exc:
        raise ReaderUnavailable(f"the {files.what}'s card {card_path} cannot be read: {exc}") from exc


_LOADING = threading.Lock()  # one load per folder, whether the prefetch thread or the answer asks first
_LOADED: dict[tuple[str, str], Any] = {}


def checked_model(files: ModelFiles, folder: Path, build: Callable[[Path, Path, dict], Model]) -> Model:
    """`build(model_path, tokenizer_path, card)` once per process and folder, after the sha256 check."""
    key = (files.model, str(folder.resolve()))
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = _load(files, folder, build)
        return _LOADED[key]


def _load(files: ModelFiles, folder: Path, build: Callable[[Path, Path, dict], Model]) -> Model:
    card = read_card(files, folder)
    model_path = folder / files.model
    if not model_path.is_file():
        raise ReaderUnavailable(f"the {files.what}'s model {model_path} is missing")
    actual = file_sha256(model_path)
    if actual != card.get("sha256"):
        raise ReaderUnavailable(f"the {files.what}'s model {model_path} does not match its card (sha256 "
                                f"{actual[:16]}, expected {str(card.get('sha256'))[:16]}): reinstall it from the "
                                "repository")
    try:
        return build(model_path, folder / TOKENIZER_FILE, card)
    except Exception as exc:  # onnxruntime and tokenizers raise their own types for a broken file
        raise ReaderUnavailable(f"the {files.what} at {folder} cannot be loaded: {exc}") from exc


def prefetch(load: Callable[[], object], name: str) -> threading.Thread:
    """Run `load` in a daemon thread; a failure is left for the caller's own load to raise, with its message."""
    def load_quietly() -> None:
        with contextlib.suppress(ArchiveError):
            load()

    thread = threading.Thread(target=load_quietly, name=name, daemon=True)
    thread.start()
    return thread


def onnx_session(model_path: Path, threads: int = 0):
    """An ONNX Runtime session on the CPU for a shipped model (`threads` 0: ONNX Runtime's choice), and the names
    of its inputs (a model exported without token_type_ids is fed without them)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    return session, {i.name for i in session.get_inputs()}
