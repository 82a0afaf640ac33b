"""The build's middle step, behind a small protocol: an Engine turns changed archive files into index material.

    plan     (index.build)   walk the archive, compare size + mtime (+ sha256 when the stat moved) with the
                             index -> the files to process and the files to drop
    process  (an Engine)     each file to process -> FileResult: its articles, their chunks, lexical tokens,
                             MinHash signatures and vectors (or a skip reason / warning)
    publish  (index.build)   rows, vectors, lexical postings, near-duplicate links, manifest, atomic swap

`LocalEngine` (the default) reads, cleans, chunks and tokenises in a process pool (both cores: sentence
splitting is half the non-model work) and embeds in the calling process, in batches, with at most a
bounded number of results in flight, so memory is bounded by a batch, not by the archive. Another engine
(a Ray cluster, say) implements the same `process` and is passed to `build_index(..., engine=...)`.

Contract of `Engine.process(job, embedder)`:
- yield exactly one FileResult per file of `job.files`, in any order, as soon as it is done;
- an article whose content key is in `job.reuse` carries `vectors=None` (the index already holds them);
  every other article carries `vectors` of shape (len(chunks), dim), float32, unit rows, from the model
  `embedder()` returns (call it at most once, and only when something must be embedded; an engine that
  embeds elsewhere must use the same model: `job.model_name`);
- chunk with `job.chunking` (its token counter is rebuilt from plain data wherever the work runs);
- never raise for one bad file (it becomes a FileResult with a `skip_reason`); programming errors raise.
Everything in a job and a result is plain data (str, int, tuples, numpy arrays, frozen dataclasses).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

import numpy as np

from archive.dedup import signature
from archive.load import read_articles
from archive.records import Article
from core.text import lexical_tokens
from index.chunk import TokenCounter, chunk_article
from index.embed import Embedder, HashingEmbedder
from index.records import Chunk

HASHING_COUNTER = "hashing"  # ChunkingSpec.counter for the hashing embedder's word counter
EMBEDDER_COUNTER = ""  # ChunkingSpec.counter: count with the embedder object itself (in-process only)


@dataclass(frozen=True)
class FileTask:
    """A file to (re)process: where it is and what the plan saw."""

    source: str  # path relative to the archive root
    path: str  # absolute path to read
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class ChunkingSpec:
    """How to read and chunk, as plain data that can travel to another process or machine."""

    max_tokens: int
    target_tokens: int
    overlap_sentences: int
    max_file_bytes: int
    counter: str  # HASHING_COUNTER, a local tokenizer folder (the model's), or EMBEDDER_COUNTER

    def token_counter(self) -> TokenCounter:
        if self.counter == HASHING_COUNTER:
            return HashingEmbedder().count_tokens
        return _tokenizer_counter(self.counter)


@dataclass(frozen=True)
class EngineJob:
    files: tuple[FileTask, ...]
    chunking: ChunkingSpec
    reuse: frozenset[str]  # content keys whose chunk vectors the index already holds
    model_name: str  # the model every vector must come from
    embed_batch: int = 64  # texts per embedding call


@dataclass(frozen=True)
class ArticleResult:
    article: Article
    key: str  # content key (title + paragraph texts): equal keys give equal chunks and vectors
    chunks: tuple[Chunk, ...]
    lexical: tuple[str, ...]  # per chunk: its lexical tokens (core.text), space-joined
    signature: np.ndarray  # MinHash hash values, uint64 (archive.dedup)
    vectors: np.ndarray | None  # (len(chunks), dim) float32; None when `key` is in the job's reuse set or no chunk


@dataclass(frozen=True)
class FileResult:
    task: FileTask
    articles: tuple[ArticleResult, ...] = ()
    skip_reason: str = ""  # why the file gave no article ("" when it gave some)
    warning: str = ""  # read, but with replaced bytes or left-out parts


EmbedderFactory = Callable[[], Embedder]


class Engine(Protocol):
    def process(self, job: EngineJob, embedder: EmbedderFactory) -> Iterator[FileResult]:
        """See the module docstring for the contract."""
        ...


# ---------------------------------------------------------------- the work on one file (pure but for reading it)


def content_key(article: Article) -> str:
    """What the chunks of an article depend on: its title and paragraph texts (not its lines or source)."""
    payload = json.dumps([article.title, [[p.text, p.is_heading] for p in article.paragraphs]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def read_file(task: FileTask, spec: ChunkingSpec, count: TokenCounter) -> FileResult:
    """Read, clean, chunk and tokenise one file (no vectors yet)."""
    articles, reason, warning = read_articles(Path(task.path), task.source, spec.max_file_bytes)
    results = []
    for article in articles:
        chunks = tuple(
            chunk_article(
                article,
                count,
                max_tokens=spec.max_tokens,
                target_tokens=spec.target_tokens,
                overlap_sentences=spec.overlap_sentences,
            )
        )
        lexical = tuple(" ".join(lexical_tokens(chunk.embedding_text())) for chunk in chunks)
        results.append(ArticleResult(article, content_key(article), chunks, lexical, signature(article), None))
    return FileResult(task, tuple(results), reason, warning)


def _read_batch(tasks: Sequence[FileTask], spec: ChunkingSpec) -> list[FileResult]:
    """A pool worker's unit: several files, so the result transfer is amortised."""
    count = _counter(spec)
    return [read_file(task, spec, count) for task in tasks]


@lru_cache(maxsize=2)
def _counter(spec: ChunkingSpec) -> TokenCounter:
    return spec.token_counter()  # once per worker process: a tokenizer takes a moment to load


@lru_cache(maxsize=2)
def _tokenizer_counter(model_dir: str) -> TokenCounter:
    """The model's own tokenizer (not the model), counting special tokens as the embedder does.

    Read from its tokenizer.json with the `tokenizers` library: the same counts as transformers' AutoTokenizer
    (checked on 1,355 texts, tests/test_static_backend.py), without importing transformers (and torch) into a build.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the pool already uses every core
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=True).ids)

    return count


# ---------------------------------------------------------------- the local engine


class LocalEngine:
    """Process pool for reading/cleaning/chunking, embedding in this process, bounded in-flight work."""

    def __init__(self, workers: int | None = None, files_per_task: int = 16, inline_below: int = 64) -> None:
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self.files_per_task = files_per_task
        self.inline_below = inline_below  # small updates: starting processes would cost more than they save

    def process(self, job: EngineJob, embedder: EmbedderFactory) -> Iterator[FileResult]:
        embed = _LazyEmbedder(embedder)
        spec = job.chunking
        if spec.counter == EMBEDDER_COUNTER:  # counted with the loaded embedder, so in this process
            read = self._inline(job, lambda: embed.get().count_tokens)
        elif self.workers <= 1 or len(job.files) < self.inline_below:
            read = self._inline(job, lambda: _counter(spec))
        else:
            read = self._pooled(job)
        yield from _embed_in_batches(read, job, embed)

    def _inline(self, job: EngineJob, counter: Callable[[], TokenCounter]) -> Iterator[FileResult]:
        for task in job.files:
            yield read_file(task, job.chunking, counter())

    def _pooled(self, job: EngineJob) -> Iterator[FileResult]:
        """Batches of files through the pool, at most 2 per worker in flight (memory stays bounded)."""
        batches = [job.files[i : i + self.files_per_task] for i in range(0, len(job.files), self.files_per_task)]
        # fork, not spawn/forkserver: those re-import the caller's __main__ (a script without a main guard
        # would run again).
        with forked_pool(self.workers) as pool:
            pending: list[Future[list[FileResult]]] = []
            queue = iter(batches)
            for batch in queue:
                pending.append(pool.submit(_read_batch, batch, job.chunking))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done = pending.pop(0).result()
                following = next(queue, None)
                if following is not None:
                    pending.append(pool.submit(_read_batch, following, job.chunking))
                yield from done


@contextmanager
def forked_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A fork-started process pool whose workers never free what they inherited from this process.

    A long-lived process (the app, `watch`, `eval`) may hold a loaded model, or garbage left by one, when it
    builds. A forked worker whose garbage collector frees an inherited ONNX Runtime session waits forever on
    threads that do not exist in the child (seen: a build hung in both workers). So garbage is collected here
    first, and what is left is frozen while the workers fork: their collector never looks at it.
    """
    with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_worker_start) as pool:
        gc.collect()
        gc.freeze()
        try:
            pool.submit(int).result()  # a fork pool starts all of its workers at the first submit
        finally:
            gc.unfreeze()  # in this process only; the workers keep their inherited objects frozen
        try:
            yield pool
        except BaseException:  # a failed or stopped build (SIGTERM, Ctrl-C): its batches' results are not wanted
            _end_workers(pool)
            raise


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Drop the queued batches and end the running ones now, rather than wait for them (a batch of large files
    can take a minute, longer than a service manager waits after SIGTERM). The workers only read files, so
    ending them loses nothing; the pool's shutdown then reaps them (as it does when a worker dies).

    A worker ended while it was writing a batch's results leaves half a message in the result pipe, and the pool's
    manager thread waits for the rest forever (a stopped build hung in shutdown: reproduced about once in 25 stops,
    tests/test_graceful_stop.py). This process holds the pipe's other write end, inherited by every worker, so no
    end of file ever comes; once the workers are gone, closing it here ends that read, the manager thread finds the
    pool broken and the shutdown completes."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, AttributeError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
    results = getattr(pool, "_result_queue", None)
    with contextlib.suppress(OSError, AttributeError):
        results._writer.close()  # type: ignore[union-attr]  # CPython's SimpleQueue: the parent's write end
    pool.shutdown(wait=True, cancel_futures=True)


def _worker_start() -> None:
    _die_with_parent()
    _leave_stops_to_parent()
    # pysbd builds its abbreviation regexes on every call; with the stdlib's 512-entry cache they are compiled
    # again and again (a third of sentence-splitting time). A larger cache in the workers keeps them.
    re._MAXCACHE = max(getattr(re, "_MAXCACHE", 512), 20_000)  # type: ignore[attr-defined]


def _die_with_parent() -> None:
    """A killed build must not leave its workers running: Linux kills them with the parent (PDEATHSIG)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not Linux: the workers still exit when their task pipe closes
        return
    libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the call took effect
        os._exit(1)


def _leave_stops_to_parent() -> None:
    """A forked worker inherits the build's stop handlers (archive_qa.commands.common.stop_on_signals), which
    would raise inside it. Ctrl-C and a hangup, sent to the whole terminal group, are the parent's to act on:
    the worker ignores them and finishes its batch while the parent shuts the pool down (or, under nohup,
    goes on). SIGTERM ends a worker at once, as before (a whole-group SIGTERM from systemd); the parent then
    stops as asked."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _LazyEmbedder:
    def __init__(self, factory: EmbedderFactory) -> None:
        self._factory = factory
        self._embedder: Embedder | None = None

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._factory()
        return self._embedder


def _embed_in_batches(results: Iterable[FileResult], job: EngineJob, embed: _LazyEmbedder) -> Iterator[FileResult]:
    """Attach vectors to the articles that need them, embedding `job.embed_batch` texts per call at least."""
    waiting: list[FileResult] = []
    texts = 0
    for result in results:
        waiting.append(result)
        texts += sum(len(item.chunks) for item in result.articles if item.key not in job.reuse)
        if texts >= job.embed_batch:
            yield from attach_vectors(waiting, job.reuse, embed.get)
            waiting, texts = [], 0
    yield from attach_vectors(waiting, job.reuse, embed.get)


def attach_vectors(results: list[FileResult], reuse: frozenset[str],
                   embedder: Callable[[], Embedder]) -> list[FileResult]:
    """The results with vectors for their new articles' chunks, in one embedding call (both engines use it).

    Articles whose content key is in `reuse` keep their stored vectors; when none is new, `embedder` is not
    even called, so an unchanged archive never loads the model.
    """
    todo = [item for result in results for item in result.articles if item.key not in reuse and item.chunks]
    if not todo:
        return results
    texts = [chunk.embedding_text() for item in todo for chunk in item.chunks]
    matrix = np.asarray(embedder().embed_documents(texts), dtype=np.float32)
    vectors: dict[int, np.ndarray] = {}
    position = 0
    for item in todo:
        vectors[id(item)] = matrix[position : position + len(item.chunks)]
        position += len(item.chunks)
    return [
        replace(result, articles=tuple(replace(item, vectors=vectors.get(id(item))) for item in result.articles))
        for result in results
    ]
