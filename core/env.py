"""The process environment archive-qa needs, set once at each entry point (CLI, app, scripts)."""

from __future__ import annotations

import os

OFFLINE = {
    # Models ship inside packages; never reach for a hub at run time.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    # Tokenizer threads fight torch's for the same cores, and warn after a fork.
    "TOKENIZERS_PARALLELISM": "false",
    # ONNX Runtime (seen with 1.32) otherwise keeps a telemetry device id and event store in $XDG_CACHE_HOME or
    # $HOME/.cache/Microsoft/DeveloperTools/.onnxruntime: inside the checkout when HOME points there (issue 25).
    "ORT_DISABLE_TELEMETRY": "1",
}


def set_offline_environment() -> None:
    """Set the offline variables unless the caller set them already."""
    for name, value in OFFLINE.items():
        os.environ.setdefault(name, value)
