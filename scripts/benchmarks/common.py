"""What several benchmarks share: process memory, percentiles, folder sizes, the machine, child processes."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "scripts" / "bench.py"


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry over the forking parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def folder_bytes(path: Path, skip_symlinks: bool = False) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not (skip_symlinks and p.is_symlink()))


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "load_average_1_5_15": list(os.getloadavg()),
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def run_step(step: str, config: dict, scratch: Path, env: dict[str, str]) -> dict:
    """Runs `bench.py step STEP CONFIG OUT` in a fresh Python process and returns what it wrote."""
    config_path = scratch / f"{step}-{config.get('backend', '')}.config.json"
    out_path = scratch / f"{step}-{config.get('backend', '')}.out.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    completed = subprocess.run([sys.executable, str(ENTRY), "step", step, str(config_path), str(out_path)],
                               env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-3:]
        return {"error": f"step {step} exited {completed.returncode}: {' | '.join(tail)}"}
    return json.loads(out_path.read_text(encoding="utf-8"))


def default_backend() -> str:
    """The embedding backend this checkout runs with (settings' default, or ARCHIVE_QA_EMBEDDING_BACKEND / the
    settings file when set): what a benchmark measures unless told otherwise."""
    from core.settings import load_settings

    return load_settings().embedding_backend


def comma_list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


# Configurations measured under their own names beside the embedding backends: the settings each one means.
# "static" alone is issue 25's (b), static vectors with no MiniLM at the question; plain "static" is the default (c).
CONFIGURATIONS: dict[str, dict[str, object]] = {
    "static-alone": {"embedding_backend": "static", "minilm_at_question": False},
}


def configuration(name: str) -> dict[str, object]:
    """The settings a --backends name stands for: a configuration above, or an embedding backend."""
    return dict(CONFIGURATIONS.get(name, {"embedding_backend": name}))


def configuration_env(name: str) -> dict[str, str]:
    """The same, as the ARCHIVE_QA_ variables a fresh process (the cold CLI runs) reads."""
    return {f"ARCHIVE_QA_{key.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in configuration(name).items()}
