"""`archive-qa eval`: retrieval and answer quality of each answerer on a JSON-lines question set.

Each line is {"question", "source", "answers": [...], "lines": [a, b] (optional)} for a question the archive
answers, or {"question", "unanswerable": true} for one it cannot.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ArchiveError, IndexMissing
from core.text import fold
from qa.answer import FALLBACK_NOTE, answer_question
from qa.citations import MARKER
from qa.names import named_terms, unmatched_names
from qa.sources import RawFiles
from qa.squad_metrics import best_scores

SWEEP = [round(0.15 + 0.025 * i, 3) for i in range(15)]  # candidate abstain thresholds, 0.15 to 0.50


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The question set; a malformed line is reported with its number."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ArchiveError(f"cannot read question set {path}: {error.strerror or error}") from error
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ArchiveError(f"{path}:{number}: not JSON: {error.msg}") from error
        if not isinstance(item, dict) or not str(item.get("question", "")).strip():
            raise ArchiveError(f"{path}:{number}: each line needs a \"question\"")
        if not item.get("unanswerable") and not (item.get("source") and item.get("answers")):
            raise ArchiveError(f"{path}:{number}: give \"source\" and \"answers\", or \"unanswerable\": true")
        items.append(item)
    if not items:
        raise ArchiveError(f"{path}: no questions")
    return items


def normalise(text: str) -> str:
    """Case, diacritics, punctuation and citation markers removed; words separated by single spaces."""
    folded = re.sub(r"'s\b", "", fold(MARKER.sub(" ", text))).replace("'", "")  # possessives, Kata'ib
    return " ".join(re.findall(r"[a-z0-9]+", folded))


def answer_matches(answer_text: str, acceptable: list[str]) -> bool:
    haystack = f" {normalise(answer_text)} "
    return any(f" {normalise(a)} " in haystack for a in acceptable if normalise(a))


def _open_searcher(settings):
    from index.search import Searcher

    try:
        return Searcher.open(settings)
    except IndexMissing:  # a fresh checkout (CI): build the index first
        from index.build import build_index

        build_index(settings, progress=False)
        return Searcher.open(settings)


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def retrieval_ranks(searcher, items: list[dict], mode: str, k: int) -> list[int | None]:
    """Rank of the expected source among the search results of each answerable question (None: not found or
    unanswerable)."""
    ranks: list[int | None] = []
    for item in items:
        if item.get("unanswerable"):
            ranks.append(None)
            continue
        sources = [h.chunk.source for h in searcher.search(item["question"], k=k, mode=mode)]
        ranks.append(sources.index(item["source"]) + 1 if item["source"] in sources else None)
    return ranks


def rank_metrics(ranks: list[int | None], prefix: str = "") -> dict[str, Any]:
    """recall@1, recall@5 and MRR of the expected source, over the answerable questions' ranks."""
    total = len(ranks)
    return {
        f"{prefix}recall@1": _rate(sum(1 for r in ranks if r == 1), total),
        f"{prefix}recall@5": _rate(sum(1 for r in ranks if r is not None and r <= 5), total),
        f"{prefix}mrr": round(sum(1 / r for r in ranks if r is not None) / total, 4) if total else None,
    }


def retrieval_metrics(searcher, items: list[dict], mode: str, k: int) -> dict[str, Any]:
    """recall@1, recall@5 and MRR of the expected source file, over the answerable questions."""
    ranks = [r for r, item in zip(retrieval_ranks(searcher, items, mode, k), items, strict=True)
             if not item.get("unanswerable")]
    return {"questions": len(ranks), **rank_metrics(ranks)}


def judge(answer, item: dict, raw: RawFiles) -> dict[str, Any]:
    """How one answer fares against its labelled item."""
    verdict: dict[str, Any] = {"question": item["question"], "abstained": answer.abstained,
                               "answer": answer.answer, "answerer": answer.answerer, "note": answer.note,
                               "evidence": round(float(answer.evidence), 4)}
    # Both abstention signals, recorded whatever was decided, so the threshold can be calibrated from the report.
    verdict["unmatched_names"] = unmatched_names(named_terms(item["question"]),
                                                 [f"{h.chunk.title}\n{h.chunk.text}" for h in answer.hits])
    verdict["unanswerable"] = bool(item.get("unanswerable"))
    verdict["half"] = item.get("half", "")
    verdict["signals"] = answer.signals
    verdict["date_filter"] = answer.date_filter
    sources = [h.chunk.source for h in answer.hits]
    # Rank of the expected source in the passages as the answer ordered them (after any rerank).
    verdict["answer_rank"] = (sources.index(item["source"]) + 1 if item.get("source") in sources else None)
    valid = [raw.holds(c.source, c.start_line, c.end_line, c.quote) for c in answer.citations]
    verdict["citations"] = len(answer.citations)
    verdict["words"] = len(MARKER.sub(" ", answer.answer).split()) if not answer.abstained else 0
    verdict["sentences"] = len(answer.sentences)
    verdict["supported_sentences"] = sum(s.supported for s in answer.sentences)
    verdict["citations_valid"] = sum(valid)
    if item.get("unanswerable"):
        verdict["abstention_correct"] = answer.abstained
        return verdict
    verdict["abstention_correct"] = not answer.abstained
    verdict["answer_correct"] = not answer.abstained and answer_matches(answer.answer, item["answers"])
    # What a reader sees first: the phrase the answer leads with, else the phrase marked in its first quote.
    highlight = "" if answer.abstained else highlighted_phrase(answer)
    verdict["highlight"] = highlight
    verdict["phrase_em"], verdict["phrase_f1"] = best_scores(highlight, item["answers"]) if highlight else (0.0, 0.0)
    verdict["highlight_holds_answer"] = bool(highlight) and answer_matches(highlight, item["answers"])
    verdict["citation_correct"] = any(ok and c.source == item["source"]
                                      for c, ok in zip(answer.citations, valid, strict=True))
    if item.get("lines"):
        low, high = item["lines"]
        verdict["citation_in_lines"] = any(c.source == item["source"] and c.start_line <= high and
                                           c.end_line >= low for c in answer.citations)
    # The headline figure: the asked-for thing in the answer, and a citation of the right file (and lines).
    verdict["answer_cited"] = verdict["answer_correct"] and verdict.get("citation_in_lines",
                                                                        verdict["citation_correct"])
    # The same, judged by what the cited lines say instead of where the label put them: a page can state a fact
    # twice (a caption and the body), and a citation of either lets a reader check it.
    verdict["answer_stated"] = verdict["answer_correct"] and any(
        ok and c.source == item["source"] and answer_matches(c.quote, item["answers"])
        for c, ok in zip(answer.citations, valid, strict=True))
    return verdict


def highlighted_phrase(answer) -> str:
    """The phrase a reader of the answer sees marked: the one it leads with (the span reader's), else the answering
    phrase marked inside its first quote that has one (answer_span), else ""."""
    if answer.phrase:
        return answer.phrase
    for citation in answer.citations:
        if citation.answer_span:
            start, end = citation.answer_span
            return citation.quote[start:end]
    return ""


def summarise(verdicts: list[dict], latencies: list[float], retrieval: dict) -> dict[str, Any]:
    answerable = [v for v in verdicts if "answer_correct" in v]
    unanswerable = [v for v in verdicts if "answer_correct" not in v]
    with_lines = [v for v in answerable if "citation_in_lines" in v]
    answered = [v for v in verdicts if not v["abstained"]]
    supported_citations = sum(v["citations_valid"] for v in verdicts)
    all_citations = sum(v["citations"] for v in verdicts)
    abstained = [v for v in verdicts if v["abstained"]]
    return {
        **retrieval,
        **rank_metrics([v["answer_rank"] for v in answerable], prefix="answer_"),
        "answer_accuracy": _rate(sum(v["answer_correct"] for v in answerable), len(answerable)),
        "answer_cited_accuracy": _rate(sum(v["answer_cited"] for v in answerable), len(answerable)),
        "answer_stated_accuracy": _rate(sum(v["answer_stated"] for v in answerable), len(answerable)),
        "abstention_precision": _rate(sum(v["unanswerable"] for v in abstained), len(abstained)),
        "abstention_recall": _rate(sum(v["abstained"] for v in unanswerable), len(unanswerable)),
        "citation_accuracy": _rate(sum(v["citation_correct"] for v in answerable), len(answerable)),
        "citation_in_expected_lines": _rate(sum(v["citation_in_lines"] for v in with_lines), len(with_lines)),
        "citation_validity": _rate(supported_citations, all_citations),
        "abstention_accuracy": _rate(sum(v["abstention_correct"] for v in verdicts), len(verdicts)),
        "abstained_when_unanswerable": _rate(sum(v["abstained"] for v in unanswerable), len(unanswerable)),
        "answered_when_answerable": _rate(sum(not v["abstained"] for v in answerable), len(answerable)),
        "fallbacks": sum(1 for v in verdicts if v["note"] == FALLBACK_NOTE),
        "supported_sentence_rate": _rate(sum(v["supported_sentences"] for v in verdicts),
                                         sum(v["sentences"] for v in verdicts)),
        "mean_answer_words": round(float(np.mean([v["words"] for v in answered])), 1) if answered else None,
        # The phrase (SQuAD normalisation) over the answerable questions, a refused one scoring 0; and the share of
        # the answers given to answerable questions whose highlighted phrase holds an accepted answer.
        "phrase_em": _mean([v["phrase_em"] for v in answerable]),
        "phrase_f1": _mean([v["phrase_f1"] for v in answerable]),
        "highlight_holds_answer": _rate(sum(v["highlight_holds_answer"] for v in answerable if not v["abstained"]),
                                        sum(1 for v in answerable if not v["abstained"])),
        "latency_p50": round(float(np.percentile(latencies, 50)), 3) if latencies else None,
        "latency_p95": round(float(np.percentile(latencies, 95)), 3) if latencies else None,
    }


def threshold_sweep(verdicts: list[dict]) -> dict[str, Any]:
    """Abstention accuracy had the threshold been each of SWEEP (the name check applied as it is)."""
    table = {}
    for threshold in SWEEP:
        right = sum((v["evidence"] < threshold or bool(v["unmatched_names"])) == v["unanswerable"] for v in verdicts)
        table[f"{threshold:.3f}"] = round(right / len(verdicts), 4) if verdicts else None
    evidence = {"answerable_min": min((v["evidence"] for v in verdicts if not v["unanswerable"]), default=None),
                "unanswerable_max": max((v["evidence"] for v in verdicts if v["unanswerable"]), default=None)}
    return {"abstention_accuracy_by_threshold": table, **evidence}


def run_evaluation(settings, questions_path: Path, answerers: list[str], mode: str | None = None) -> dict:
    """Evaluate each answerer on the question set; returns the report that `format_report` prints."""
    from qa.answer import ANSWERERS

    items = load_questions(questions_path)
    unknown = [name for name in answerers if name not in ANSWERERS]
    if unknown or not answerers:
        listed = ", ".join(unknown) or "(none)"
        raise ArchiveError(f"unknown answerer(s) {listed}: choose from {', '.join(ANSWERERS)}")
    mode = mode or settings.search_mode
    searcher = _open_searcher(settings)
    ranks = retrieval_ranks(searcher, items, mode, k=max(5, settings.top_k))
    retrieval = _retrieval_of(items, ranks, range(len(items)))
    halves = sorted({str(item["half"]) for item in items if item.get("half")})
    raw = RawFiles(settings.archive_dir)
    report: dict[str, Any] = {
        "questions": len(items),
        "answerable": sum(1 for i in items if not i.get("unanswerable")),
        "unanswerable": sum(1 for i in items if i.get("unanswerable")),
        "mode": mode,
        "k": settings.top_k,
        "abstain_threshold": settings.abstain_threshold,
        "retrieval": retrieval,
        "answerers": {},
        "items": {},
    }
    for name in answerers:
        chat_model = None
        if name == "generative":  # loaded before the clock starts: latency is per question, not per load
            from qa.generative import make_chat_model

            chat_model = make_chat_model(settings)
        verdicts, latencies = [], []
        for item in items:
            started = time.perf_counter()
            answer = answer_question(searcher, item["question"], settings, answerer=name, k=settings.top_k,
                                     mode=mode, chat_model=chat_model)
            latencies.append(time.perf_counter() - started)
            verdicts.append(judge(answer, item, raw))
        report["answerers"][name] = summarise(verdicts, latencies, retrieval)
        report["items"][name] = verdicts
        report.setdefault("calibration", threshold_sweep(verdicts))
        for half in halves:  # each half of a split set (calibration / test) on its own
            chosen = [i for i, item in enumerate(items) if item.get("half") == half]
            entry = report.setdefault("halves", {}).setdefault(half, {"questions": len(chosen), "answerers": {}})
            entry["retrieval"] = _retrieval_of(items, ranks, chosen)
            entry["answerers"][name] = summarise([verdicts[i] for i in chosen], [latencies[i] for i in chosen],
                                                 entry["retrieval"])
    return report


def _retrieval_of(items: list[dict], ranks: list[int | None], chosen) -> dict[str, Any]:
    answerable = [ranks[i] for i in chosen if not items[i].get("unanswerable")]
    return {"questions": len(answerable), **rank_metrics(answerable)}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


COLUMNS = [
    ("recall@1", "R@1"), ("recall@5", "R@5"), ("answer_recall@1", "R@1 ans"), ("answer_accuracy", "answer"),
    ("answer_cited_accuracy", "ans+cite"), ("answer_stated_accuracy", "ans+quote"), ("citation_accuracy", "citation"),
    ("phrase_f1", "phrase F1"), ("highlight_holds_answer", "hl holds"), ("mean_answer_words", "words"),
    ("abstention_precision", "abst P"), ("abstention_recall", "abst R"), ("fallbacks", "fallbacks"),
    ("latency_p50", "p50 s"), ("latency_p95", "p95 s"),
]


def format_report(report: dict) -> str:
    """A plain-text table: one row per answerer."""
    lines = [
        f"{report['questions']} questions ({report['answerable']} answerable, {report['unanswerable']} not), "
        f"mode {report['mode']}, k={report['k']}, abstain threshold {report['abstain_threshold']}",
        "",
        f"{'answerer':<12}" + "".join(f"{title:>11}" for _, title in COLUMNS),
    ]
    for name, figures in report["answerers"].items():
        lines.append(f"{name:<12}" + "".join(f"{_cell(figures.get(key)):>11}" for key, _ in COLUMNS))
    for half, entry in report.get("halves", {}).items():
        for name, figures in entry["answerers"].items():
            label = f"{name[:5]}/{half[:5]}"
            lines.append(f"{label:<12}" + "".join(f"{_cell(figures.get(key)):>11}" for key, _ in COLUMNS))
    calibration = report.get("calibration")
    if calibration:
        sweep = calibration["abstention_accuracy_by_threshold"]
        lines += ["", "abstention accuracy had the threshold been:",
                  "  " + "  ".join(f"{t}: {_cell(a)}" for t, a in list(sweep.items())[:8]),
                  "  " + "  ".join(f"{t}: {_cell(a)}" for t, a in list(sweep.items())[8:])]
    lines += [
        "",
        "R@1, R@5: expected source among the searched passages; R@1 ans: first among the passages as the",
        "answer ordered them (after reranking); answer: an acceptable string in the answer; ans+cite: that, and a",
        "citation of the expected file and lines; citation: a citation into the expected source whose lines",
        "hold its quote; phrase F1: SQuAD F1 of the highlighted phrase (0 when refused); hl holds: share of",
        "answers whose highlighted phrase holds an accepted answer; words: mean words of an answer;",
        "abst P/R: precision and recall of abstaining on unanswerable questions;",
        "fallbacks: generative answers replaced by extractive ones. Rows name/half: one half of a split set.",
    ]
    return "\n".join(lines)
