"""Citation checks for generated answers: parse [n] markers, drop the ones that point nowhere, and test each
sentence against the passages it cites (embedding similarity, token overlap, and no number the passage lacks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.text import split_sentences, terms
from index.records import Hit
from qa.extractive import cite, embed_texts
from qa.names import named_terms, unheld_names
from qa.records import AnswerSentence, Citation
from qa.sources import RawFiles
from qa.terms import numbers, token_overlap

MARKER = re.compile(
    r"\[\s*(?:passages?|source|n)?\s*=?\s*(\d+(?:\s*(?:,|;|and|-|–)\s*\d+)*)\s*\]", re.IGNORECASE
)
LEADING_MARKERS = re.compile(r"^\s*(?:" + MARKER.pattern + r"\s*)+", re.IGNORECASE)
TAG = re.compile(r"</?\s*passages?\b[^>]*>", re.IGNORECASE)
SUPPORT_THRESHOLD = 0.55  # of 0.5 * best sentence cosine + 0.5 * token overlap
MIN_CLAIM_TOKENS = 2  # a lone word ("HACKED", "Yes") states nothing a passage can be checked against


@dataclass(frozen=True)
class DraftSentence:
    """A sentence of a generated answer with the passage numbers it cites."""

    text: str
    markers: tuple[int, ...] = ()
    dropped: tuple[int, ...] = ()  # markers that pointed to no retrieved passage


@dataclass(frozen=True)
class Support:
    score: float
    supported: bool
    evidence: str  # the passage sentence that best supports the claim, verbatim


def _marker_numbers(group: str) -> list[int]:
    found: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group):
        if re.fullmatch(r"\d+\s*[-–]\s*\d+", part):
            low, high = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            found.extend(range(low, min(high, low + 20) + 1))
        elif part.strip().isdigit():
            found.append(int(part))
    return found


def parse_markers(answer: str, passage_count: int) -> list[DraftSentence]:
    """Sentences of a generated answer with their valid markers; markers outside 1..passage_count are dropped.

    Markers that open a sentence after the first ("... Tel Aviv. [2] Then ...") belong to the sentence before.
    """
    text = TAG.sub(" ", answer).strip()
    drafts: list[DraftSentence] = []
    for sentence in split_sentences(text):
        body = sentence.text
        leading = LEADING_MARKERS.match(body)
        if drafts and leading:
            previous = drafts[-1]
            valid, dropped = _split_valid(_all_numbers(leading.group()), passage_count)
            drafts[-1] = DraftSentence(previous.text, tuple(dict.fromkeys(previous.markers + valid)),
                                       previous.dropped + dropped)
            body = body[leading.end():]
        valid, dropped = _split_valid(_all_numbers(body), passage_count)
        words = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", MARKER.sub("", body))).strip()
        if re.search(r"\w", words):
            drafts.append(DraftSentence(words, valid, dropped))
        elif drafts:  # a sentence made only of markers: they belong to the sentence before
            previous = drafts[-1]
            drafts[-1] = DraftSentence(previous.text, tuple(dict.fromkeys(previous.markers + valid)),
                                       previous.dropped + dropped)
    return drafts


def _all_numbers(text: str) -> list[int]:
    return [n for m in MARKER.finditer(text) for n in _marker_numbers(m.group(1))]


def _split_valid(found: list[int], passage_count: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    valid = tuple(dict.fromkeys(n for n in found if 1 <= n <= passage_count))
    dropped = tuple(dict.fromkeys(n for n in found if not 1 <= n <= passage_count))
    return valid, dropped


def check_support(claim: str, claim_vector: np.ndarray, evidence: Sequence[str], vectors: np.ndarray,
                  passage_text: str) -> Support:
    """Whether a passage supports a claim, and the passage sentence that supports it best."""
    if not evidence or len(set(terms(claim))) < MIN_CLAIM_TOKENS:
        return Support(0.0, False, evidence[0] if evidence else "")
    cosines = np.clip(vectors @ claim_vector, 0.0, 1.0)
    per_sentence = [0.5 * float(c) + 0.5 * token_overlap(claim, s)
                    for c, s in zip(cosines, evidence, strict=True)]
    best = int(np.argmax(per_sentence))
    score = 0.5 * float(cosines.max()) + 0.5 * token_overlap(claim, passage_text)
    # A number or a name the passage lacks is the usual shape of a made-up claim.
    novel_numbers = numbers(claim) - numbers(passage_text)
    supported = score >= SUPPORT_THRESHOLD and not novel_numbers and not unheld_names(named_terms(claim), passage_text)
    return Support(score, supported, evidence[best])


@dataclass(frozen=True)
class CheckedAnswer:
    text: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    dropped_markers: tuple[int, ...]

    @property
    def any_supported(self) -> bool:
        return any(s.supported for s in self.sentences)


def check_answer(generated: str, hits: Sequence[Hit], embedder, raw: RawFiles) -> CheckedAnswer:
    """Check every sentence of a generated answer against the passages it cites and build its citations.

    A sentence without a marker is checked against every passage; when one supports it, that passage is cited,
    so every claim shown can still be traced to its lines.
    """
    drafts = parse_markers(generated, len(hits))
    passages = [[s.text for s in split_sentences(hit.chunk.text)] for hit in hits]
    contexts = [f"{hit.chunk.title}\n{hit.chunk.text}" for hit in hits]  # the title names what the text means
    passage_vectors = [embed_texts(embedder, texts) for texts in passages]
    claim_vectors = embed_texts(embedder, [d.text for d in drafts])
    numbered: dict[tuple[int, str], Citation] = {}
    sentences: list[AnswerSentence] = []
    for draft, vector in zip(drafts, claim_vectors, strict=True):
        cited = draft.markers
        supports = {p: check_support(draft.text, vector, passages[p - 1], passage_vectors[p - 1],
                                     contexts[p - 1]) for p in cited}
        if not cited:
            everywhere = {p: check_support(draft.text, vector, passages[p - 1], passage_vectors[p - 1],
                                           contexts[p - 1]) for p in range(1, len(hits) + 1)}
            best = max(everywhere, key=lambda p: everywhere[p].score, default=None)
            if best is not None and everywhere[best].supported:
                supports = {best: everywhere[best]}
        numbers_here: list[int] = []
        for passage, support in supports.items():
            key = (passage, support.evidence)
            if key not in numbered:
                numbered[key] = cite(len(numbered) + 1, hits[passage - 1], support.evidence, raw,
                                     supported=support.supported)
            elif support.supported and not numbered[key].supported:
                numbered[key] = replace(numbered[key], supported=True)
            numbers_here.append(numbered[key].n)
        supported = any(s.supported for s in supports.values())
        sentences.append(AnswerSentence(text=draft.text, citations=tuple(numbers_here), supported=supported))
    text = " ".join(s.text + "".join(f" [{n}]" for n in s.citations) for s in sentences)
    dropped = tuple(dict.fromkeys(n for d in drafts for n in d.dropped))
    citations = tuple(sorted(numbered.values(), key=lambda c: c.n))
    return CheckedAnswer(text, tuple(sentences), citations, dropped)
