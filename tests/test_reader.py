"""The reader trained here: its training script stays alive, the shipped model loads only when its file matches
its card, and it tells an answering sentence from a topical one."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from qa.reader import DEFAULT_READER_DIR, ReaderUnavailable, file_sha256, load_reader, read_card

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "qa-train-tiny"


def _train_module():
    spec = importlib.util.spec_from_file_location("train_reader", ROOT / "scripts" / "train_reader.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_reader"] = module
    spec.loader.exec_module(module)
    return module


def test_pairs_are_labelled_by_the_answer_offset_and_split_by_document():
    train = _train_module()
    pairs = train.load_pairs(TINY)
    assert len({p.question_id for p in pairs}) == 16
    bradfield = [p for p in pairs if p.question == "Who designed the bridge?"]
    assert [p.label for p in bradfield] == [0, 1, 0, 0]
    assert "John Bradfield" in next(p.sentence for p in bradfield if p.label)
    cost = [p for p in pairs if p.question == "How much did the bridge cost?"]
    assert cost and not any(p.label for p in cost) and not cost[0].answerable
    train_pairs, held, documents = train.split_documents(pairs, 0.5, seed=13)
    assert documents and len(documents) < 4
    # No document, and so no question, is on both sides.
    assert not {p.document for p in train_pairs} & {p.document for p in held}
    capped = train.cap_negatives(train_pairs, 1, 2, seed=13)
    by_question: dict[str, list] = {}
    for pair in capped:
        by_question.setdefault(pair.question_id, []).append(pair)
    assert all(len([p for p in rows if not p.label]) <= (1 if rows[0].answerable else 2)
               for rows in by_question.values())
    assert sum(p.label for p in capped) == sum(p.label for p in train_pairs)


def test_heldout_figures_on_known_scores():
    train = _train_module()
    pair = train.Pair
    pairs = [pair("d", "q1", "?", "a", 1, True), pair("d", "q1", "?", "b", 0, True),
             pair("d", "q2", "?", "c", 0, True), pair("d", "q2", "?", "e", 1, True),
             pair("d", "q3", "?", "f", 0, False)]
    figures = train.heldout_figures(pairs, [0.9, 0.2, 0.6, 0.4, 0.1])
    assert figures["right_sentence_first"] == 0.5  # q1 right, q2 wrong
    # 5 of the 6 positive-negative pairs are in order
    assert figures["auc_sentence_answers"] == pytest.approx(5 / 6, abs=1e-4)
    assert figures["auc_question_answerable"] == 1.0  # the unanswerable q3 has the lowest best score


@pytest.mark.slow
def test_training_script_trains_resumes_and_exports(tmp_path):
    """CI's run of the training script: a few dozen pairs, two steps, then a resumed third, then the export."""
    train = _train_module()
    run_dir, out = tmp_path / "run", tmp_path / "reader"
    common = ["--data", str(TINY), "--run-dir", str(run_dir), "--batch-size", "8", "--save-steps", "1",
              "--log-steps", "1", "--heldout-share", "0.5", "--max-length", "64"]
    assert train.main([*common, "--max-steps", "2"]) == 0
    assert train.newest_checkpoint(run_dir).name == "checkpoint-2"
    assert train.main([*common, "--max-steps", "3", "--export", str(out)]) == 0
    assert train.newest_checkpoint(run_dir).name == "checkpoint-3"  # resumed from 2, not started over
    card = json.loads((out / "reader.json").read_text())
    assert card["sha256"] == file_sha256(out / "reader.onnx")
    assert card["heldout_documents"] and card["heldout_figures"]["fp32"]["pairs"] > 0
    reader = load_reader(out)
    probabilities = reader.probabilities([("Who designed the bridge?", "It was designed by John Bradfield.")])
    assert 0.0 < probabilities[0] < 1.0


def test_the_shipped_reader_matches_its_card():
    card = read_card(DEFAULT_READER_DIR)
    assert card["sha256"] == file_sha256(DEFAULT_READER_DIR / "reader.onnx")
    assert (DEFAULT_READER_DIR / "reader.onnx").stat().st_size <= 50_000_000
    assert (DEFAULT_READER_DIR / "README.md").is_file()  # the model card


def test_an_altered_reader_is_refused(tmp_path):
    copy = tmp_path / "reader"
    shutil.copytree(DEFAULT_READER_DIR, copy)
    model = copy / "reader.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ReaderUnavailable, match="does not match its card"):
        load_reader(copy)
    (copy / "reader.json").unlink()
    with pytest.raises(ReaderUnavailable, match="reader.json is missing"):
        load_reader(copy)


def test_the_reader_prefers_the_answering_sentence():
    reader = load_reader()
    question = "Who designed the harbour bridge?"
    sentences = ["The harbour bridge opened in 1932 after eight years of work.",
                 "It was designed by the engineer John Bradfield.",
                 "Painting the steel takes a crew of twelve people about ten years."]
    probabilities = reader.probabilities([(question, s) for s in sentences])
    assert max(range(3), key=lambda i: probabilities[i]) == 1
    # The same pairs in another order, beside a long one, score the same: each pair is scored on its own.
    reader.cache.clear()
    long_pair = (question, " ".join(sentences * 4))
    again = reader.probabilities([long_pair] + [(question, s) for s in reversed(sentences)])
    assert again[1:][::-1] == pytest.approx(probabilities, abs=1e-4)
