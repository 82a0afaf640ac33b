"""The static embedding backend: the shipped table is what the distillation script makes and what its card says,
its vectors rank related text first, a build and a search with it keep torch and transformers out of the process,
and an index it built is refused under another model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelUnavailable
from index.embed import STATIC_BACKEND
from index.static_backend import CARD_FILE, DEFAULT_STATIC_DIR, StaticEmbedder, read_card, static_identity

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


def test_backend_name_agrees_with_the_module_that_owns_it():
    assert StaticEmbedder.backend == STATIC_BACKEND  # index.embed owns the names; static_backend never imports it


def test_shipped_model_matches_its_card_and_is_small():
    card = read_card(DEFAULT_STATIC_DIR)
    size = sum(p.stat().st_size for p in DEFAULT_STATIC_DIR.rglob("*") if p.is_file())
    assert size <= 50_000_000
    assert "model.safetensors" in card["files"] and "tokenizer.json" in card["files"]
    name, dims = static_identity(DEFAULT_STATIC_DIR)
    assert name.endswith("@" + card["files"]["model.safetensors"][:12]) and dims == card["dims"]
    assert (DEFAULT_STATIC_DIR / "README.md").read_text(encoding="utf-8").count("scripts/distill_static.py") >= 1


def test_altered_or_missing_files_are_refused_with_one_line(tmp_path):
    altered = tmp_path / "altered"
    shutil.copytree(DEFAULT_STATIC_DIR, altered)
    table = altered / "model.safetensors"
    data = bytearray(table.read_bytes())
    data[-3] ^= 0xFF
    table.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match="does not match its sha256"):
        StaticEmbedder(altered)
    (altered / CARD_FILE).unlink()
    with pytest.raises(ModelUnavailable, match="static.json is missing"):
        StaticEmbedder(altered)


def test_vectors_are_model2vecs_own_bit_for_bit(embedder):
    """The table is read without model2vec (its imports cost a cold search 0.3-0.7 s); the vectors must stay the ones
    model2vec's StaticModel gives, which earlier indexes hold, down to the last bit."""
    from model2vec import StaticModel

    reference = StaticModel.from_pretrained(str(DEFAULT_STATIC_DIR), normalize=True)
    reference.tokenizer.no_padding()  # tokenizer.json pads to 128: a chunk is embedded whole, as the builder did
    reference.tokenizer.no_truncation()
    chunks = [path.read_text(encoding="utf-8", errors="replace")[:4000] for path in sorted(CORPUS.rglob("*.txt"))]
    texts = [*chunks, "", "Who leads Hezbollah?", "\u2603 \u4e2d\u6587 [UNK] words", "long " * 3000]
    expected = np.asarray(reference.encode(texts, max_length=None, use_multiprocessing=False), dtype=np.float32)
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    expected /= np.where(norms > 0, norms, 1.0)
    assert np.array_equal(embedder.embed_documents(texts), expected)


def test_loading_the_table_imports_neither_model2vec_nor_the_hub():
    code = ("import sys, json\nfrom index.static_backend import StaticEmbedder\nStaticEmbedder().embed_query('x')\n"
            "print(json.dumps([m for m in ('model2vec', 'huggingface_hub', 'requests') if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_vectors_are_unit_length_and_rank_the_related_sentence_first(embedder):
    question = embedder.embed_query("How much did the new bridge over the river cost?")
    documents = embedder.embed_documents([
        "The cat slept on the sofa all afternoon while it rained.",
        "Building the bridge across the river cost the city 40 million dollars.",
        "",
    ])
    assert documents.dtype == np.float32 and documents.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(documents[:2], axis=1), 1.0, atol=1e-5)
    assert not documents[2].any()  # no token, no direction: a zero vector, never NaN
    scores = documents @ question
    assert scores[1] > scores[0] + 0.2


def test_token_counts_match_the_model_tokenizer(embedder):
    from transformers import AutoTokenizer

    from core.settings import bundled_model_dir
    from index.engine import _tokenizer_counter

    reference = AutoTokenizer.from_pretrained(bundled_model_dir())
    count = _tokenizer_counter(bundled_model_dir())
    for text in ["", "Officials said on Tuesday that the 3.5-km bridge’s cost rose to $40m.", "naïve café 東京 🎉",
                 " ".join(["unbelievably"] * 400)]:
        expected = len(reference(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])
        assert count(text) == expected
        assert embedder.count_tokens(text) == expected


TORCH_MODULES = ("torch", "transformers", "sentence_transformers")


def _run(code: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    env["ARCHIVE_QA_EMBEDDING_BACKEND"] = "static"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_build_search_and_ask_keep_torch_out_of_the_process(tmp_path):
    index = tmp_path / "index"
    build_and_search = f"""
import contextlib, io, json, sys
from archive_qa.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(['build', '--archive', {str(CORPUS)!r}, '--index', {str(index)!r}, '--quiet']) in (0, 3)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(['search', 'militias recruiting in Syria', '--archive', {str(CORPUS)!r},
                 '--index', {str(index)!r}, '--json']) == 0
print(json.dumps({{"torch": 'torch' in sys.modules, "transformers": 'transformers' in sys.modules,
                  "hits": len(json.loads(out.getvalue()))}}))
"""
    seen = json.loads(_run(build_and_search).strip().splitlines()[-1])
    assert seen == {"torch": False, "transformers": False, "hits": 5}
    manifest = json.loads(next(index.glob("builds/*/manifest.json")).read_text(encoding="utf-8"))
    name, dims = static_identity(DEFAULT_STATIC_DIR)
    assert manifest["model"] == {"name": name, "dim": dims}
    ask = f"""
import contextlib, io, json, sys
from archive_qa.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(['ask', 'Who announced that the Guard would move its members?', '--archive', {str(CORPUS)!r},
                 '--index', {str(index)!r}, '--json']) == 0
answer = json.loads(out.getvalue())
print(json.dumps({{"torch": 'torch' in sys.modules, "onnxruntime": 'onnxruntime' in sys.modules,
                  "spacy": 'spacy' in sys.modules,
                  "cited": len(answer["citations"]), "reader": answer["signals"]["reader"]}}))
"""
    asked = json.loads(_run(ask).strip().splitlines()[-1])
    assert asked["torch"] is False and asked["onnxruntime"] is True  # the reader and the question-time MiniLM
    assert asked["cited"] >= 1 and asked["reader"] > 0.0
    assert asked["spacy"] is True  # "who": a person's name is looked for among the entities
    untyped = ask.replace("Who announced that the Guard would move its members?",
                          "Tell me about the Guard moving its members")
    asked = json.loads(_run(untyped).strip().splitlines()[-1])
    assert asked["spacy"] is False and asked["torch"] is False  # no named type asked for: spaCy never loads
    assert asked["cited"] >= 1


def test_search_ask_and_the_app_answer_with_minilm_at_the_question_and_no_torch(tmp_path):
    """Static vectors in the index, MiniLM (ONNX Runtime) at the question: `search`, `ask` and the app's answering
    path (ui.resources.answer, as ui/app.py calls it) each in a fresh process, none importing torch or transformers,
    each passage's dense_score MiniLM's cosine."""
    index = tmp_path / "index"
    common = f"""
import contextlib, io, json, sys
import numpy as np
from archive_qa.cli import main
from core.settings import load_settings
from index.question_encoder import load_encoder
settings = load_settings(archive_dir={str(CORPUS)!r}, index_dir={str(index)!r})
def report(question, passages, extra):
    encoder = load_encoder(settings)
    query = encoder.embed_query(question)
    cosines = [float(encoder.embed_documents([p])[0] @ query) for p in passages]
    print(json.dumps({{"loaded": [m for m in {TORCH_MODULES!r} if m in sys.modules], "cosines": cosines, **extra}}))
"""
    _run(common + f"""
with contextlib.redirect_stdout(io.StringIO()):
    assert main(['build', '--archive', {str(CORPUS)!r}, '--index', {str(index)!r}, '--quiet']) in (0, 3)
""")
    question = "Who announced that the Guard would move its members?"
    search = common + f"""
out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(['search', {question!r}, '--archive', {str(CORPUS)!r}, '--index', {str(index)!r}, '--json']) == 0
hits = json.loads(out.getvalue())
from index.search import Searcher
searcher = Searcher.open(settings)
found = searcher.search({question!r}, k=5)
assert [h.chunk.text for h in found] == [h["text"] for h in hits]
report({question!r}, [h.chunk.embedding_text() for h in found], {{"dense": [h.dense_score for h in found]}})
"""
    ask = common + f"""
out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(['ask', {question!r}, '--archive', {str(CORPUS)!r}, '--index', {str(index)!r}, '--json']) == 0
answer = json.loads(out.getvalue())
report({question!r}, [], {{"cited": len(answer["citations"]), "passage": answer["signals"]["passage"]}})
"""
    app = common + f"""
from ui import resources
from ui.state import AskOptions
resources.start_loading_model(settings)
searcher = resources.open_searcher(settings)
answer, warning = resources.answer(searcher, {question!r}, settings, AskOptions())
assert not warning and answer.citations and not answer.abstained
report({question!r}, [h.chunk.embedding_text() for h in answer.hits],
       {{"dense": [h.dense_score for h in answer.hits], "embedder": searcher.answer_embedder.name}})
"""
    searched = json.loads(_run(search).strip().splitlines()[-1])
    assert searched["loaded"] == [] and len(searched["dense"]) == 5
    assert searched["dense"] == pytest.approx(searched["cosines"], abs=1e-5)
    asked = json.loads(_run(ask).strip().splitlines()[-1])
    assert asked["loaded"] == [] and asked["cited"] >= 1 and asked["passage"] > 0.3
    answered = json.loads(_run(app).strip().splitlines()[-1])
    assert answered["loaded"] == [] and answered["embedder"].startswith("all-MiniLM-L6-v2")
    assert answered["dense"] == pytest.approx(answered["cosines"], abs=1e-5)


def test_index_built_with_static_vectors_is_refused_under_minilm(tmp_path):
    from core.errors import IndexMismatch
    from core.settings import load_settings
    from index.build import build_index
    from index.search import Searcher

    settings = load_settings(archive_dir=CORPUS, index_dir=tmp_path / "index", embedding_backend="static")
    build_index(settings, progress=False)
    other = load_settings(archive_dir=CORPUS, index_dir=tmp_path / "index", embedding_backend="onnx")
    with pytest.raises(IndexMismatch, match="static"):
        Searcher.open(other)
    assert Searcher.open(settings).search("militias", k=3)


def test_distillation_script_reproduces_the_shipped_table(tmp_path):
    """The shipped model is what scripts/distill_static.py makes from the bundled MiniLM (about 20 s)."""
    from model2vec import StaticModel

    card = read_card(DEFAULT_STATIC_DIR)
    arguments = card["command"].split()[2:]
    out = arguments.index("--out")
    arguments[out + 1] = str(tmp_path / "static")
    if "--vocabulary-from" in arguments:
        pytest.skip("the shipped table was distilled with an extra vocabulary from ../shared/qa-train")
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "distill_static.py"), *arguments],
                               capture_output=True, text=True, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-2000:]
    made = json.loads((tmp_path / "static" / CARD_FILE).read_text(encoding="utf-8"))
    assert made["name"] == card["name"] and made["dims"] == card["dims"] and made["tokens"] == card["tokens"]
    ours = StaticModel.from_pretrained(str(tmp_path / "static")).embedding.astype(np.float32)
    shipped = StaticModel.from_pretrained(str(DEFAULT_STATIC_DIR)).embedding.astype(np.float32)
    # Same table up to float rounding (BLAS may sum in another order on another CPU); PCA signs may flip.
    signs = np.sign((ours * shipped).sum(axis=0))
    assert np.abs(ours * signs - shipped).max() < 2e-2


def test_abstention_rule_follows_the_vectors_unless_set():
    from core.settings import load_settings
    from qa.abstain import FITTED_RULES, SIGNALS, Signals, coefficients, probability

    minilm = load_settings(embedding_backend="onnx")
    static = load_settings(embedding_backend="static", minilm_at_question=False)
    # Static vectors with MiniLM at the question: the passage signal is MiniLM's cosine, and so is the rule.
    assert coefficients(load_settings(embedding_backend="static", minilm_at_question=True)) == coefficients(minilm)
    assert coefficients(minilm)[0] == FITTED_RULES["minilm"]["intercept"]
    assert coefficients(static)[1][SIGNALS.index("passage")] == FITTED_RULES["static"]["passage"]
    # The same evidence reads differently: a static cosine of 0.6 is weaker evidence than MiniLM's 0.6 is.
    evidence = Signals(passage=0.6, sentence=0.5, names=1.0, typed=1.0, linked=1.0, reader=0.5)
    assert probability(evidence, minilm) != probability(evidence, static)
    chosen = load_settings(embedding_backend="static", minilm_at_question=False, abstain_weight_passage=1.5,
                           abstain_intercept=-2.0)
    intercept, weights = coefficients(chosen)
    assert intercept == -2.0 and weights[SIGNALS.index("passage")] == 1.5
    assert weights[SIGNALS.index("reader")] == FITTED_RULES["static"]["reader"]
