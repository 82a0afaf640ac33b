"""The Ray engine against the local one, on a Ray cluster this module starts on loopback (2 CPUs).

Same jobs through both engines must give the same files, articles, chunks, lexical tokens, signatures and
vectors, in the same order; whole builds must give the same index and the same first hit per question.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")

from archive.walk import walk_archive  # noqa: E402
from core.settings import BUNDLED_ARCHIVE, PROJECT_ROOT, Settings  # noqa: E402
from index import ray_engine, shards  # noqa: E402
from index.embed import HashingEmbedder, model_description  # noqa: E402
from index.engine import HASHING_COUNTER, ChunkingSpec, EngineJob, FileResult, FileTask, LocalEngine  # noqa: E402
from index.ray_engine import RayEngine, RayNotInstalled, RayOptions, RayUnreachable  # noqa: E402

SCRIPTS = PROJECT_ROOT / "scripts"
QUESTIONS = PROJECT_ROOT / "tests" / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster for the module (starting one takes seconds); the engine joins it."""
    started = not ray.is_initialized()
    if started:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=ray_engine.LOCAL_OBJECT_STORE,
            logging_level="warning",
            runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}},
        )
    yield ray
    if started:
        ray.shutdown()


def _bench_archive():
    spec = importlib.util.spec_from_file_location("bench_archive", SCRIPTS / "benchmarks" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_archive", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """16 generated articles in two folders, one exact copy under another name, and two files to skip."""
    root = tmp_path_factory.mktemp("synthetic")
    bench = _bench_archive()
    pool = bench.paragraph_pool(None, cache_dir=root / "pool")  # corpus/ paragraphs: no HTML extraction
    archive = root / "archive"
    bench.write_archive(archive, 16, pool, seed=3, per_folder=10)
    first = sorted(archive.rglob("*.txt"))[0]
    shutil.copy(first, archive / "0001" / "copy-of-first.txt")
    (archive / "0001" / "empty.txt").write_text("", encoding="utf-8")
    (archive / "0001" / "scan.pdf").write_bytes(b"%PDF-1.4")
    return archive


def _job(archive: Path, counter: str, model_name: str, reuse: frozenset[str] = frozenset()) -> EngineJob:
    files = tuple(
        FileTask(item.source, str(Path(item.path).resolve()), item.size, item.mtime_ns, "")
        for item in walk_archive(archive).files
    )
    return EngineJob(files, ChunkingSpec(256, 180, 1, 20_000_000, counter), reuse, model_name)


def _assert_same(local: list[FileResult], remote: list[FileResult], *, exact: bool) -> None:
    assert [r.task for r in remote] == [r.task for r in local]  # one per file, in the job's order
    for mine, theirs in zip(local, remote, strict=True):
        assert (theirs.skip_reason, theirs.warning) == (mine.skip_reason, mine.warning)
        assert len(theirs.articles) == len(mine.articles)
        for a, b in zip(mine.articles, theirs.articles, strict=True):
            assert (b.article, b.key, b.chunks, b.lexical) == (a.article, a.key, a.chunks, a.lexical)
            assert np.array_equal(b.signature, a.signature)
            assert (b.vectors is None) == (a.vectors is None)
            if a.vectors is not None:
                assert b.vectors.shape == a.vectors.shape and b.vectors.dtype == np.float32
                if exact:
                    assert np.array_equal(b.vectors, a.vectors)
                else:
                    assert np.allclose(b.vectors, a.vectors, atol=1e-5)


def _hashing_settings(archive: Path) -> Settings:
    return Settings(embedding_backend="hashing", archive_dir=archive)


@pytest.mark.parametrize("which", ["sample", "synthetic"])
def test_ray_engine_gives_what_the_local_engine_gives(cluster, synthetic, which):
    archive = BUNDLED_ARCHIVE if which == "sample" else synthetic
    job = _job(archive, HASHING_COUNTER, HashingEmbedder().name)
    local = list(LocalEngine(workers=1).process(job, HashingEmbedder))
    remote = list(RayEngine(_hashing_settings(archive), RayOptions(actors=2, files_per_batch=4)).process(job, None))
    _assert_same(local, remote, exact=True)
    articles = [item for result in remote for item in result.articles]
    assert len(articles) >= (8 if which == "sample" else 17)
    assert all(item.vectors is not None and len(item.vectors) == len(item.chunks) for item in articles)
    if which == "synthetic":
        reasons = {result.task.source: result.skip_reason for result in remote if result.skip_reason}
        assert set(reasons) == {"0001/empty.txt", "0001/scan.pdf"}


def test_reused_content_is_not_embedded_again(cluster, synthetic):
    first = _job(synthetic, HASHING_COUNTER, HashingEmbedder().name)
    keys = [item.key for result in LocalEngine(workers=1).process(first, HashingEmbedder) for item in result.articles]
    reuse = frozenset(keys[::2])
    job = _job(synthetic, HASHING_COUNTER, HashingEmbedder().name, reuse)
    local = list(LocalEngine(workers=1).process(job, HashingEmbedder))
    remote = list(RayEngine(_hashing_settings(synthetic), RayOptions(actors=2, files_per_batch=4)).process(job, None))
    _assert_same(local, remote, exact=True)
    carried = [(item.key in reuse, item.vectors is None) for result in remote for item in result.articles]
    assert all(reused == missing for reused, missing in carried) and any(missing for _, missing in carried)


def test_settings_for_another_model_are_refused(cluster):
    job = _job(BUNDLED_ARCHIVE, HASHING_COUNTER, "all-MiniLM-L6-v2")
    with pytest.raises(ValueError, match="the build needs all-MiniLM-L6-v2"):
        list(RayEngine(_hashing_settings(BUNDLED_ARCHIVE)).process(job, None))


def test_missing_ray_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RayNotInstalled) as caught:
        ray_engine.import_ray()
    assert "install the extra: pip install -e '.[ray]'" in caught.value.one_line()


def test_unreachable_address_is_one_clear_error():
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RayUnreachable) as caught:
        ray_engine.check_reachable(f"127.0.0.1:{port}")
    assert caught.value.address == f"127.0.0.1:{port}"
    assert "no Ray cluster answers at" in caught.value.one_line() and "\n" not in caught.value.one_line()
    with pytest.raises(RayUnreachable, match="is not HOST:PORT"):
        ray_engine.check_reachable("nowhere")


# ---------------------------------------------------------------- shards


def _clustered(count: int, dim: int, centres: int, seed: int) -> np.ndarray:
    """Unit vectors around random centres: the structure real embeddings have (uniform noise has none)."""
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, dim))
    points = middle[rng.integers(0, centres, count)] + 0.35 * rng.normal(size=(count, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_flat_shards_concatenate_to_the_one_process_index():
    vectors = _clustered(1000, 32, 10, seed=1)
    merged = shards.concatenate_flat([vectors[:300], vectors[300:301], vectors[301:]], 32)
    assert np.array_equal(merged.reconstruct_n(0, 1000), vectors)


def test_ivf_shards_filled_on_ray_merge_to_the_one_process_index(cluster):
    vectors = _clustered(6000, 48, 40, seed=2)
    noisy = vectors[::30] + 0.2 * np.random.default_rng(5).normal(size=(200, 48))
    queries = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    nlist = shards.default_nlist(len(vectors))
    merged = shards.sharded_ivf_on_ray(cluster, vectors, 3, nlist)
    assert merged.ntotal == len(vectors)
    # The same trained index filled in one process: every list holds the same ids, so search agrees.
    whole = shards.train_ivf(vectors, nlist)  # the driver's sample is every vector when there are this few
    whole.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    for index in (merged, whole):
        index.nprobe = 8
    merged_scores, merged_ids = merged.search(queries, 10)
    whole_scores, whole_ids = whole.search(queries, 10)
    assert np.allclose(merged_scores, whole_scores, atol=1e-5)
    assert (merged_ids == whole_ids).mean() > 0.99  # only exact ties may swap
    assert shards.recall_at_k(merged, vectors, queries, 10) >= 0.9


# ---------------------------------------------------------------- whole builds and the command line


def _build(archive: Path, index: Path, engine, **settings_values) -> Settings:
    from index.build import build_index

    settings = Settings(archive_dir=archive, index_dir=index, **settings_values)
    build_index(settings, progress=False, engine=engine)
    return settings


def _contents(settings: Settings) -> dict:
    from index.search import Searcher

    searcher = Searcher.open(settings)
    try:
        ids = searcher.chunk_ids()
        questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
        return {
            "articles": searcher.articles(),
            "chunks": list(searcher.chunks.many(ids)),
            "vectors": searcher.vectors.vectors(ids),
            "first_hits": [[hit.chunk.id for hit in searcher.search(q, k=1)] for q in questions],
            "counts": searcher.counts,
        }
    finally:
        searcher.close()


def _assert_same_index(local: dict, remote: dict) -> None:
    assert remote["counts"] == local["counts"]
    assert remote["articles"] == local["articles"]
    assert [(c.id, c.text, c.start_line, c.end_line) for c in remote["chunks"]] == [
        (c.id, c.text, c.start_line, c.end_line) for c in local["chunks"]
    ]
    assert remote["chunks"] == local["chunks"]
    assert np.allclose(remote["vectors"], local["vectors"], atol=1e-3)  # float16 segments
    assert remote["first_hits"] == local["first_hits"]
    assert all(local["first_hits"])


@pytest.mark.parametrize("which", ["sample", "synthetic"])
def test_ray_build_equals_local_build(cluster, synthetic, tmp_path, which):
    archive = BUNDLED_ARCHIVE if which == "sample" else synthetic
    local = _build(archive, tmp_path / "local", None, embedding_backend="hashing")
    engine = RayEngine(_hashing_settings(archive), RayOptions(actors=2, files_per_batch=4))
    remote = _build(archive, tmp_path / "ray", engine, embedding_backend="hashing")
    _assert_same_index(_contents(local), _contents(remote))


def test_ray_incremental_update_equals_local(cluster, synthetic, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(synthetic, archive)
    engine = RayEngine(_hashing_settings(archive), RayOptions(actors=2, files_per_batch=4))
    _build(archive, tmp_path / "local", None, embedding_backend="hashing")
    _build(archive, tmp_path / "ray", engine, embedding_backend="hashing")
    edited = sorted(archive.rglob("0*.txt"))[3]
    edited.write_text(edited.read_text(encoding="utf-8").replace("said", "stated"), encoding="utf-8")
    sorted(archive.rglob("0*.txt"))[5].unlink()
    local = _build(archive, tmp_path / "local", None, embedding_backend="hashing")
    remote = _build(archive, tmp_path / "ray", engine, embedding_backend="hashing")
    _assert_same_index(_contents(local), _contents(remote))


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archive_qa.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_cli_ray_build_gives_the_local_counts(cluster, tmp_path):
    env = {**os.environ, "ARCHIVE_QA_EMBEDDING_BACKEND": "hashing"}
    address = cluster.get_runtime_context().gcs_address  # the module's cluster: no second one started
    common = ["--archive", str(BUNDLED_ARCHIVE), "--json"]
    local = _cli("build", *common, "--index", str(tmp_path / "local"), env=env)
    remote = _cli("build", "--engine", "ray", "--address", address, *common, "--index", str(tmp_path / "ray"), env=env)
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr[-2000:]
    mine, theirs = json.loads(local.stdout), json.loads(remote.stdout)
    mine.pop("seconds"), theirs.pop("seconds")
    assert theirs == mine and mine["articles"] == 8


def test_cli_errors_are_one_line(tmp_path):
    env = {**os.environ, "ARCHIVE_QA_EMBEDDING_BACKEND": "hashing"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    common = ["--archive", str(BUNDLED_ARCHIVE), "--index", str(tmp_path / "index"), "--quiet"]
    unreachable = _cli("build", "--engine", "ray", "--address", f"127.0.0.1:{port}", *common, env=env)
    assert unreachable.returncode == 1
    assert unreachable.stderr.strip().count("\n") == 0 and "no Ray cluster answers at 127.0.0.1" in unreachable.stderr
    assert not (tmp_path / "index").exists()  # refused before any work
    misplaced = _cli("build", "--address", f"127.0.0.1:{port}", *common, env=env)
    assert misplaced.returncode == 1 and "apply to --engine ray only" in misplaced.stderr


def test_local_build_never_imports_ray(tmp_path):
    script = (
        "import sys; from archive_qa.cli import main; "
        f"code = main(['build', '--archive', {str(BUNDLED_ARCHIVE)!r}, '--index', {str(tmp_path)!r}, '--quiet']); "
        "assert 'ray' not in sys.modules, 'ray imported'; sys.exit(code)"
    )
    env = {**os.environ, "ARCHIVE_QA_EMBEDDING_BACKEND": "hashing"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_ray_build_with_the_real_model_equals_local_build(cluster, tmp_path):
    local = _build(BUNDLED_ARCHIVE, tmp_path / "local", None)
    remote = _build(BUNDLED_ARCHIVE, tmp_path / "ray", RayEngine(Settings(), RayOptions(actors=2, files_per_batch=2)))
    mine, theirs = _contents(local), _contents(remote)
    _assert_same_index(mine, theirs)
    dim = model_description(Settings())[1]  # the default model (the static table: 256), not the hashing stand-in
    assert theirs["vectors"].shape == (len(theirs["chunks"]), dim) and dim != HashingEmbedder().dim


def test_ray_build_with_the_static_model_equals_local_build(cluster, tmp_path):
    """The static backend's actors load the distilled table like any other embedder (no torch needed)."""
    local = _build(BUNDLED_ARCHIVE, tmp_path / "local", None, embedding_backend="static")
    engine = RayEngine(Settings(embedding_backend="static"), RayOptions(actors=2, files_per_batch=2))
    remote = _build(BUNDLED_ARCHIVE, tmp_path / "ray", engine, embedding_backend="static")
    mine, theirs = _contents(local), _contents(remote)
    _assert_same_index(mine, theirs)
    assert theirs["vectors"].shape == (len(theirs["chunks"]), 256)  # the distilled table's vectors
