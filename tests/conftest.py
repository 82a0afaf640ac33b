"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.env import set_offline_environment
from core.settings import BUNDLED_ARCHIVE, Settings

# The suite runs ONNX Runtime in-process (the reader, the ONNX backends) and its subprocesses inherit this
# environment: no hub access, and no ONNX Runtime telemetry store written under $HOME/.cache (issue 25).
set_offline_environment()


@pytest.fixture
def hashing_settings(tmp_path: Path) -> Settings:
    """Settings over a private copy of the sample archive, with the fast hashing embedder and a tmp index."""
    archive = tmp_path / "archive"
    shutil.copytree(BUNDLED_ARCHIVE, archive)
    return Settings(embedding_backend="hashing", archive_dir=archive, index_dir=tmp_path / "index")
