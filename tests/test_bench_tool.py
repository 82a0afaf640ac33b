"""scripts/bench.py, the one benchmark tool (issue 25): one entry point, a subcommand per thing measured, and
`bench.py --articles N --json` (no subcommand) still the build comparison. Speeds are never asserted here."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
HEAVY = ("torch", "transformers", "sentence_transformers", "faiss", "ray", "onnxruntime", "index", "qa", "archive")


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    return importlib.import_module("bench")


def test_one_entry_point_for_every_benchmark(bench):
    from benchmarks import COMMAND_MODULES, DEFAULT_COMMAND

    assert sorted(path.name for path in SCRIPTS.glob("bench*.py")) == ["bench.py"]
    assert DEFAULT_COMMAND == "build" and {"build", "quality", "recall", "million", "ray"} <= set(COMMAND_MODULES)
    assert all((SCRIPTS / "benchmarks" / f"{module}.py").is_file() for module in COMMAND_MODULES.values())


def test_no_subcommand_is_the_build_comparison_and_subcommands_keep_their_flags(bench):
    args = bench.parse_arguments(["--articles", "20", "--json"])
    assert (args.command, args.articles, args.json, args.backends) == ("build", 20, True, None)
    args = bench.parse_arguments(["--articles", "300", "--backends", "onnx,static", "--only-ours", "--json"])
    assert (args.command, args.backends, args.only_ours) == ("build", ["onnx", "static"], True)
    assert bench.parse_arguments(["quality", "--backends", "static", "--no-answers"]).backends == ["static"]
    assert bench.parse_arguments(["ray", "memory", "--json"]).part == "memory"
    assert bench.parse_arguments(["step", "raw", "c.json", "o.json"]).step == "raw"


def test_help_lists_every_subcommand_without_importing_the_engine(bench):
    """Each measured part of `build` runs as `bench.py step ...` in a fresh process: the tool must stay light."""
    code = textwrap.dedent(f"""
        import runpy, sys
        sys.argv = ["bench.py", "--help"]
        try:
            runpy.run_path({str(SCRIPTS / "bench.py")!r}, run_name="__main__")
        except SystemExit:
            pass
        print("HEAVY", sorted(name for name in {HEAVY!r} if name in sys.modules))
    """)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    assert all(command in completed.stdout for command in bench.COMMAND_MODULES)
    assert completed.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_configurations_name_the_settings_each_process_runs_with(bench, monkeypatch):
    """`--backends static,static-alone,onnx` is issue 25's (c), (b) and (a): the settings loaded in a step and the
    variables a cold CLI run is given must say the same."""
    from benchmarks.common import configuration, configuration_env

    from core.settings import load_settings

    for key in ("ARCHIVE_QA_EMBEDDING_BACKEND", "ARCHIVE_QA_MINILM_AT_QUESTION", "ARCHIVE_QA_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    assert configuration("static-alone") == {"embedding_backend": "static", "minilm_at_question": False}
    assert configuration("onnx") == {"embedding_backend": "onnx"}
    for name in ("static", "static-alone", "onnx"):
        from_step = load_settings(**configuration(name))
        with monkeypatch.context() as patched:
            for key, value in configuration_env(name).items():
                patched.setenv(key, value)
            from_env = load_settings()
        assert (from_env.embedding_backend, from_env.minilm_at_question) == \
            (from_step.embedding_backend, from_step.minilm_at_question)
    default = load_settings()
    assert (default.embedding_backend, default.minilm_at_question) == ("static", True)  # (c) is the default
    assert load_settings(**configuration("static-alone")).minilm_at_question is False
