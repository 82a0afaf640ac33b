"""The span reader: start/end logits and a null score over a question and a window of sentences, trained here
(scripts/train_span_reader.py), run with ONNX Runtime and the `tokenizers` library (no torch at answer time).

It reads the sentence the sentence reader (qa.reader) chose, with its neighbours, and gives the phrase that
answers (character offsets into the window) and the null margin: best span score minus the "no answer" score,
one of the abstention rule's signals. It ships in models/span-reader/ with its card; the ONNX file's sha256 is
checked against the card before it is loaded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from qa.model_files import ModelFiles, checked_model, onnx_session, prefetch
from qa.span_decode import SpanReading, best_span

DEFAULT_SPAN_READER_DIR = Path(__file__).resolve().parents[1] / "models" / "span-reader"
SPAN_READER_FILES = ModelFiles(model="span-reader.onnx", card="span-reader.json", what="span reader")
CACHE_WINDOWS = 4096  # readings kept per process: related questions come back to the same windows


class OnnxSpanReader:
    """The phrase each (question, window) pair answers with, and the null margin, from the ONNX span reader."""

    def __init__(self, model_path: Path, tokenizer_path: Path, max_length: int = 192, threads: int = 0) -> None:
        from tokenizers import Tokenizer

        self.session, self.inputs = onnx_session(model_path, threads)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The window is cut, never the question (what the reader was trained on: truncation "only_second").
        self.tokenizer.enable_truncation(max_length, strategy="only_second")
        self.tokenizer.no_padding()
        self.lock = threading.Lock()
        self.cache: OrderedDict[tuple[str, str], SpanReading] = OrderedDict()

    def read(self, question: str, window: str) -> SpanReading:
        """The best phrase of `window` for `question` and the null score (one ONNX run, cached)."""
        import numpy as np

        key = (question, window)
        with self.lock:
            if key in self.cache:
                self.cache.move_to_end(key)
                return self.cache[key]
        encoded = self.tokenizer.encode(question, window)
        ids, types, sequence, offsets = encoded.ids, encoded.type_ids, encoded.sequence_ids, encoded.offsets
        feed = {"input_ids": np.array([ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
                "token_type_ids": np.array([types], dtype=np.int64)}
        with self.lock:
            start, end = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[:2]
        reading = best_span(start[0], end[0], offsets, [s == 1 for s in sequence], window)
        with self.lock:
            self.cache[key] = reading
            while len(self.cache) > CACHE_WINDOWS:
                self.cache.popitem(last=False)
        return reading


def load_span_reader(reader_dir: Path | str | None = None) -> OnnxSpanReader:
    """The shipped span reader (loaded once per process), its file checked against the sha256 of its card."""
    return checked_model(SPAN_READER_FILES, Path(reader_dir) if reader_dir else DEFAULT_SPAN_READER_DIR,
                         lambda path, tokenizer, card: OnnxSpanReader(path, tokenizer,
                                                                      max_length=int(card.get("max_length", 192))))


def prefetch_span_reader(reader_dir: Path | str | None = None) -> threading.Thread:
    """Start loading the span reader in the background; a failure is raised when the answer needs it."""
    return prefetch(lambda: load_span_reader(reader_dir), "span-reader-prefetch")
