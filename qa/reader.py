"""The reader: a cross-encoder trained here (scripts/train_reader.py) that scores whether a sentence answers a
question, run with ONNX Runtime and the `tokenizers` library (no torch, no transformers at answer time).

It ships in the repository (models/reader/: the ONNX file, its tokenizer, and reader.json with the held-out
figures and the file's sha256, checked before the model is loaded: a changed or truncated file is refused).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from core.files import file_sha256  # noqa: F401  (tests check the shipped file with it)
from qa import model_files
from qa.model_files import ModelFiles, ReaderUnavailable, onnx_session  # noqa: F401  (the error callers catch)

DEFAULT_READER_DIR = Path(__file__).resolve().parents[1] / "models" / "reader"
READER_FILES = ModelFiles(model="reader.onnx", card="reader.json", what="reader")
CACHE_PAIRS = 8192  # logits kept per process: related questions come back to the same passages


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


class OnnxReader:
    """Probabilities that each (question, sentence) pair answers, from the ONNX cross-encoder."""

    def __init__(self, model_path: Path, tokenizer_path: Path, max_length: int = 128, threads: int = 0) -> None:
        from tokenizers import Tokenizer

        self.session, self.inputs = onnx_session(model_path, threads)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length, strategy="longest_first")
        self.lock = threading.Lock()  # the app answers from several threads; one session run at a time is enough
        self.cache: OrderedDict[tuple[str, str], float] = OrderedDict()

    def logits(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """The reader's logit for each pair (higher: the sentence answers the question)."""
        import numpy as np

        with self.lock:
            known = {pair: self.cache[pair] for pair in pairs if pair in self.cache}
        todo = [pair for pair in dict.fromkeys(pairs) if pair not in known]
        # One pair per ONNX run, unpadded: int8 activations are quantised per run, so a pair batched beside longer
        # ones scored up to 0.04 differently; alone it scores the same whatever else is asked (83 ms for 24 pairs,
        # 78 batched).
        for pair in todo:
            encoded = self.tokenizer.encode(*pair)
            feed = {"input_ids": np.array([encoded.ids], dtype=np.int64),
                    "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
                    "token_type_ids": np.array([encoded.type_ids], dtype=np.int64)}
            with self.lock:
                out = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            known[pair] = float(out.reshape(-1)[0])
        with self.lock:
            for pair in todo:
                self.cache[pair] = known[pair]
            while len(self.cache) > CACHE_PAIRS:
                self.cache.popitem(last=False)
        return [known[pair] for pair in pairs]

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [sigmoid(x) for x in self.logits(pairs)] if pairs else []


def read_card(reader_dir: Path) -> dict:
    return model_files.read_card(READER_FILES, reader_dir)


def load_reader(reader_dir: Path | str | None = None) -> OnnxReader:
    """The shipped reader (loaded once per process), after checking its file against the sha256 its card records."""
    return model_files.checked_model(READER_FILES, Path(reader_dir) if reader_dir else DEFAULT_READER_DIR,
                                     lambda path, tokenizer, card: OnnxReader(
                                         path, tokenizer, max_length=int(card.get("max_length", 128))))


def prefetch_reader(reader_dir: Path | str | None = None) -> threading.Thread:
    """Start loading the reader in the background (the index and the embedder load meanwhile on the other core).

    A failure is left for load_reader to raise, with its message, when the answer needs the reader.
    """
    return model_files.prefetch(lambda: load_reader(reader_dir), "reader-prefetch")
