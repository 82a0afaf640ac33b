"""The extractive answerer: the passage sentences that best answer the question, quoted verbatim and cited.

No language model: sentences are scored by embedding similarity to the question, weighted overlap of the
question's terms (transliteration variants count), and whether they hold the kind of thing asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.text import split_sentences, terms
from index.records import Hit
from qa.cues import answer_type, cue_strength
from qa.records import Answer, AnswerSentence, Citation
from qa.sources import RawFiles
from qa.terms import TermMatcher, jaccard

# Weights of the sentence score; they sum to 1 before the small rank prior.
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.35
CUE_WEIGHT = 0.15
RANK_WEIGHT = 0.05
MIN_CONTENT_TOKENS = 3  # shorter pieces ("TT", "20", a lone name) are not answers
KEEP_RATIO = 0.85  # a second or third sentence is quoted when it scores this close to the best
DUPLICATE_JACCARD = 0.6
DUPLICATE_COSINE = 0.92


@dataclass(frozen=True)
class Candidate:
    """A sentence of one retrieved passage."""

    hit_index: int
    text: str


def passage_sentences(hits: Sequence[Hit]) -> list[Candidate]:
    """Every answer-sized sentence of the passages, in rank order."""
    found = []
    for index, hit in enumerate(hits):
        for sentence in split_sentences(hit.chunk.text):
            if len(terms(sentence.text)) >= MIN_CONTENT_TOKENS:
                found.append(Candidate(index, sentence.text))
    return found


def embed_texts(embedder, texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    return np.asarray(embedder.embed_documents(list(texts)), dtype=np.float32)


def score_candidates(
    question: str, candidates: Sequence[Candidate], hits: Sequence[Hit], embedder,
    vectors: np.ndarray | None = None,
) -> np.ndarray:
    """One score per candidate sentence, higher is a better answer to the question."""
    if not candidates:
        return np.zeros(0)
    if vectors is None:
        vectors = embed_texts(embedder, [c.text for c in candidates])
    query = np.asarray(embedder.embed_query(question), dtype=np.float32)
    dense = np.clip(vectors @ query, 0.0, 1.0)
    matcher = TermMatcher(question, [c.text for c in candidates])
    kind = answer_type(question)
    scores = np.empty(len(candidates))
    for i, candidate in enumerate(candidates):
        rank = hits[candidate.hit_index].rank or candidate.hit_index + 1
        scores[i] = (
            DENSE_WEIGHT * dense[i]
            + LEXICAL_WEIGHT * matcher.coverage(candidate.text)
            + CUE_WEIGHT * cue_strength(kind, candidate.text, question)
            + RANK_WEIGHT / rank
        )
    return scores


def select_sentences(
    candidates: Sequence[Candidate], scores: np.ndarray, vectors: np.ndarray, max_sentences: int = 3
) -> list[int]:
    """Indexes of the best 1-3 candidates, skipping near-duplicates of sentences already chosen."""
    chosen: list[int] = []
    if not len(candidates):
        return chosen
    order = np.argsort(-scores, kind="stable")
    best = scores[order[0]]
    for i in order:
        if len(chosen) == max_sentences or (chosen and scores[i] < KEEP_RATIO * best):
            break
        if any(
            jaccard(candidates[i].text, candidates[j].text) >= DUPLICATE_JACCARD
            or float(vectors[i] @ vectors[j]) >= DUPLICATE_COSINE
            for j in chosen
        ):
            continue
        chosen.append(int(i))
    return chosen


def cite(n: int, hit: Hit, quote: str, raw: RawFiles, supported: bool = True) -> Citation:
    """A citation of `quote` inside `hit`, its line span narrowed to the raw lines that hold the quote."""
    chunk = hit.chunk
    start, end = raw.narrow(chunk.source, chunk.start_line, chunk.end_line, quote)
    return Citation(n=n, source=chunk.source, title=chunk.title, start_line=start, end_line=end,
                    quote=quote, supported=supported)


def extractive_answer(
    question: str, hits: Sequence[Hit], embedder, raw: RawFiles, *, max_sentences: int = 3, note: str = ""
) -> Answer | None:
    """The answer made of quoted sentences, or None when the passages hold no usable sentence."""
    candidates = passage_sentences(hits)
    if not candidates:
        return None
    vectors = embed_texts(embedder, [c.text for c in candidates])
    scores = score_candidates(question, candidates, hits, embedder, vectors)
    picked = select_sentences(candidates, scores, vectors, max_sentences)
    citations = []
    sentences = []
    for n, i in enumerate(picked, start=1):
        candidate = candidates[i]
        citations.append(cite(n, hits[candidate.hit_index], candidate.text, raw))
        sentences.append(AnswerSentence(text=candidate.text, citations=(n,), supported=True))
    text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
    return Answer(question=question, answer=text, abstained=False, citations=tuple(citations),
                  sentences=tuple(sentences), answerer="extractive", note=note, hits=tuple(hits))
