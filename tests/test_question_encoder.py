"""The question-time MiniLM (index.question_encoder): the shipped ONNX file is what its card says, its vectors are
sentence-transformers' (mean pooling, L2 norm) without torch, and a searcher over static vectors re-ranks its
shortlist with it and reports its cosines, while the hashing stand-in never loads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelUnavailable
from core.files import file_sha256
from core.settings import Settings
from index.build import build_index
from index.embed import HashingEmbedder
from index.question_encoder import CARD_FILE, DEFAULT_ENCODER_DIR, MODEL_FILE, OnnxMiniLM, read_card
from index.search import Searcher, second_stage

TEXTS = [
    "Who leads Hezbollah?",
    "Hezbollah threatened to strike Tel Aviv if central Beirut were hit, its leader said in a televised speech.",
    "The cat slept on the sofa all afternoon while it rained.",
    "naïve café 東京 🎉 " * 3,
    " ".join(["unbelievably"] * 400),  # longer than the 256-token window: truncated like sentence-transformers
]


@pytest.fixture(scope="module")
def encoder() -> OnnxMiniLM:
    return OnnxMiniLM()


def test_shipped_file_matches_its_card_and_is_small():
    card = read_card(DEFAULT_ENCODER_DIR)
    model = DEFAULT_ENCODER_DIR / MODEL_FILE
    assert model.stat().st_size <= 50_000_000
    assert file_sha256(model) == card["sha256"]
    assert card["dim"] == 384 and card["max_length"] == 256 and card["name"] == "all-MiniLM-L6-v2"
    assert card["check_against_torch"]["texts"] >= 200 and card["check_against_torch"]["cosine_min"] >= 0.98


def test_altered_or_missing_file_is_refused_with_one_line(tmp_path):
    altered = tmp_path / "altered"
    shutil.copytree(DEFAULT_ENCODER_DIR, altered)
    data = bytearray((altered / MODEL_FILE).read_bytes())
    data[-5] ^= 0xFF
    (altered / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match="does not match its sha256"):
        OnnxMiniLM(altered)
    (altered / CARD_FILE).unlink()
    with pytest.raises(ModelUnavailable, match="minilm.json is missing"):
        OnnxMiniLM(altered)


def test_vectors_are_unit_length_rank_the_related_text_first_and_do_not_depend_on_batching(encoder):
    vectors = encoder.embed_documents(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    question = encoder.embed_query(TEXTS[0])
    assert question @ vectors[1] > question @ vectors[2] + 0.2
    alone = encoder.embed_documents([TEXTS[2]])[0]
    assert np.array_equal(alone, vectors[2])  # one text per run: the same vector whatever it is batched with
    assert encoder.embed_documents([]).shape == (0, 384)


def test_token_counts_match_the_chunker_counts(encoder):
    from core.settings import bundled_model_dir
    from index.engine import _tokenizer_counter

    count = _tokenizer_counter(bundled_model_dir())  # checked against transformers in test_static_backend.py
    for text in TEXTS:
        assert encoder.count_tokens(text) == count(text)
    assert count(TEXTS[-1]) > 256  # counted whole, though only 256 tokens are embedded


@pytest.mark.slow
def test_vectors_match_sentence_transformers(encoder):
    """Mean pooling and L2 norm as sentence-transformers computes them for this model (torch, in this test only)."""
    from sentence_transformers import SentenceTransformer

    from core.settings import bundled_model_dir

    reference = SentenceTransformer(bundled_model_dir(), device="cpu", local_files_only=True)
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (encoder.embed_documents(TEXTS) * expected).sum(axis=1)
    assert cosines.min() >= 0.98, cosines


def test_second_stage_fuses_minilm_with_the_first_stage_ranks():
    ids = [10, 11, 12]
    minilm = {10: 0.2, 11: 0.9, 12: 0.5}
    ranks = {"dense": {10: 1, 11: 3, 12: 2}, "bm25": {10: 2, 11: 1}}
    settings = Settings()
    ranked = second_stage(ids, minilm, ranks, {"minilm": settings.minilm_weight, "bm25": settings.bm25_weight},
                          settings.rrf_k)
    assert sorted(i for i, _ in ranked) == ids
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert ranked[-1][0] == 12  # absent from BM25 and not first by MiniLM
    assert ranked[0] == (11, pytest.approx(0.5 / 61 + 1 / 61))  # first by MiniLM and in BM25
    assert ranked[1] == (10, pytest.approx(0.5 / 63 + 1 / 62))  # the static ranking weighs nothing by default
    assert [i for i, _ in second_stage(ids, minilm, ranks, {"minilm": 1.0}, 60)] == [11, 12, 10]  # MiniLM alone


def test_hashing_index_never_loads_minilm(hashing_settings):
    build_index(hashing_settings, progress=False)
    searcher = Searcher.open(hashing_settings)
    assert not searcher.two_stage and searcher.answer_embedder is searcher.embedder


def test_two_stage_search_reranks_the_shortlist_and_reports_the_second_model_cosine(hashing_settings, monkeypatch):
    build_index(hashing_settings, progress=False)
    searcher = Searcher.open(hashing_settings.model_copy(update={"minilm_shortlist": 8}))
    other = HashingEmbedder(dim=96)  # stands in for MiniLM: other vectors than the index's
    monkeypatch.setattr(Searcher, "answer_embedder", property(lambda self: other))
    query = "Hezbollah threatens Tel Aviv over strikes on Beirut"
    first = searcher.search(query, k=8, mode="hybrid")
    searcher.two_stage = True
    second = searcher.search(query, k=3, mode="hybrid")
    assert len(second) == 3 and [h.rank for h in second] == [1, 2, 3]
    assert {h.chunk.id for h in second} <= {h.chunk.id for h in first}  # re-ranked inside the shortlist
    vector = other.embed_query(query)
    for hit in second:
        assert hit.dense_score == pytest.approx(float(other.embed_documents([hit.chunk.embedding_text()])[0] @ vector),
                                                abs=1e-5)
    assert all(h.dense_score is None for h in searcher.search(query, k=3, mode="bm25"))  # BM25 loads no model


@pytest.mark.slow
def test_an_index_of_minilm_vectors_keeps_serving_under_the_static_settings_without_torch(tmp_path):
    """The manifest says the index holds MiniLM's vectors: the static settings serve it with MiniLM for the
    question (no second stage: the passages' cosines come from the index), and no torch is loaded to do it."""
    import json
    import os
    import subprocess
    import sys

    from core.settings import BUNDLED_ARCHIVE, load_settings

    index = tmp_path / "index"
    build_index(load_settings(archive_dir=BUNDLED_ARCHIVE, index_dir=index, embedding_backend="onnx"), progress=False)
    code = f"""
import json, sys
from core.settings import load_settings
from index.search import Searcher
settings = load_settings(archive_dir={str(BUNDLED_ARCHIVE)!r}, index_dir={str(index)!r}, embedding_backend="static")
searcher = Searcher.open(settings)
hits = searcher.search("Who leads Hezbollah?", k=5)
print(json.dumps({{"two_stage": searcher.two_stage, "backend": searcher.settings.embedding_backend,
                  "same": searcher.answer_embedder is searcher.embedder, "hits": len(hits),
                  "dense": [h.dense_score for h in hits], "torch": "torch" in sys.modules}}))
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["two_stage"] is False and seen["backend"] == "onnx" and seen["same"] is True
    assert seen["hits"] == 5 and seen["torch"] is False and max(seen["dense"]) > 0.3
