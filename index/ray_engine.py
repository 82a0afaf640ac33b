"""The Ray engine: the build's `process` step (index.engine) spread over a Ray cluster with Ray Data.

    file tasks --map_batches(read, clean, chunk, tokenise: CPU tasks)--> partial FileResults
               --map_batches(_EmbedActor: an actor pool, each actor holding one embedder)--> FileResults
               --streamed back to the driver, in the order of `job.files`--> index.build's publish step

The driver keeps everything that must see the whole archive (the plan, near-duplicate links, the vector and
lexical index, the manifest, the atomic swap), so the index is the one the local engine makes: the same
articles, chunks and chunk order, the same vectors (bit for bit with a deterministic embedder; within float
rounding with a real model, whose batches differ). Workers read files by the absolute path the driver
planned, so the archive must sit at the same path on every node (shared storage; docs/SCALING.md).

Ray is an optional extra: this module imports it only when a build runs, and says how to install it.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.env import OFFLINE
from core.errors import ArchiveError
from index.embed import Embedder, make_embedder, model_description
from index.engine import (
    EMBEDDER_COUNTER,
    ChunkingSpec,
    EmbedderFactory,
    EngineJob,
    FileResult,
    FileTask,
    attach_vectors,
    read_file,
)

INSTALL_HINT = "pip install -e '.[ray]'"
LOCAL_CPUS = 2  # a cluster started by this engine on this machine (none given): its CPUs
LOCAL_OBJECT_STORE = 512 * 2**20  # bytes; results stream through it, so a small store is enough
CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before saying it is unreachable


class RayNotInstalled(ArchiveError):
    """`--engine ray` was asked for but the `ray` extra is not installed."""


class RayUnreachable(ArchiveError):
    """No Ray cluster answers at the given address."""

    def __init__(self, reason: str, *, address: str) -> None:
        super().__init__(reason)
        self.address = address


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide to run. `actors=None`: one embedding actor per CPU of the cluster."""

    address: str | None = None  # "HOST:PORT" of a running cluster (`ray start --head`), "auto", or None
    actors: int | None = None
    files_per_task: int = 16  # files read, cleaned and chunked by one CPU task
    files_per_batch: int = 8  # files whose chunks one actor embeds in one call


def import_ray() -> Any:
    """The ray module, or RayNotInstalled saying how to get it."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data ships in the same wheel but needs pandas and pyarrow
    except ImportError as error:
        raise RayNotInstalled(
            f"--engine ray needs Ray ({error.name} is missing): install the extra: {INSTALL_HINT}"
        ) from error
    return ray


def check_reachable(address: str) -> None:
    """Fail fast on an address nothing listens on (ray.init would retry for minutes)."""
    if address == "auto":
        return  # resolved by Ray from the cluster this machine runs, if any
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnreachable(f"Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379)", address=address)
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        raise RayUnreachable(
            f"no Ray cluster answers at {address} ({error.strerror or error}); start one with `ray start --head` "
            "or pass the address `ray status` shows",
            address=address,
        ) from error


class RaySession:
    """Connects to the cluster at `address`, or starts a private local one; shuts down only what it started.

    A process that already called ray.init (a test's fixture, a notebook) keeps its connection.
    """

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.started = False

    def __enter__(self) -> Any:
        ray = import_ray()
        if ray.is_initialized():
            return ray
        # Workers import torch and tokenizers too: the same offline, single-threaded-tokenizer environment.
        runtime_env = {"env_vars": {name: os.environ.get(name, value) for name, value in OFFLINE.items()}}
        quiet = {"logging_level": logging.WARNING, "include_dashboard": False, "runtime_env": runtime_env}
        if self.address:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except (ConnectionError, TimeoutError) as error:
                raise RayUnreachable(
                    f"cannot join the Ray cluster at {self.address}: {error}", address=self.address
                ) from error
        else:
            ray.init(num_cpus=LOCAL_CPUS, object_store_memory=LOCAL_OBJECT_STORE, **quiet)
        self.started = True
        return ray

    def __exit__(self, *exc_info: object) -> None:
        if self.started:
            import_ray().shutdown()
            self.started = False


# ---------------------------------------------------------------- the work, as Ray Data batch functions


def _tasks_of(batch: dict[str, np.ndarray]) -> list[FileTask]:
    return [
        FileTask(str(source), str(path), int(size), int(mtime), str(sha))
        for source, path, size, mtime, sha in zip(
            batch["source"], batch["path"], batch["size"], batch["mtime_ns"], batch["sha256"], strict=True
        )
    ]


def _pack(order: np.ndarray, results: list[FileResult]) -> dict[str, np.ndarray]:
    blobs = np.empty(len(results), dtype=object)
    blobs[:] = [pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL) for result in results]
    return {"order": np.asarray(order, dtype=np.int64), "result": blobs}


def read_batch(batch: dict[str, np.ndarray], spec: ChunkingSpec) -> dict[str, np.ndarray]:
    """CPU task: read, clean, chunk and tokenise files (no vectors). Pickle only moves data between our
    own processes here, as Ray does with everything; nothing pickled is ever written to the index."""
    count = spec.token_counter()  # a tokenizer folder is loaded once per worker process (lru_cache)
    return _pack(batch["order"], [read_file(task, spec, count) for task in _tasks_of(batch)])


class _EmbedActor:
    """Holds one embedder (index.embed.make_embedder: whatever backend the settings choose), loaded lazily."""

    def __init__(self, settings: Any, model_name: str, reuse: frozenset[str], spec: ChunkingSpec) -> None:
        self.settings = settings
        self.model_name = model_name
        self.reuse = reuse
        self.spec = spec
        self._embedder: Embedder | None = None

    def embedder(self) -> Embedder:
        if self._embedder is None:
            embedder = make_embedder(self.settings)
            if embedder.name != self.model_name:  # a worker with another install would index other vectors
                raise ValueError(f"worker embedder is {embedder.name}, the build needs {self.model_name}")
            self._embedder = embedder
        return self._embedder

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if "result" in batch:
            results = [pickle.loads(blob) for blob in batch["result"]]
        else:  # chunks counted with the embedder's own tokenizer: read here, beside it
            count = self.embedder().count_tokens
            results = [read_file(task, self.spec, count) for task in _tasks_of(batch)]
        return _pack(batch["order"], attach_vectors(results, self.reuse, self.embedder))


# ---------------------------------------------------------------- the engine


class RayEngine:
    """index.engine.Engine on a Ray cluster. `settings` choose the embedder every actor loads."""

    def __init__(self, settings: Any, options: RayOptions | None = None) -> None:
        self.settings = settings
        self.options = options or RayOptions()

    def preflight(self) -> None:
        """Fail before any work when Ray is missing or the cluster's address does not answer."""
        import_ray()
        if self.options.address:
            check_reachable(self.options.address)

    def process(self, job: EngineJob, embedder: EmbedderFactory) -> Iterator[FileResult]:
        """Yields one FileResult per file of the job, in the job's order (so chunk slots match the local build).

        `embedder` is never called: the actors load their own, from the same settings, and check its name.
        """
        del embedder
        if not job.files:
            return
        if model_description(self.settings)[0] != job.model_name:
            raise ValueError(f"RayEngine settings describe {model_description(self.settings)[0]}, "
                             f"the build needs {job.model_name}")
        with RaySession(self.options.address) as ray:
            dataset = self._pipeline(ray, job)
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                for blob in batch["result"]:
                    yield pickle.loads(blob)

    def _pipeline(self, ray: Any, job: EngineJob) -> Any:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.preserve_order = True  # slots in job order, as the local engine gives them
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "bars disabled": we know
        rows = [
            {"order": n, "source": t.source, "path": t.path, "size": t.size, "mtime_ns": t.mtime_ns, "sha256": t.sha256}
            for n, t in enumerate(job.files)
        ]
        # Blocks of one actor batch each, so every actor has work even on a small update.
        blocks = max(1, -(-len(rows) // self.options.files_per_batch))
        dataset = ray.data.from_items(rows, override_num_blocks=blocks)
        if job.chunking.counter != EMBEDDER_COUNTER:
            # Ray fuses this into the actors' stage when it can (no transfer between them); it stays a
            # stage of its own on a cluster where reading must not wait for a free model.
            dataset = dataset.map_batches(
                read_batch, batch_size=self.options.files_per_task, fn_kwargs={"spec": job.chunking}
            )
        return dataset.map_batches(
            _EmbedActor,
            batch_size=self.options.files_per_batch,
            compute=ray.data.ActorPoolStrategy(size=min(self._actors(ray), blocks)),
            fn_constructor_kwargs={
                "settings": self.settings,
                "model_name": job.model_name,
                "reuse": job.reuse,
                "spec": job.chunking,
            },
        )

    def _actors(self, ray: Any) -> int:
        if self.options.actors:
            return self.options.actors
        return max(1, int(ray.cluster_resources().get("CPU", 1)))
