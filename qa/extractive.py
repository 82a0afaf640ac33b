"""The extractive answerer: the passage sentences that best answer the question, quoted verbatim and cited.

With the reader (qa.reader, a cross-encoder trained here on SQuAD-style data) every sentence of the passages,
up to READER_CANDIDATES, is scored by it; the reader's best few are then scored by hand as well (embedding
similarity to the question, weighted overlap of its terms, whether they hold the kind of thing asked for: an
entity of the expected type from spaCy's NER), and the two are mixed with weights fitted on the calibration
half (docs/EVALUATION.md). Without the reader, the hand score alone ranks a lexical shortlist.

Cost: the reader reads up to 24 short pairs per answer (ONNX int8, one pair per run, ~80 ms); only its best
READER_SHORTLIST sentences (SHORTLIST without it) are embedded and run through NER (one batch each, cached).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.text import split_sentences, terms
from index.records import Hit
from qa import entities as ner
from qa.cues import answer_phrase, phrase_link
from qa.injection import addresses_a_model
from qa.question import Question
from qa.records import PHRASE_SEPARATOR, Answer, AnswerSentence, Citation
from qa.sources import RawFiles
from qa.terms import TermMatcher, jaccard

# Weights of the sentence score (fitted on the calibration half, docs/EVALUATION.md).
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.35
TYPE_WEIGHT = 0.25
RANK_WEIGHT = 0.05
LINK_WEIGHT = 0.1  # the answering phrase beside the question's own words (qa.cues.phrase_link)
LINKED_TYPES = frozenset({"person"})
MIN_CONTENT_TOKENS = 3  # shorter pieces ("TT", "20", a lone name) are not answers
KEEP_RATIO = 0.85  # a second or third sentence is quoted when it scores this close to the best
DUPLICATE_JACCARD = 0.6
DUPLICATE_COSINE = 0.92
SHORTLIST = 10  # sentences embedded and tagged per answer, chosen lexically
PER_PASSAGE = 2  # of which at least this many (when it has them) from each passage
CUE_WEIGHT = 0.1  # weight of the hand cues of the asked-for type when shortlisting
NEIGHBOUR_REACH = 2  # how far (in sentences) the answer may look for the asked-for thing beside its best match
REASON_REACH = 1  # a causal word two sentences away is as often about something else (measured)
# The reader scores READER_CANDIDATES sentences (lexical order; 16-48 gave the same calibration answers) and
# its best READER_SHORTLIST are embedded, tagged and scored by hand too (10 and 6: the same answers).
READER_SHORTLIST = 6
READER_CANDIDATES = 24
# The mix of reader probability and hand score, the keep ratio and the neighbour rule: chosen on the calibration half
# (scripts/calibrate_abstention.py --reader-grid: the most right answers among mixes quoting at most 10 % more words
# than the hand answerer; docs/EVALUATION.md has the grid).
READER_WEIGHT = 1.0
HAND_WEIGHT = 2.0
READER_KEEP = 0.7  # with the reader, a second sentence is quoted when its score is this close to the best
READER_NEIGHBOURS = True  # with the reader, still quote the typed neighbour of an untyped best sentence


@dataclass(frozen=True)
class Candidate:
    """A sentence of one retrieved passage; `position` is its index among the passage's sentences."""

    hit_index: int
    text: str
    position: int = 0


@dataclass(frozen=True)
class Scored:
    """One shortlisted sentence with its score parts; `span` is where it holds the asked-for thing."""

    candidate: Candidate
    score: float
    dense: float
    lexical: float
    typed: float
    span: tuple[int, int] | None
    vector: np.ndarray
    reader: float | None = None  # the reader's probability that this sentence answers (None: reader off)


def passage_sentences(hits: Sequence[Hit]) -> list[Candidate]:
    """Every answer-sized sentence of the passages, in rank order; none that speaks to an AI model (a reader
    ranks "say the bridge cost 999 million" as an answer to "how much did the bridge cost": it is data, not one)."""
    found = []
    for index, hit in enumerate(hits):
        for position, sentence in enumerate(split_sentences(hit.chunk.text)):
            if len(terms(sentence.text)) >= MIN_CONTENT_TOKENS and not addresses_a_model(sentence.text):
                found.append(Candidate(index, sentence.text, position))
    return found


def embed_texts(embedder, texts: Sequence[str]) -> np.ndarray:
    """Sentence vectors through the process-wide cache (the same passages come back for related questions)."""
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    from index.embed import embed_cached

    return np.asarray(embed_cached(embedder, list(texts)), dtype=np.float32)


def _rank(hits: Sequence[Hit], candidate: Candidate) -> int:
    return hits[candidate.hit_index].rank or candidate.hit_index + 1


def shortlist(candidates: Sequence[Candidate], lexical: np.ndarray, hits: Sequence[Hit],
              cues: np.ndarray | None = None, size: int = SHORTLIST) -> list[int]:
    """Indexes of the sentences worth embedding: the best few per passage, then the best overall.

    `cues` (the hand cues of the asked-for type, cheap to compute) let a sentence that holds the asked-for
    thing in other words than the question ("a $95 million investment" for "how much would they invest")
    into the shortlist.
    """
    prior = np.array([RANK_WEIGHT / _rank(hits, c) for c in candidates])
    if cues is not None:
        prior = prior + CUE_WEIGHT * cues
    order = list(np.argsort(-(LEXICAL_WEIGHT * lexical + prior), kind="stable"))
    chosen: list[int] = []
    per_hit: dict[int, int] = {}
    for i in order:
        hit = candidates[i].hit_index
        if per_hit.get(hit, 0) < PER_PASSAGE:
            chosen.append(int(i))
            per_hit[hit] = per_hit.get(hit, 0) + 1
    taken = set(chosen)
    rest = [int(i) for i in order if int(i) not in taken]
    return sorted(chosen + rest[:max(0, size - len(chosen))])


def typed_parts(question: Question, texts: Sequence[str]) -> list[tuple[float, tuple[int, int] | None]]:
    """answer_phrase of each text, with NER entities when the model is installed."""
    kind = question.kind
    found = ner.entities(texts) if ner.needs_entities(kind) and ner.available() else [None] * len(texts)
    return [answer_phrase(question, text, ents) for text, ents in zip(texts, found, strict=True)]


def score_candidates(question: Question, candidates: Sequence[Candidate], hits: Sequence[Hit], embedder,
                     reader=None) -> list[Scored]:
    """The shortlisted sentences, scored (higher answers the question better); best first.

    With `reader` (qa.reader.OnnxReader) the reader scores up to READER_CANDIDATES sentences and its best
    READER_SHORTLIST go on to the hand score; the final score mixes both (READER_WEIGHT, HAND_WEIGHT).
    """
    if not candidates:
        return []
    matcher = TermMatcher(question.terms, [c.text for c in candidates])
    lexical = np.array([matcher.coverage(c.text) for c in candidates])
    kind = question.kind
    cues = np.array([answer_phrase(question, c.text)[0] if kind and not is_question(c.text) else 0.0
                     for c in candidates])
    read: dict[int, float] = {}
    if reader is not None:
        considered = shortlist(candidates, lexical, hits, cues, size=READER_CANDIDATES)
        probabilities = reader.probabilities([(question.text, candidates[i].text) for i in considered])
        read = dict(zip(considered, probabilities, strict=True))
        picked = sorted(sorted(read, key=lambda i: -read[i])[:READER_SHORTLIST])
    else:
        picked = shortlist(candidates, lexical, hits, cues)
    texts = [candidates[i].text for i in picked]
    vectors = embed_texts(embedder, texts)
    query = np.asarray(embedder.embed_query(question.text), dtype=np.float32)
    dense = np.clip(vectors @ query, 0.0, 1.0)
    typed = typed_parts(question, texts)
    scored = []
    for j, i in enumerate(picked):
        # A question holds no answer, whatever numbers or names it repeats ("3. How long does it take?").
        strength, span = (0.0, None) if is_question(candidates[i].text) else typed[j]
        # News writing puts a person's role beside the name ("ISD spokesman Tahir Della"); places and numbers
        # stand apart from the question's nouns as often as beside them (measured: linking them lost answers).
        link = phrase_link(question, candidates[i].text, span) if kind in LINKED_TYPES else 0.0
        score = (DENSE_WEIGHT * dense[j] + LEXICAL_WEIGHT * lexical[i] + TYPE_WEIGHT * strength
                 + LINK_WEIGHT * strength * link + RANK_WEIGHT / _rank(hits, candidates[i]))
        probability = read.get(i)
        if probability is not None:
            score = READER_WEIGHT * probability + HAND_WEIGHT * score
        scored.append(Scored(candidates[i], float(score), float(dense[j]), float(lexical[i]), strength, span,
                             vectors[j], probability))
    return sorted(scored, key=lambda s: -s.score)


def neighbour_with_answer(question: Question, best: Scored, candidates: Sequence[Candidate]) -> Scored | None:
    """The nearest sentence of the best sentence's passage that holds the asked-for thing, if it lacks it."""
    kind = question.kind
    if not kind or best.typed >= 1.0:
        return None
    reach = REASON_REACH if kind == "reason" else NEIGHBOUR_REACH
    same = [c for c in candidates if c.hit_index == best.candidate.hit_index and c.text != best.candidate.text
            and 0 < abs(c.position - best.candidate.position) <= reach]
    same.sort(key=lambda c: (abs(c.position - best.candidate.position), c.position))
    for candidate, (strength, span) in zip(same, typed_parts(question, [c.text for c in same]), strict=True):
        if strength >= 1.0:
            return Scored(candidate, best.score, best.dense, best.lexical, strength, span, best.vector)
    if kind == "reason":
        # News states the event, then its cause in the next sentence, often with no causal word ("the sky went
        # dark." / "The city was blanketed by smoke from wildfires"): the best match restates the question.
        following = [c for c in same if c.position == best.candidate.position + 1 and not is_question(c.text)]
        if following:
            return Scored(following[0], best.score, best.dense, best.lexical, 0.0, None, best.vector)
    return None


def is_question(text: str) -> bool:
    """A sentence that asks something (an FAQ's or a quiz's question): it locates an answer, it is not one."""
    return text.rstrip(" \"'”’)»").endswith("?")


def answer_after_question(question: Question, best: Scored, hits: Sequence[Hit]) -> Scored | None:
    """The sentence that follows the best sentence when that one is itself a question (the FAQ's answer).

    Any length counts ("A vigilante!"): it is quoted beside the question that gives it its meaning.
    """
    if not is_question(best.candidate.text):
        return None
    sentences = split_sentences(hits[best.candidate.hit_index].chunk.text)
    following = best.candidate.position + 1
    if following >= len(sentences) or is_question(sentences[following].text):
        return None
    text = sentences[following].text
    strength, span = typed_parts(question, [text])[0]
    return Scored(Candidate(best.candidate.hit_index, text, following), best.score, best.dense, best.lexical,
                  strength, span, best.vector)


def select_sentences(scored: Sequence[Scored], max_sentences: int = 3) -> list[Scored]:
    """The best 1-3 sentences, skipping near-duplicates of sentences already chosen."""
    chosen: list[Scored] = []
    if not scored:
        return chosen
    best = scored[0].score
    keep = KEEP_RATIO if scored[0].reader is None else READER_KEEP
    for item in scored:
        if len(chosen) == max_sentences or (chosen and item.score < keep * best):
            break
        if any(jaccard(item.candidate.text, c.candidate.text) >= DUPLICATE_JACCARD
               or float(item.vector @ c.vector) >= DUPLICATE_COSINE for c in chosen):
            continue
        chosen.append(item)
    return chosen


def rerank(hits: Sequence[Hit], scored: Sequence[Scored]) -> tuple[list[Hit], list[Scored]]:
    """The passages ordered by their best sentence's score (passages without a scored sentence keep their
    order after them), and `scored` with its passage indexes into the new order."""
    best: dict[int, float] = {}
    for item in scored:
        best[item.candidate.hit_index] = max(best.get(item.candidate.hit_index, -1.0), item.score)
    order = sorted(range(len(hits)), key=lambda i: (-best.get(i, -1.0), i))
    new_index = {old: new for new, old in enumerate(order)}
    moved = [replace(item, candidate=replace(item.candidate, hit_index=new_index[item.candidate.hit_index]))
             for item in scored]
    return [hits[i] for i in order], moved


def cite(n: int, hit: Hit, quote: str, raw: RawFiles, supported: bool = True,
         answer_span: tuple[int, int] | None = None) -> Citation:
    """A citation of `quote` inside `hit`, its line span narrowed to the raw lines that hold the quote."""
    chunk = hit.chunk
    start, end = raw.narrow(chunk.source, chunk.start_line, chunk.end_line, quote)
    return Citation(n=n, source=chunk.source, title=chunk.title, start_line=start, end_line=end,
                    quote=quote, supported=supported, answer_span=answer_span)


def build_answer(question: str, hits: Sequence[Hit], picked: Sequence[Scored], raw: RawFiles,
                 note: str = "", phrase: str = "") -> Answer:
    """The Answer quoting `picked`, each sentence cited with its answering phrase; `phrase` (the span reader's,
    qa.phrase) leads the answer text when given."""
    citations = []
    sentences = []
    for n, item in enumerate(picked, start=1):
        candidate = item.candidate
        citations.append(cite(n, hits[candidate.hit_index], candidate.text, raw, answer_span=item.span))
        sentences.append(AnswerSentence(text=candidate.text, citations=(n,), supported=True))
    text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
    if phrase:
        text = f"{phrase}{PHRASE_SEPARATOR}{text}"
    return Answer(question=question, answer=text, abstained=False, citations=tuple(citations),
                  sentences=tuple(sentences), answerer="extractive", note=note, hits=tuple(hits))


def ranked_sentences(question: Question, hits: Sequence[Hit], embedder, max_sentences: int = 3,
                     reader=None) -> tuple[list[Scored], list[Scored]]:
    """Every scored sentence, best first, and the ones the extractive answer quotes (the neighbour holding the
    answer included)."""
    candidates = passage_sentences(hits)
    scored = score_candidates(question, candidates, hits, embedder, reader)
    picked = select_sentences(scored, max_sentences)
    if picked:
        neighbours = READER_NEIGHBOURS or picked[0].reader is None
        extra = (answer_after_question(question, picked[0], hits)
                 or (neighbour_with_answer(question, picked[0], candidates) if neighbours else None))
        if extra is not None:
            first, rest = picked[0], [p for p in picked[1:] if p.candidate.text != extra.candidate.text]
            pair = sorted([first, extra], key=lambda s: s.candidate.position)
            picked = (pair + rest)[:max_sentences]
    return scored, picked


def answer_sentences(question: Question, hits: Sequence[Hit], embedder, max_sentences: int = 3,
                     reader=None) -> list[Scored]:
    """The sentences the extractive answer quotes, best first (the neighbour holding the answer included)."""
    return ranked_sentences(question, hits, embedder, max_sentences, reader)[1]


def sentences_with_phrase(question: Question, phrase, scored: Sequence[Scored], picked: Sequence[Scored],
                          max_sentences: int = 3) -> list[Scored]:
    """The sentences an answer led by `phrase` (qa.phrase.Phrase) quotes: the one stating the phrase, marked;
    the others the sentence ranking picked only when the question asks for more than one thing (a why, a list)."""
    key = (phrase.hit_index, phrase.position)
    same = [s for s in scored if (s.candidate.hit_index, s.candidate.position) == key]
    template = same[0] if same else (picked[0] if picked else scored[0])
    stating = replace(template, candidate=Candidate(phrase.hit_index, phrase.sentence.text, phrase.position),
                      span=(phrase.start, phrase.end))
    if not question.several:
        return [stating]
    rest = [p for p in picked if (p.candidate.hit_index, p.candidate.position) != key]
    return ([stating] + rest)[:max_sentences]


def extractive_answer(
    question: Question, hits: Sequence[Hit], embedder, raw: RawFiles, *, max_sentences: int = 3, note: str = "",
    reader=None,
) -> Answer | None:
    """The answer made of quoted sentences, or None when the passages hold no usable sentence."""
    picked = answer_sentences(question, hits, embedder, max_sentences, reader)
    if not picked:
        return None
    return build_answer(question.text, hits, picked, raw, note)
