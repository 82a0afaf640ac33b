"""The one text module: index and answer checks tokenise alike, and the bugs two tokenisers caused stay fixed."""

from __future__ import annotations

import pytest

from core.text import SKELETON_MARK, all_terms, key_text, lexical_tokens, split_sentences, terms
from qa.citations import check_support
from qa.names import named_terms, unmatched_names
from qa.terms import Vocabulary, question_terms

TRICKY = [
    "U.S.",
    "Troops from the U.S. left Syria.",
    "Deir ez-Zor",
    "al-Bukamal",
    "Kata'ib Hezbollah",
    "Hizbullah's fighters",
    "1,200 fighters and 3,450,000 dollars",
    "Abu Mahdi al-Muhandis",
    "pro-Iranian militias",
    "Shi'ite militias in Deir al-Zour",
]


@pytest.mark.parametrize("text", TRICKY)
def test_index_and_answer_checks_see_the_same_terms(text):
    index_terms = [token for token in lexical_tokens(text) if not token.startswith(SKELETON_MARK)]
    qa_terms = [term for term, _ in question_terms(text)]
    assert index_terms == terms(text)
    assert list(dict.fromkeys(index_terms)) == qa_terms
    assert set(index_terms) <= Vocabulary(text).tokens


def test_tricky_strings_tokenise_as_a_reader_expects():
    assert terms("U.S.") == ["us"]
    assert terms("Deir ez-Zor") == ["deir", "zor"]
    assert terms("al-Bukamal") == ["bukamal"]
    assert terms("Kata'ib") == ["kataib"]
    assert terms("1,200 fighters") == ["1200", "fighter"]
    assert "hizbullah" in terms("Hizbullah's fighters")
    # A soft hyphen inside a word (real web pages).
    assert terms("23 bran\u00adches") == terms("23 branches") == ["23", "branche"]


def test_a_claim_about_the_us_is_supported_by_a_passage_that_says_us():
    evidence = "Officials said the US left Syria after the deal was signed."
    vocabulary = Vocabulary(evidence)
    assert all(vocabulary.match(term, previous) for term, previous in question_terms("the U.S. left Syria"))
    assert unmatched_names(named_terms("How many troops did the U.S. withdraw from Syria?"), [evidence]) == []


def test_transliterations_meet_in_the_answer_checks():
    vocabulary = Vocabulary("Fighters of Hezbollah reached Deir Ezzor and Abu Kamal.")
    for claim in ("Hizbullah", "Deir al-Zour", "Bukamal"):
        found = [vocabulary.match(term, previous) for term, previous in question_terms(claim)]
        assert any(found), claim


def test_sentences_keep_their_offsets():
    text = "The US left. Then Iran-backed groups struck again!\nA new line starts here."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "The US left.", "Then Iran-backed groups struck again!", "A new line starts here."
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_all_terms_keep_stopwords_and_key_text_keeps_only_letters_and_digits():
    assert "the" in all_terms("the groups")
    assert key_text("Deir ez-Zor, 1,200!") == "deirezzor1200"


def test_support_check_accepts_us_for_u_s_and_refuses_a_planted_name():
    import numpy as np

    from index.embed import HashingEmbedder

    embedder = HashingEmbedder()
    evidence = ["Officials said the US left Syria after the deal.", "The withdrawal ended in March."]
    vectors = np.asarray(embedder.embed_documents(evidence), dtype=np.float32)
    passage = " ".join(evidence)

    def support(claim):
        claim_vector = np.asarray(embedder.embed_query(claim), dtype=np.float32)
        return check_support(claim, claim_vector, evidence, vectors, passage)

    assert support("Officials said the U.S. left Syria after the deal.").supported
    assert not support("Officials said Qassem Soleimani left Syria after the deal.").supported
