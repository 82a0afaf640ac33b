"""ONNX Runtime variants of the local sentence-transformers model: exported here once, cached, never downloaded.

The export is made from the packaged model folder on first use and kept under `model_cache_dir`, one folder
per (model files, variant). Two processes may export at once: each writes into its own temporary folder and
renames it into place; the loser of the race throws its copy away and uses the winner's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import platform
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FP32_FILE = "onnx/model.onnx"
# The folder's model files that decide what an export contains; a reinstalled package changes their stat.
_FINGERPRINT_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "modules.json")


@dataclass(frozen=True)
class OnnxVariant:
    """fp32 (quantisation None) or dynamic int8 with one of sentence-transformers' quantisation configs."""

    quantisation: str | None = None

    @property
    def tag(self) -> str:
        return "onnx" if self.quantisation is None else f"onnx-int8-{self.quantisation}"

    @property
    def file_name(self) -> str:
        return FP32_FILE if self.quantisation is None else f"onnx/model_qint8_{self.quantisation}.onnx"


def onnx_available() -> bool:
    """Whether ONNX Runtime and optimum's exporter are installed (they are dependencies; this guards old venvs)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "optimum", "onnx"))


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def quantisation_for_cpu(flags: set[str] | None = None) -> str:
    """The int8 config this CPU runs fastest: VNNI dot products if present, else AVX2 (arm64 on ARM)."""
    if platform.machine().lower() in {"arm64", "aarch64"}:
        return "arm64"
    flags = cpu_flags() if flags is None else flags
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags and "avx512bw" in flags:
        return "avx512"
    return "avx2"


def physical_cores() -> int:
    """Cores this process may run on, counting one per physical core (SMT siblings share the math units)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or available
    except ImportError:
        physical = available
    return max(1, min(available, physical))


def fingerprint(model_dir: Path) -> str:
    """Short digest of the model files' names, sizes and mtimes: a changed model gets a fresh export."""
    digest = hashlib.sha1(str(model_dir.resolve()).encode())
    for name in _FINGERPRINT_FILES:
        path = model_dir / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def export_dir(model_dir: Path, cache_dir: Path, variant: OnnxVariant) -> Path:
    return cache_dir / f"{model_dir.name if model_dir.name != 'model' else model_dir.parent.name}-" \
        f"{fingerprint(model_dir)}-{variant.tag}"


def ensure_export(model_dir: str | Path, cache_dir: str | Path, variant: OnnxVariant) -> Path:
    """The folder holding `variant` of the model, exporting it first if no earlier run did."""
    source = Path(model_dir).expanduser()
    cache = Path(cache_dir).expanduser()
    final = export_dir(source, cache, variant)
    if (final / variant.file_name).is_file():
        return final
    # int8 is quantised from the fp32 export, which is cached too (and reused by the fp32 backend).
    origin = source if variant.quantisation is None else ensure_export(source, cache, OnnxVariant())
    cache.mkdir(parents=True, exist_ok=True)
    temporary = cache / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        if variant.quantisation is None:
            _export_fp32(origin, temporary)
        else:
            _export_int8(origin, temporary, variant.quantisation)
        _publish(temporary, final, variant)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return final


def _publish(temporary: Path, final: Path, variant: OnnxVariant) -> None:
    """Rename the finished export into place; if another process got there first, keep theirs."""
    try:
        os.rename(temporary, final)
    except OSError:
        if not (final / variant.file_name).is_file():
            # A stale, incomplete folder (a killed run) is replaced; a complete one is never touched.
            shutil.rmtree(final, ignore_errors=True)
            os.rename(temporary, final)


def _export_fp32(source: Path, target: Path) -> None:
    from sentence_transformers import SentenceTransformer

    # Loading a folder without onnx/model.onnx makes optimum export the graph from the local weights. The
    # library then advises saving the export into the (read-only, packaged) model folder: we save it to
    # the cache instead, so that advice is silenced.
    library_log = logging.getLogger("sentence_transformers")
    level = library_log.level
    library_log.setLevel(logging.ERROR)
    try:
        model = SentenceTransformer(str(source), backend="onnx", device="cpu", local_files_only=True,
                                    model_kwargs={"provider": "CPUExecutionProvider"})
    finally:
        library_log.setLevel(level)
    model.save_pretrained(str(target))
    if not (target / FP32_FILE).is_file():
        raise FileNotFoundError(f"ONNX export wrote no {FP32_FILE} under {target}")


def _export_int8(fp32_dir: Path, target: Path, quantisation: str) -> None:
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    # The int8 folder is a full model folder (tokenizer, pooling) without the 90 MB fp32 graph.
    shutil.copytree(fp32_dir, target, ignore=shutil.ignore_patterns("model.onnx"))
    model = SentenceTransformer(str(fp32_dir), backend="onnx", device="cpu", local_files_only=True,
                                model_kwargs={"provider": "CPUExecutionProvider", "file_name": FP32_FILE})
    export_dynamic_quantized_onnx_model(model, quantisation, str(target))
    if not (target / OnnxVariant(quantisation).file_name).is_file():
        raise FileNotFoundError(f"int8 export wrote no {OnnxVariant(quantisation).file_name} under {target}")


def session_options(threads: int) -> Any:
    """ORT options for a small CPU machine: intra-op threads = physical cores, no inter-op pool."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options
