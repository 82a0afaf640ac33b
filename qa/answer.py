"""Answering a question: search, decide whether the archive holds evidence, then answer with citations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.errors import ArchiveError, InvalidQuery
from index.records import Hit, SearchFilters
from qa.abstain import Signals, name_coverage, not_stated, probability, should_abstain
from qa.citations import check_answer
from qa.cues import phrase_link
from qa.dates import DateRange
from qa.extractive import Scored, build_answer, ranked_sentences, rerank, sentences_with_phrase
from qa.names import unheld_names
from qa.phrase import Phrase, phrase_floor, read_phrase
from qa.question import Question, analyse_question
from qa.records import Answer
from qa.sources import RawFiles

ANSWERERS = ("extractive", "generative")
# Bounds on one question (docs/RELIABILITY.md): the model reads 256 tokens of it anyway, and every passage read
# costs sentence embeddings, so a pasted article or k=10000 is refused in one line instead of taking minutes.
MAX_QUESTION_CHARS = 2000
MAX_PASSAGES = 100
ABSTAIN_MESSAGE = "The archive does not answer this question."
FALLBACK_NOTE = (
    "The generative answer had no sentence supported by the passages; showing the extractive answer."
)


def evidence_strength(question: str, hits: Sequence[Hit], embedder) -> float:
    """Best cosine between the question and a retrieved passage.

    Hit.dense_score is optional in the search contract; a searcher that leaves it out gets it computed here.
    """
    known = [float(h.dense_score) for h in hits if h.dense_score is not None]
    missing = [h.chunk.embedding_text() for h in hits if h.dense_score is None]
    if missing:
        query = np.asarray(embedder.embed_query(question), dtype=np.float32)
        vectors = np.asarray(embedder.embed_documents(missing), dtype=np.float32)
        known.extend(float(x) for x in vectors @ query)
    return max(known, default=0.0)


def abstention(question: str, answerer: str, hits: Sequence[Hit] = (), evidence: float = 0.0,
               note: str = "") -> Answer:
    return Answer(question=question, answer=ABSTAIN_MESSAGE, abstained=True, answerer=answerer,
                  hits=tuple(hits), evidence=evidence, note=note)


def why_no_evidence(question: Question, hits: Sequence[Hit], evidence: float, threshold: float) -> str | None:
    """Why the passages cannot hold evidence whatever the other signals say, or None when they may.

    Only two things settle it alone: no passage at all, or a best passage under the floor `threshold`
    (settings.abstain_threshold) while the question names nothing that a passage holds in full. Everything
    else is weighed together by the calibrated rule (qa.abstain).
    """
    if not hits:
        return "No passage matched the question and filters."
    passages = [f"{h.chunk.title}\n{h.chunk.text}" for h in hits]
    if evidence < threshold and not _names_held_in_full(question, passages):
        return f"The closest passage is too far from the question (similarity {evidence:.2f} < {threshold})."
    return None


def _names_held_in_full(question: Question, passages: Sequence[str]) -> bool:
    """The question names someone or something, and one passage holds every word of every name.

    A short question about a name ("Who is Hajj Kamil?") embeds far from any long passage, so its cosine
    says little; a passage that holds the whole name is evidence enough to weigh an answer.
    """
    return bool(question.names) and any(not unheld_names(question.names, passage) for passage in passages)


def _check_request(question: str, answerer: str, k: int) -> None:
    if not question:
        raise ArchiveError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuery(f"the question is {len(question):,} characters long; ask in at most "
                           f"{MAX_QUESTION_CHARS:,} (search takes longer text)")
    if not 1 <= k <= MAX_PASSAGES:
        raise InvalidQuery(f"k={k}: an answer reads between 1 and {MAX_PASSAGES} passages")
    if answerer not in ANSWERERS:
        raise ArchiveError(f"unknown answerer {answerer!r}: choose {' or '.join(ANSWERERS)}")


def answer_question(searcher, question: str, settings, *, answerer: str = "extractive", k: int = 5,
                    mode: str = "hybrid", filters=None, chat_model=None) -> Answer:
    """Answer `question` from the archive behind `searcher`, every claim cited to its file and lines.

    Date phrases of the question ("since March 2024") restrict the search (Answer.date_filter). Abstains
    (abstained=True, no citations, one reason in `note`) when no passage matched, when the best passage is
    under the floor settings.abstain_threshold, or when the calibrated rule of qa.abstain, weighing passage,
    sentence, names and answer type together, finds an answer unlikely. The generative answerer's sentences
    are checked against the passages they cite; when none is supported, the extractive answer is returned
    with a note saying so.
    """
    question = question.strip()
    _check_request(question, answerer, k)
    asked = analyse_question(question)  # the one analysis every stage below reads
    hits, date_range = _search(searcher, asked, k, mode, filters)
    date_filter = date_range.to_json() if date_range else None
    embedder = getattr(searcher, "answer_embedder", None) or searcher.embedder
    evidence = evidence_strength(question, hits, embedder) if hits else 0.0
    reason = why_no_evidence(asked, hits, evidence, settings.abstain_threshold)
    if reason:
        return replace(abstention(question, answerer, hits, evidence, note=reason), date_filter=date_filter)
    scored, picked, phrase = _read(asked, hits, embedder, settings)
    signals, missing = evidence_signals(asked, hits, evidence, picked, phrase)
    decided = {**signals.to_json(), "p_answerable": round(probability(signals, settings), 4)}
    # The rule was fitted on the real model's cosines; the hashing stand-in (tests) has only the floor above.
    calibrated = settings.embedding_backend != "hashing" and not str(getattr(embedder, "name", "")).startswith(
        "hashing")
    if calibrated and should_abstain(signals, settings):
        closest = picked[0] if picked else None
        note = not_stated(question, closest.candidate.text if closest else None,
                          hits[closest.candidate.hit_index].chunk.source if closest else None, missing)
        return replace(abstention(question, answerer, hits, evidence, note=note), signals=decided,
                       date_filter=date_filter)
    phrase = phrase if phrase is not None and phrase.confidence >= phrase_floor() else None  # else: the ranking's
    if phrase is not None:
        picked = sentences_with_phrase(asked, phrase, scored, picked)
    if settings.rerank_passages:
        hits, picked = rerank(hits, picked)
    raw = RawFiles(settings.archive_dir)
    note = ""
    if answerer == "generative":
        generated = _generative(question, hits, settings, embedder, raw, chat_model)
        if generated is not None:
            return replace(generated, evidence=evidence, signals=decided, date_filter=date_filter)
        note = FALLBACK_NOTE
    if not picked:
        return replace(abstention(question, answerer, hits, evidence), signals=decided, date_filter=date_filter)
    lead = phrase.text if phrase else ""
    return replace(build_answer(question, hits, picked, raw, note, phrase=lead), evidence=evidence, signals=decided,
                   date_filter=date_filter, phrase=lead, phrase_score=phrase.confidence if phrase else None)


def _read(question: Question, hits: Sequence[Hit], embedder, settings) -> tuple[list[Scored], list[Scored],
                                                                                 Phrase | None]:
    """Every scored sentence (best first), the sentences the answer quotes, and the span reader's phrase read from
    the best sentences' windows (None when it is off or finds none)."""
    scored, picked = ranked_sentences(question, hits, embedder, reader=answer_reader(settings))
    span_reader = answer_span_reader(settings)
    if span_reader is None or not scored:
        return scored, picked, None
    ranked = [(s.candidate.hit_index, s.candidate.position) for s in scored]
    return scored, picked, read_phrase(question, ranked, hits, span_reader)


def _generative(question: str, hits: Sequence[Hit], settings, embedder, raw: RawFiles, chat_model) -> Answer | None:
    """The generative answer with its unsupported sentences marked, or None when no sentence is supported."""
    from qa.generative import generate, make_chat_model, withhold_instructions

    # Callers answering many questions (the app, eval) load the model once and pass it in.
    model = chat_model if chat_model is not None else make_chat_model(settings)
    # Article text is data: sentences that address the model are neither shown to it nor taken as support.
    passages, withheld = withhold_instructions(hits)
    checked = check_answer(generate(model, question, passages), passages, embedder, raw)
    if not checked.any_supported:
        return None
    notes = []
    unsupported = sum(1 for s in checked.sentences if not s.supported)
    if unsupported:
        notes.append(f"{unsupported} sentence(s) the passages do not support are marked unsupported.")
    if withheld:
        notes.append(f"{withheld} passage sentence(s) addressed to an AI model were withheld from it.")
    if checked.dropped_markers:
        listed = ", ".join(f"[{n}]" for n in checked.dropped_markers)
        notes.append(f"Dropped citation markers that pointed to no retrieved passage: {listed}.")
    return Answer(question=question, answer=checked.text, abstained=False, citations=checked.citations,
                  sentences=checked.sentences, answerer="generative", note=" ".join(notes), hits=tuple(hits))


def answer_reader(settings):
    """The reader the settings ask for (loaded once per process), or None when it is turned off."""
    if not settings.reader:
        return None
    from qa.reader import load_reader

    return load_reader(settings.reader_dir)


def answer_span_reader(settings):
    """The span reader the settings ask for (loaded once per process), or None when it is turned off."""
    if not settings.span_reader:
        return None
    from qa.span_reader import load_span_reader

    return load_span_reader(settings.span_reader_dir)


def _search(searcher, question: Question, k: int, mode: str, filters) -> tuple[list[Hit], DateRange | None]:
    """The passages, restricted to the dates the question names when the caller gave no date range itself.

    When the dated search finds nothing (the archive has no dates there, or the date was of an event, not a
    publication) the question is answered from the whole archive and no date filter is reported.
    """
    date_range = question.dates
    if date_range and not (filters and (filters.since or filters.until)):
        dated = SearchFilters(source_glob=filters.source_glob if filters else None,
                              since=date_range.since, until=date_range.until)
        hits = list(searcher.search(question.text, k=k, mode=mode, filters=dated))
        if hits:
            return hits, date_range
    return list(searcher.search(question.text, k=k, mode=mode, filters=filters)), None


def evidence_signals(question: Question, hits: Sequence[Hit], evidence: float, picked: Sequence[Scored],
                     phrase: Phrase | None = None):
    """The abstention rule's signals, and the question's names no passage holds."""
    names, missing = name_coverage(question, [f"{h.chunk.title}\n{h.chunk.text}" for h in hits])
    kind = question.kind
    typed = max((p.typed for p in picked), default=0.0) if kind else 1.0
    typed_and_linked = (max((p.typed * phrase_link(question, p.candidate.text, p.span) for p in picked), default=0.0)
                        if kind and kind != "reason" else 1.0)
    best = picked[0].score if picked else 0.0
    read = max((p.reader for p in picked if p.reader is not None), default=0.0)
    return Signals(passage=float(evidence), sentence=float(best), names=names, typed=float(typed),
                   linked=float(typed_and_linked), reader=float(read),
                   span=float(phrase.confidence) if phrase else 0.0), missing
