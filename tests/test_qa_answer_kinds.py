"""What a question asks for, finer than its type: which number, which date, whose role, and FAQ questions that
are not their own answers (no models: entities are given by hand, as spaCy would tag them)."""

from __future__ import annotations

import numpy as np
import pytest

from index.records import Chunk, Hit
from qa.cues import answer_phrase, number_phrase, phrase_link
from qa.entities import Entity
from qa.extractive import Candidate, Scored, answer_after_question, is_question, neighbour_with_answer
from qa.question import analyse_question, answer_type, focus_terms, number_kind


def _entity(sentence: str, text: str, label: str) -> Entity:
    start = sentence.index(text)
    return Entity(start, start + len(text), label, text)


@pytest.mark.parametrize("question, kind", [
    ("How much would the group invest in the resort?", "money"),
    ("What salary does the judge earn?", "money"),
    ("How much cocaine did the officers find?", ""),
    ("What was the overall success rate of the robot?", "percent"),
    ("What share of the state's electricity does the operator control?", "percent"),
    ("How many member carriers does the alliance have?", "count"),
    ("How old was the driver?", "age"),
    ("How long does a lemon tree take to fruit?", ""),
])
def test_number_kind(question, kind):
    assert number_kind(question) == kind


def test_a_date_is_no_count():
    question = "How many member carriers does the Oneworld alliance have?"
    dated = "Alaska Airlines will be a full member of the Oneworld alliance: March 31, 2021."
    assert number_phrase(analyse_question(question), dated, [_entity(dated, "March 31, 2021", "DATE")]) == (0.0, None)
    counted = "Members earn miles across the alliance's 13 member carriers."
    strength, (start, end) = number_phrase(analyse_question(question), counted, [_entity(counted, "13", "CARDINAL")])
    assert strength == 1.0 and counted[start:end] == "13"


def test_money_is_asked_for_by_how_much_invest():
    question = "How much would the Margaritaville group invest at the lake?"
    marina = "We'll have a 50 slip marina, gas docks and cabins."
    money = "This would be a $95 million investment by the Margaritaville group."
    weak, _ = number_phrase(analyse_question(question), marina, [_entity(marina, "50", "CARDINAL")])
    strong, (start, end) = number_phrase(analyse_question(question), money, [_entity(money, "$95 million", "MONEY")])
    assert strong == 1.0 and money[start:end] == "$95 million"
    assert 0.0 < weak < strong
    # The written form counts when the model tagged nothing.
    assert number_phrase(analyse_question(question), money, [])[0] == 1.0


def test_a_list_number_is_not_an_answer():
    question = "How long does a lemon tree grown from seed take to produce lemons?"
    listed = "3. How long does a lemon tree grown from seed take to produce lemons?"
    assert number_phrase(analyse_question(question), listed, [_entity(listed, "3", "CARDINAL")]) == (0.0, None)


def test_an_all_capitals_person_is_a_call_sign():
    sentence = "HOUSTON, Texas (KTRK) -- A beauty business is taking drastic measures."
    strength, span = answer_phrase(analyse_question("Who runs the salon chain?"), sentence,
                                   [_entity(sentence, "KTRK", "PERSON")])
    assert strength < 1.0 and (span is None or sentence[span[0]:span[1]] != "KTRK")


def test_a_date_without_a_day_month_or_number_counts_partly():
    question = "On what date does Rocket Pass 4 begin?"
    vague = "Rocket League is gearing up for a new season."
    precise = "It starts on August 28 and ends on December 4."
    weak, _ = answer_phrase(analyse_question(question), vague, [_entity(vague, "a new season", "DATE")])
    strong, (start, end) = answer_phrase(analyse_question(question), precise, [_entity(precise, "August 28", "DATE")])
    assert strong == 1.0 and precise[start:end] == "August 28"
    assert 0.0 < weak < 1.0


def test_a_role_beside_a_name_links_it_to_the_question():
    question = "Who is the spokesman of the Initiative of Black People in Germany?"
    assert focus_terms(question) == {"spokesman"}
    beside = '"Migration is seen anew," ISD spokesman Tahir Della told DW.'
    apart = "In Germany, Chancellor Otto von Bismarck hosted the Berlin Conference in 1884 with other powers."
    start = beside.index("Tahir Della")
    far = apart.index("Otto von Bismarck")
    assert phrase_link(analyse_question(question), beside, (start, start + len("Tahir Della"))) == 1.0
    assert phrase_link(analyse_question(question), apart, (far, far + len("Otto von Bismarck"))) < 1.0
    assert phrase_link(analyse_question(question), beside, None) == 0.0


def test_a_quoted_faq_question_brings_its_answer():
    text = ("Scroll down for jokes sent by readers. 1. What do you call an ant who fights crime? A vigilante! "
            "2. What is fast, loud and crunchy? A rocket chip!")
    chunk = Chunk(id="jokes#0", article_id="jokes", ordinal=0, source="jokes.txt", title="Jokes", text=text,
                  start_line=1, end_line=3)
    hits = [Hit(rank=1, score=1.0, chunk=chunk)]
    from core.text import split_sentences

    sentences = [s.text for s in split_sentences(text)]
    position = next(i for i, s in enumerate(sentences) if "ant who fights crime" in s)
    best = Scored(Candidate(0, sentences[position], position), 0.9, 0.8, 0.5, 0.0, None, np.zeros(3))
    assert is_question(best.candidate.text)
    following = answer_after_question(analyse_question("What do you call an ant that fights crime?"), best, hits)
    assert following is not None and following.candidate.text == "A vigilante!"
    # A sentence that is not a question brings nothing.
    statement = Scored(Candidate(0, sentences[0], 0), 0.9, 0.8, 0.5, 0.0, None, np.zeros(3))
    asked = analyse_question("What do you call an ant that fights crime?")
    assert answer_after_question(asked, statement, hits) is None


@pytest.mark.parametrize("question, kind", [
    ("What is the Android ransomware that spreads through links to a game called?", "name"),
    ("What other name does chocolate buttercream frosting go by?", "name"),
    ("What unkind nickname had magazines in Quebec given the singer?", "name"),
    ("In the list of jokes, what do you call an ant that fights crime?", "name"),
    ("Who called the police after the crash?", "person"),  # "called" asks for a name only at the end
    ("Which University of Michigan professor's lab developed the algorithm?", "person"),  # the owner
    ("Which company's chief executive announced the cuts?", "organisation"),
    ("To which hospital was the girl taken?", "place"),
])
def test_answer_type_of_name_and_possessive_questions(question, kind):
    assert answer_type(question) == kind


def test_a_name_question_takes_the_bracketed_or_quoted_term():
    question = "What other name does chocolate buttercream frosting made without powdered sugar go by?"
    heading = "Chocolate Buttercream Frosting without Powdered Sugar (Ermine Icing)"
    strength, (start, end) = answer_phrase(analyse_question(question), heading, [])
    assert strength == 1.0 and heading[start:end] == "Ermine Icing"
    quoted = "Magazines in her native Quebec called her “Canine Dion” when she was twelve."
    nickname = analyse_question("What unkind nickname had magazines given Dion?")
    strength, (start, end) = answer_phrase(nickname, quoted, [])
    assert strength == 1.0 and quoted[start:end] == "Canine Dion"
    # A sentence that only repeats the question's own words names nothing.
    plain = "Chocolate buttercream frosting without powdered sugar is easy to make."
    assert answer_phrase(analyse_question(question), plain, [])[0] == 0.0


def test_a_name_right_after_the_asked_role_is_a_person_the_model_missed():
    question = "Who is the sister of the hunter found shot in Bethany?"
    said = "Speaking with Kaieteur News on Thursday, Ramdehol's sister, Inderdai Deyal said that he had left home."
    strength, (start, end) = answer_phrase(analyse_question(question), said, [])  # the model tagged no PERSON
    assert strength == 1.0 and said[start:end] == "Inderdai Deyal"
    elsewhere = "Inderdai Deyal said that her brother had left his home at Maria Lodge on Thursday."
    assert answer_phrase(analyse_question(question), elsewhere, [])[0] < 1.0


def test_an_entity_holding_the_asked_head_noun_answers_whatever_its_label():
    question = "To which hospital was the 14-year-old girl injured in the crash taken?"
    taken = "Paramedics rushed the passenger to HCA Florida Kendall Hospital in critical condition."
    as_org = [_entity(taken, "HCA Florida Kendall Hospital", "ORG")]  # not GPE/LOC/FAC: a place question
    strength, (start, end) = answer_phrase(analyse_question(question), taken, as_org)
    assert strength == 1.0 and taken[start:end] == "HCA Florida Kendall Hospital"
    other_org = [_entity(taken, "HCA Florida Kendall Hospital", "ORG")]
    assert answer_phrase(analyse_question("Where was the girl taken?"), taken, other_org)[0] < 1.0


def test_a_time_of_day_answers_what_time():
    sentence = "Reports of the outage began at around 10 a.m. Eastern Time."
    found = [_entity(sentence, "around 10 a.m. Eastern Time", "TIME")]
    asked = answer_phrase(analyse_question("Around what time did reports of the outage begin?"), sentence, found)
    assert asked[0] == 1.0
    assert answer_phrase(analyse_question("When did reports of the outage begin?"), sentence, found)[0] < 1.0


def test_a_why_answer_without_a_causal_word_brings_the_next_sentence():
    sentences = ["This article first appeared on the site.",
                 "In the middle of the day on Monday, the sky above Sao Paulo went dark.",
                 "The city was blanketed by smoke from wildfires raging in the Amazon.",
                 "Earlier this month, the state declared an emergency over the rising number of fires."]
    candidates = [Candidate(0, text, i) for i, text in enumerate(sentences)]
    best = Scored(candidates[1], 0.9, 0.8, 0.6, 0.0, None, np.zeros(3))
    question = "Why did the sky over Sao Paulo go dark in the middle of the day?"
    extra = neighbour_with_answer(analyse_question(question), best, candidates)
    # Not the causal word two sentences on ("over the rising number"), but the sentence right after.
    assert extra is not None and extra.candidate.position == 2
    # A best sentence that gives its own reason brings nothing.
    because = Scored(Candidate(0, "The sky went dark because of smoke from wildfires.", 1), 0.9, 0.8, 0.6, 1.0,
                     (20, 50), np.zeros(3))
    assert neighbour_with_answer(analyse_question(question), because, candidates) is None


def test_eval_credits_a_citation_whose_lines_state_the_answer(tmp_path):
    from qa.evaluate import judge
    from qa.records import Answer, AnswerSentence, Citation
    from qa.sources import RawFiles

    (tmp_path / "crash.txt").write_text("Photo: Heather Grant, 33, of Christiana.\n\nThe victims are named.\n"
                                        "They are: Heather Grant, 33, of Christiana.\n", encoding="utf-8")
    item = {"question": "How old was Heather Grant?", "source": "crash.txt", "answers": ["33"], "lines": [1, 1]}

    def answer_citing(line: int, quote: str, text: str | None = None) -> Answer:
        citation = Citation(n=1, source="crash.txt", title="Crash", start_line=line, end_line=line, quote=quote)
        return Answer(question=item["question"], answer=f"{text or quote} [1]", abstained=False,
                      citations=(citation,), sentences=(AnswerSentence(text=text or quote, citations=(1,)),),
                      answerer="extractive")

    body = judge(answer_citing(4, "They are: Heather Grant, 33, of Christiana."), item, RawFiles(tmp_path))
    assert body["answer_stated"] and not body["answer_cited"]  # right fact, right file, not the labelled line
    # The answer's text holds 33, but the line it cites does not state it.
    unstated = judge(answer_citing(3, "The victims are named.", text="She was 33."), item, RawFiles(tmp_path))
    assert unstated["answer_correct"] and not unstated["answer_stated"]
