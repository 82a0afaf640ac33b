"""Answer types, answering phrases, date phrases, the abstention rule and the answer-span markup (no models)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest

from qa.abstain import Signals, name_coverage, not_stated, probability, should_abstain
from qa.cues import answer_phrase
from qa.dates import question_dates
from qa.entities import Entity
from qa.question import analyse_question, answer_type
from qa.records import Answer, AnswerSentence, Citation

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize("question, kind", [
    ("How many locations does the salon chain have?", "number"),
    ("Which Rhodium Group partner wrote the report on US emissions?", "person"),
    ("Which Hong Kong company traded on Amazon under the name E-Life?", "organisation"),
    ("In which journal did researchers publish the study?", "organisation"),
    ("On which Dutch beach was the flint tool found?", "place"),
    ("When did the robot first draw blood?", "date"),
    ("Why did the council reject the plan?", "reason"),
    ("Who runs the salon chain?", "person"),
    ("What was the title of the booklet?", ""),
])
def test_answer_type(question, kind):
    assert answer_type(question) == kind


def test_answer_phrase_prefers_a_fresh_entity_of_the_asked_type():
    sentence = "The chain is owned by Usman Hasib, who founded it in Houston."
    found = (Entity(22, 33, "PERSON", "Usman Hasib"), Entity(55, 62, "GPE", "Houston"))
    strength, span = answer_phrase(analyse_question("Who owns the chain?"), sentence, found)
    assert strength == 1.0 and sentence[span[0]:span[1]] == "Usman Hasib"
    # The question already names the only person: the sentence does not hold a new one.
    strength, span = answer_phrase(analyse_question("Who is Usman Hasib?"), sentence, found[:1])
    assert strength < 1.0


def test_answer_phrase_without_entities_falls_back_to_cues():
    strength, span = answer_phrase(analyse_question("How many salons?"), "The chain has 25 salons across Texas.", None)
    assert strength == 1.0 and span is not None
    assert answer_phrase(analyse_question("Why did it close?"), "It closed because the rent doubled.")[1] is not None
    assert answer_phrase(analyse_question("How many salons?"), "Nothing here counts.", ()) == (0.0, None)


@pytest.mark.parametrize("question, since, until", [
    ("What happened since March 2024?", "2024-03-01", None),
    ("Who won the race in 2023?", "2023-01-01", "2023-12-31"),
    ("What did the mayor say last year?", "2025-01-01", "2025-12-31"),
    ("Who spoke before the ceasefire announcement on 9 May 2024?", None, "2024-05-09"),
    ("What changed before 2022?", None, "2021-12-31"),
])
def test_question_dates(question, since, until):
    found = question_dates(question, TODAY)
    assert found is not None and (found.since, found.until) == (since, until)
    assert found.phrase and found.phrase in question


@pytest.mark.parametrize("question", [
    "Since what year had the department referred students?", "Who endorsed her in the 2020 Democratic primary?",
])
def test_questions_without_a_date_range(question):
    assert question_dates(question, TODAY) is None


def _rule(**weights):
    base = dict(abstain_intercept=-6.0, abstain_weight_passage=8.0, abstain_weight_sentence=4.0,
                abstain_weight_names=2.0, abstain_weight_typed=1.0, abstain_weight_linked=1.0,
                abstain_weight_reader=0.0, abstain_weight_span=0.0,
                abstain_probability=0.5)
    return SimpleNamespace(**{**base, **weights})


def test_no_single_signal_vetoes_a_strong_passage():
    settings = _rule()
    strong = Signals(passage=0.75, sentence=0.8, names=0.0, typed=1.0)  # names spelled otherwise
    assert not should_abstain(strong, settings)
    weak = Signals(passage=0.2, sentence=0.3, names=1.0, typed=0.0)
    assert should_abstain(weak, settings)
    assert probability(strong, settings) > probability(weak, settings)


def test_name_coverage_counts_spelling_variants():
    residents = ["Residents of Bukamal said"]
    share, missing = name_coverage(analyse_question("What did Abu Kamal residents report?"), residents)
    assert share == 1.0 and missing == []
    share, missing = name_coverage(analyse_question("What did Haifa residents report?"), ["Residents of Bukamal said"])
    assert share == 0.0 and missing == ["Haifa"]


def test_not_stated_gives_one_reason_with_the_closest_sentence():
    text = not_stated("Which supplier made the robot?", "The robot was built at Rutgers.", "a.html", [])
    assert text.startswith("The archive does not state") and "a.html" in text and "built at Rutgers" in text
    assert not_stated("Who is Haifa's mayor?", None, None, ["Haifa"]) == "No retrieved passage mentions Haifa."


def test_answer_span_is_in_the_json_and_highlighted_escaped():
    from ui.markup import answer_html

    quote = "The <b>owner</b>, Usman Hasib, spoke."
    start = quote.index("Usman")
    citation = Citation(1, "a.html", "T", 3, 3, quote, answer_span=(start, start + 11))
    answer = Answer("Who owns it?", f"{quote} [1]", False, citations=(citation,),
                    sentences=(AnswerSentence(quote, (1,)),))
    assert answer.to_json()["citations"][0]["answer_span"] == [start, start + 11]
    html = answer_html(answer)
    assert '<mark class="aq-answer-span">Usman Hasib</mark>' in html and "&lt;b&gt;owner" in html
    assert Citation(1, "a", "T", 1, 1, "q").to_json()["answer_span"] is None


def test_logistic_fit_separates_signals():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "calibrate_abstention.py"
    spec = importlib.util.spec_from_file_location("calibrate_abstention", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    x = rng.random((200, 2))
    y = (x[:, 0] + 0.2 * rng.standard_normal(200) > 0.5).astype(float)
    w = module.fit_logistic(x, y)
    assert w[1] > 2 and abs(w[2]) < w[1]


def test_publication_date_from_html_metadata():
    from archive.dates import html_published_date

    assert html_published_date('<meta property="article:published_time" content="2020-01-19T12:25:36Z"/>') \
        == "2020-01-19"
    assert html_published_date('<script>{"datePublished": "2023-01-16 16:30:41"}</script>') == "2023-01-16"
    assert html_published_date('<time class="updated" datetime="2023-01-17"></time>'
                               '<time datetime="2023-01-16T16:30">Jan 16</time>') == "2023-01-16"
    assert html_published_date("<p>On March 3, 2021 the council met.</p>") == ""
