"""Embedding backends: length-sorted batches, the cached ONNX export, vector agreement, manifest names;
and the synthetic archive of `scripts/bench.py archive` (deterministic, unique names, no near-duplicates)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import IndexMismatch
from core.settings import Settings, bundled_model_dir
from index import onnx_backend
from index.embed import (
    HashingEmbedder,
    VectorCache,
    embedder_name,
    encode_length_sorted,
    length_sorted_batches,
    model_description,
)
from index.onnx_backend import OnnxVariant, ensure_export

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
TEXTS = [
    "Short.",
    "A much longer sentence about the convoy that crossed the border at night, escorted by four trucks.",
    "Middling text of some words.",
    "",
    "Another one, of medium length, about a council meeting.",
    "x" * 300,
    "Tiny",
]


def test_length_sorted_batches_cover_every_text_once_longest_first():
    batches = length_sorted_batches(TEXTS, 3)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(TEXTS)))
    lengths = [len(TEXTS[i]) for i in flat]
    assert lengths == sorted(lengths, reverse=True)
    assert [len(b) for b in batches] == [3, 3, 1]


def test_length_sorted_encoding_restores_the_callers_order():
    seen_batches = []

    def encode(batch: list[str]) -> np.ndarray:
        seen_batches.append(batch)
        return np.array([[len(text), sum(map(ord, text)) % 997] for text in batch], dtype=np.float32)

    vectors = encode_length_sorted(encode, TEXTS, 2, dim=2)
    expected = np.array([[len(t), sum(map(ord, t)) % 997] for t in TEXTS], dtype=np.float32)
    np.testing.assert_array_equal(vectors, expected)
    assert all(len(batch) <= 2 for batch in seen_batches)
    assert seen_batches[0][0] == "x" * 300  # the longest text leads the first batch


def test_length_sorted_embedding_matches_unsorted_embedding():
    embedder = HashingEmbedder()
    sorted_vectors = encode_length_sorted(embedder.embed_documents, TEXTS, 2, embedder.dim)
    np.testing.assert_allclose(sorted_vectors, embedder.embed_documents(TEXTS), atol=1e-6)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def test_vector_cache_embeds_each_text_once_and_keeps_order():
    embedder, cache = CountingEmbedder(), VectorCache(max_entries=3)
    first = cache.embed(embedder, ["a b", "c d", "a b"])
    np.testing.assert_allclose(first, HashingEmbedder().embed_documents(["a b", "c d", "a b"]), atol=1e-6)
    assert embedder.embedded == ["a b", "c d"]
    again = cache.embed(embedder, ["c d", "a b"])
    np.testing.assert_array_equal(again, first[[1, 0]])
    assert embedder.embedded == ["a b", "c d"]
    cache.embed(embedder, ["e", "f", "g"])  # evicts the two oldest
    cache.embed(embedder, ["a b"])
    assert embedder.embedded == ["a b", "c d", "e", "f", "g", "a b"]
    assert cache.embed(embedder, []).shape == (0, embedder.dim)
    assert (cache.hits, cache.misses) == (3, 6)
    cache.clear()  # what the benchmark does before measuring questions whose passages are new
    assert (cache.hits, cache.misses) == (0, 0)
    cache.embed(embedder, ["a b"])
    assert embedder.embedded[-1] == "a b" and len(embedder.embedded) == 7 and cache.misses == 1


def test_names_share_fp32_and_separate_int8(monkeypatch):
    monkeypatch.setattr(onnx_backend, "cpu_flags", lambda: {"avx2", "avx512_vnni"})
    torch_settings = Settings(embedding_backend="torch")
    onnx_settings = Settings(embedding_backend="onnx")
    int8_settings = Settings(embedding_backend="onnx-int8")
    assert model_description(torch_settings) == model_description(onnx_settings)
    assert model_description(int8_settings)[0] == model_description(torch_settings)[0] + "+int8-avx512_vnni"
    assert embedder_name("m", "onnx-int8", "avx2") != embedder_name("m", "onnx-int8", "avx512_vnni")


def test_quantisation_follows_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(onnx_backend.platform, "machine", lambda: "x86_64")
    assert onnx_backend.quantisation_for_cpu({"avx2", "avx512f", "avx512bw", "avx512_vnni"}) == "avx512_vnni"
    assert onnx_backend.quantisation_for_cpu({"avx2", "avx512f", "avx512bw"}) == "avx512"
    assert onnx_backend.quantisation_for_cpu({"avx2"}) == "avx2"


def test_publish_keeps_the_first_complete_export(tmp_path):
    variant = OnnxVariant()
    final, loser = tmp_path / "final", tmp_path / "loser"
    for folder, content in ((final, b"winner"), (loser, b"loser")):
        (folder / "onnx").mkdir(parents=True)
        (folder / variant.file_name).write_bytes(content)
    onnx_backend._publish(loser, final, variant)
    assert (final / variant.file_name).read_bytes() == b"winner"


def test_an_int8_index_is_refused_by_an_fp32_searcher(tmp_path, archive_dir, monkeypatch):
    from index.build import build_index
    from index.search import Searcher

    monkeypatch.setattr(onnx_backend, "cpu_flags", lambda: {"avx2", "avx512_vnni"})
    int8_settings = Settings(archive_dir=archive_dir, index_dir=tmp_path / "index", embedding_backend="onnx-int8")
    stand_in = HashingEmbedder()  # as fast as hashing, named as the int8 model's vectors would be
    stand_in.name = model_description(int8_settings)[0]
    build_index(int8_settings, full=True, progress=False, embedder=stand_in)
    Searcher.open(int8_settings, embedder=stand_in)  # the same name opens
    with pytest.raises(IndexMismatch):
        Searcher.open(int8_settings.model_copy(update={"embedding_backend": "torch"}))


@pytest.fixture
def archive_dir(tmp_path) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "one.txt").write_text("A Headline\n\nMarch 3, 2024\n\nThe council met on Monday to discuss the "
                                    "new bridge over the river, which opens next spring.\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_onnx_export_is_made_once_and_reused(tmp_path, monkeypatch):
    folder = ensure_export(bundled_model_dir(), tmp_path, OnnxVariant())
    exported = folder / OnnxVariant().file_name
    first_mtime = exported.stat().st_mtime_ns

    def no_second_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_backend, "_export_fp32", no_second_export)
    assert ensure_export(bundled_model_dir(), tmp_path, OnnxVariant()) == folder
    assert exported.stat().st_mtime_ns == first_mtime
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_onnx_fp32_vectors_equal_torch_and_int8_stay_close(tmp_path):
    from index.embed import SentenceTransformerEmbedder

    texts = [t for t in TEXTS if t] + ["Iran-backed militias launched attacks on US bases in Syria in 2024."]
    torch_embedder = SentenceTransformerEmbedder(bundled_model_dir(), backend="torch")
    onnx_embedder = SentenceTransformerEmbedder(bundled_model_dir(), backend="onnx", cache_dir=tmp_path)
    int8_embedder = SentenceTransformerEmbedder(bundled_model_dir(), backend="onnx-int8", cache_dir=tmp_path)
    reference = torch_embedder.embed_documents(texts)
    assert np.abs(onnx_embedder.embed_documents(texts) - reference).max() < 1e-4
    assert onnx_embedder.name == torch_embedder.name != int8_embedder.name
    cosines = (int8_embedder.embed_documents(texts) * reference).sum(axis=1)
    assert cosines.min() > 0.9
    np.testing.assert_allclose(onnx_embedder.embed_query(texts[1]), reference[1], atol=1e-4)


def _bench_archive():
    spec = importlib.util.spec_from_file_location("bench_archive", SCRIPTS / "benchmarks" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_archive", module)
    spec.loader.exec_module(module)
    return module


def test_synthetic_archive_is_deterministic_unique_and_free_of_near_duplicates(tmp_path):
    from archive.dedup import near_duplicate_groups
    from archive.load import articles_from_text

    bench = _bench_archive()
    pool = bench.paragraph_pool(None, cache_dir=tmp_path)  # corpus/ only: no HTML extraction in a fast test
    first = [a.text() for a in bench.generate(40, pool, seed=7)]
    assert first == [a.text() for a in bench.generate(40, pool, seed=7)]
    assert first != [a.text() for a in bench.generate(40, pool, seed=8)]
    assert len({bench.made_up_name(i) for i in range(50_000)}) == 50_000
    articles = []
    for index, text in enumerate(first):
        parsed, _ = articles_from_text(text, f"{index:03d}.txt")
        articles.extend(parsed)
    assert len(articles) == 40
    assert all(500 <= a.words <= 1300 for a in bench.generate(40, pool, seed=7))
    assert near_duplicate_groups(articles, threshold=0.7) == ()


def test_synthetic_archive_writes_files_with_a_date_line(tmp_path):
    bench = _bench_archive()
    pool = bench.paragraph_pool(None, cache_dir=tmp_path)
    written = bench.write_archive(tmp_path / "archive", 3, pool, seed=1)
    files = sorted((tmp_path / "archive").rglob("*.txt"))
    assert written["files"] == len(files) == 3
    from archive.dates import parse_date_line

    assert all(parse_date_line(f.read_text(encoding="utf-8").split("\n\n")[1]) for f in files)
    assert os.path.getsize(files[0]) > 2000


def test_background_embedder_names_the_model_at_once_and_waits_only_when_a_vector_is_needed():
    import threading

    from core.errors import ModelUnavailable
    from index.embed import BackgroundEmbedder, HashingEmbedder

    release = threading.Event()
    loads: list[int] = []

    def slow_load():
        loads.append(1)
        assert release.wait(10)
        return HashingEmbedder()

    settings = Settings(embedding_backend="hashing")
    embedder = BackgroundEmbedder(settings, factory=slow_load)
    # Known before the model is loaded: what Searcher.open checks against the manifest.
    assert (embedder.name, embedder.dim) == (HashingEmbedder().name, HashingEmbedder().dim)
    assert not embedder.ready
    release.set()
    vector = embedder.embed_query("Harbour reopens")
    assert embedder.ready and loads == [1]
    assert np.allclose(vector, HashingEmbedder().embed_query("Harbour reopens"))

    attempts: list[int] = []

    def failing_then_working():
        attempts.append(1)
        if len(attempts) == 1:
            raise ModelUnavailable("embedding model folder not found: /nowhere")
        return HashingEmbedder()

    flaky = BackgroundEmbedder(settings, factory=failing_then_working)
    with pytest.raises(ModelUnavailable, match="/nowhere"):
        flaky.embed_query("x")
    assert flaky.embed_documents(["x"]).shape == (1, HashingEmbedder().dim)  # the next call loads again
    assert attempts == [1, 1]
