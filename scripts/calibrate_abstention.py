"""Fit the abstention rule (qa/abstain.py) and the sentence-score weights on the CALIBRATION half only.

    .venv/bin/python scripts/calibrate_abstention.py --archive /tmp/dev --index /tmp/dev-index \
        [--questions tests/eval/web_questions.jsonl] [--weights] [--json]

Answers every calibration question with abstention turned off, records the rule's signals (passage cosine,
best-sentence score, name coverage, answer-type match) and whether the question is answerable, and fits a
logistic regression with numpy (Newton's method, a small L2 penalty): the coefficients to write into
core/settings.py. With --weights, first grid-searches the sentence-score weights of qa/extractive.py on the
answerable calibration questions (answer with the right file and lines), since the sentence score is one of
the signals. Questions of the "test" half are never read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from qa import extractive  # noqa: E402
from qa.abstain import SIGNALS  # noqa: E402
from qa.answer import answer_question  # noqa: E402
from qa.evaluate import judge, load_questions  # noqa: E402
from qa.sources import RawFiles  # noqa: E402

HALF = "calibration"
L2 = 0.01


class CachedSearcher:
    """The searcher with its results kept per query, so repeated passes over the questions search once."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.embedder = searcher.embedder
        self.cache: dict = {}

    def search(self, query, k=5, mode="hybrid", filters=None):
        key = (query, k, mode, filters)
        if key not in self.cache:
            self.cache[key] = self.searcher.search(query, k=k, mode=mode, filters=filters)
        return self.cache[key]


def answer_all(searcher, settings, items, raw) -> list[dict]:
    open_settings = settings.model_copy(update={"abstain_probability": 0.0})  # the rule never abstains
    verdicts = []
    for item in items:
        answer = answer_question(searcher, item["question"], open_settings, k=settings.top_k,
                                 mode=settings.search_mode)
        verdicts.append(judge(answer, item, raw))
    return verdicts


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> np.ndarray:
    """Weights [intercept, w...] maximising the L2-penalised log-likelihood (Newton's method)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    penalty = np.eye(len(w)) * l2
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (y - p) - penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return w


def abstention_figures(p: np.ndarray, y: np.ndarray, cut: float) -> dict:
    abstain = p < cut
    unanswerable = y == 0
    precision = (abstain & unanswerable).sum() / max(1, abstain.sum())
    recall = (abstain & unanswerable).sum() / max(1, unanswerable.sum())
    return {"cut": cut, "precision": round(float(precision), 4), "recall": round(float(recall), 4),
            "false_abstentions": int((abstain & ~unanswerable).sum())}


def tune_weights(searcher, settings, items, raw) -> dict:
    """The sentence weights with the most answerable calibration questions answered with the right citation."""
    answerable = [i for i in items if not i.get("unanswerable")]
    best = None
    for dense, lexical, typed in itertools.product((0.35, 0.5), (0.25, 0.35), (0.15, 0.25, 0.4)):
        extractive.DENSE_WEIGHT, extractive.LEXICAL_WEIGHT, extractive.TYPE_WEIGHT = dense, lexical, typed
        right = sum(v["answer_cited"] for v in answer_all(searcher, settings, answerable, raw))
        print(f"dense {dense} lexical {lexical} type {typed}: {right}/{len(answerable)}", file=sys.stderr)
        if best is None or right > best[0]:
            best = (right, dense, lexical, typed)
    assert best is not None
    extractive.DENSE_WEIGHT, extractive.LEXICAL_WEIGHT, extractive.TYPE_WEIGHT = best[1:]
    return {"answer_cited": best[0], "of": len(answerable), "dense": best[1], "lexical": best[2], "type": best[3]}


WORDS_SLACK = 1.1  # a reader configuration may quote at most 10 % more words than the hand answerer


def tune_reader(searcher, settings, items, raw) -> dict:
    """The mix of reader and hand score, the keep ratio and the neighbour rule with the most answerable
    calibration questions answered with the right lines, among the configurations whose answers are on average
    no longer than the hand answerer's (WORDS_SLACK): quoting more sentences finds more answers, and that is not
    what a user asks for. Ties: the first listed."""
    answerable = [i for i in items if not i.get("unanswerable")]
    hand_only = answer_all(searcher, settings.model_copy(update={"reader": False}), answerable, raw)
    baseline = {"answer_cited": sum(v["answer_cited"] for v in hand_only),
                "mean_words": round(float(np.mean([v["words"] for v in hand_only])), 1)}
    print(f"hand answerer: {baseline}", file=sys.stderr)
    grid = list(itertools.product((0.0, 0.5, 1.0, 2.0), (0.5, 0.7, 0.9), (False, True)))
    table = []
    for hand, keep, neighbours in grid:
        extractive.READER_WEIGHT, extractive.HAND_WEIGHT = 1.0, hand
        extractive.READER_KEEP, extractive.READER_NEIGHBOURS = keep, neighbours
        verdicts = answer_all(searcher, settings, answerable, raw)
        right = sum(v["answer_cited"] for v in verdicts)
        words = float(np.mean([v["words"] for v in verdicts]))
        print(f"hand {hand} keep {keep} neighbours {neighbours}: {right}/{len(answerable)} ({words:.0f} words)",
              file=sys.stderr)
        table.append({"hand": hand, "keep": keep, "neighbours": neighbours, "answer_cited": right,
                      "mean_words": round(words, 1)})
    allowed = [row for row in table if row["mean_words"] <= WORDS_SLACK * baseline["mean_words"]] or table
    best = max(allowed, key=lambda row: row["answer_cited"])
    extractive.HAND_WEIGHT, extractive.READER_KEEP = best["hand"], best["keep"]
    extractive.READER_NEIGHBOURS = best["neighbours"]
    return {"best": best, "of": len(answerable), "hand_answerer": baseline, "grid": table}


# (windows read, switch margins); the lead floor is searched after them with the best pair.
PHRASE_GRID = ((1, 2, 3, 5), (0.0, 1.0, 2.0, 4.0))


def tune_phrase(searcher, settings, items, raw) -> dict:
    """How many of the best sentences' windows the span reader reads (qa.phrase.WINDOWS_READ) and by how much a
    later window's margin must beat the best sentence's to give the phrase (SWITCH_MARGIN): the most answerable
    calibration questions whose highlighted phrase holds an accepted answer, then the most answered with the right
    lines. Ties: the fewest windows (each is one run of the span reader), then the smallest switch margin."""
    from qa import phrase

    answerable = [i for i in items if not i.get("unanswerable")]
    windows_grid, switch_grid = PHRASE_GRID
    table = []
    for windows, switch in itertools.product(windows_grid, switch_grid):
        if windows == 1 and switch:
            continue  # one window: nothing to switch to
        phrase.WINDOWS_READ, phrase.SWITCH_MARGIN = windows, switch
        verdicts = answer_all(searcher, settings, answerable, raw)
        row = {"windows": windows, "switch_margin": switch,
               "highlight_holds_answer": sum(v["highlight_holds_answer"] for v in verdicts),
               "phrase_f1": round(float(np.mean([v["phrase_f1"] for v in verdicts])), 4),
               "answer_cited": sum(v["answer_cited"] for v in verdicts)}
        print(json.dumps(row), file=sys.stderr)
        table.append(row)
    best = max(table, key=lambda r: (r["highlight_holds_answer"], r["answer_cited"], -r["windows"],
                                     -r["switch_margin"]))
    phrase.WINDOWS_READ, phrase.SWITCH_MARGIN = best["windows"], best["switch_margin"]
    # Then the confidence under which the answer is not led by the phrase: the most questions answered with the
    # right lines plus highlights holding the answer (a refused lead loses its highlight, a wrong one the answer).
    floors = []
    for floor in (0.0, 0.1, 0.25, 0.5):
        phrase.LEAD_FLOOR = floor
        verdicts = answer_all(searcher, settings, answerable, raw)
        row = {"lead_floor": floor, "highlight_holds_answer": sum(v["highlight_holds_answer"] for v in verdicts),
               "answer_cited": sum(v["answer_cited"] for v in verdicts),
               "mean_words": round(float(np.mean([v["words"] for v in verdicts])), 1)}
        print(json.dumps(row), file=sys.stderr)
        floors.append(row)
    chosen = max(floors, key=lambda r: (r["highlight_holds_answer"] + r["answer_cited"], -r["lead_floor"]))
    phrase.LEAD_FLOOR = chosen["lead_floor"]
    return {"best": best, "of": len(answerable), "grid": table, "lead_floor": chosen, "floors": floors}


def decided(verdict: dict, w: np.ndarray, cut: float, signals=SIGNALS) -> bool:
    """Whether the fitted rule abstains on a verdict recorded with the rule turned off."""
    if verdict["signals"] is None:  # abstained before the rule (no passage, or under the floor)
        return verdict["abstained"]
    x = np.array([verdict["signals"][name] for name in signals])
    return bool(1 / (1 + np.exp(-(w[0] + x @ w[1:]))) < cut)


def figures_with_rule(verdicts: list[dict], w: np.ndarray, cut: float, signals=SIGNALS) -> dict:
    """The eval figures the fitted rule gives, from verdicts recorded with the rule turned off (exactly what
    `archive-qa eval` reports with these coefficients: the answers themselves do not depend on them)."""
    abstain = [decided(v, w, cut, signals) for v in verdicts]
    answerable = [(v, a) for v, a in zip(verdicts, abstain, strict=True) if not v["unanswerable"]]
    unanswerable = [a for v, a in zip(verdicts, abstain, strict=True) if v["unanswerable"]]
    abstained_labels = [v["unanswerable"] for v, a in zip(verdicts, abstain, strict=True) if a]

    def rate(n: float, d: int) -> float | None:
        return round(n / d, 4) if d else None

    return {
        "questions": len(verdicts),
        "answer_accuracy": rate(sum(v["answer_correct"] and not a for v, a in answerable), len(answerable)),
        "answer_cited_accuracy": rate(sum(v["answer_cited"] and not a for v, a in answerable), len(answerable)),
        "abstention_precision": rate(sum(abstained_labels), len(abstained_labels)),
        "abstention_recall": rate(sum(unanswerable), len(unanswerable)),
        "false_abstentions": sum(a for _, a in answerable),
    }


def from_report(path: Path, apply_to: list[Path], cut: float, signals=SIGNALS,
                also_fit_on: list[Path] | None = None) -> dict:
    """Fit on the calibration-half verdicts of an eval report run with ARCHIVE_QA_ABSTAIN_PROBABILITY=0 (and on
    every verdict of `also_fit_on`, other sets that are not a test half), then give the figures of the fitted rule on
    each half of it and on the other reports."""
    verdicts = json.loads(path.read_text())["items"]["extractive"]
    pooled = [v for other in also_fit_on or [] for v in json.loads(other.read_text())["items"]["extractive"]]
    fit = [v for v in verdicts if v.get("half") == HALF and v["signals"] is not None]
    fit += [v for v in pooled if v.get("half") != "test" and v["signals"] is not None]
    x = np.array([[v["signals"][name] for name in signals] for v in fit])
    y = np.array([0.0 if v["unanswerable"] else 1.0 for v in fit])
    w = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(w[0] + x @ w[1:])))
    loo = {c: 0 for c in (0.3, 0.4, 0.5, 0.6, 0.7)}  # leave-one-out right decisions, to choose signals and cut
    for i in range(len(fit)):
        keep = np.arange(len(fit)) != i
        w_i = fit_logistic(x[keep], y[keep])
        p_i = 1 / (1 + np.exp(-(w_i[0] + x[i] @ w_i[1:])))
        for c in loo:
            loo[c] += int((p_i < c) == (y[i] == 0) and (y[i] == 0 or fit[i]["answer_cited"]))
    fitted_on = f"{path} ({HALF} half)" + "".join(f" + {other}" for other in also_fit_on or [])
    report: dict = {"fitted_on": f"{fitted_on}: {len(fit)} questions",
                    "coefficients": {"intercept": round(float(w[0]), 3),
                                     **{n: round(float(c), 3) for n, c in zip(signals, w[1:], strict=True)}},
                    "leave_one_out_right_decisions": {str(c): n for c, n in loo.items()},
                    "cuts_on_calibration": [abstention_figures(p, y, c) for c in (0.3, 0.4, 0.5, 0.6, 0.7)],
                    "cut": cut, "figures": {}}
    halves = sorted({v.get("half") or "all" for v in verdicts})
    for half in halves:
        chosen = [v for v in verdicts if (v.get("half") or "all") == half]
        report["figures"][f"{path.name}:{half}"] = figures_with_rule(chosen, w, cut, signals)
    for other in apply_to:
        chosen = json.loads(other.read_text())["items"]["extractive"]
        report["figures"][f"{other.name}:all"] = figures_with_rule(chosen, w, cut, signals)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive")
    parser.add_argument("--index")
    parser.add_argument("--from-report", type=Path, help="fit on the calibration half of this eval --json report "
                        "(run with ARCHIVE_QA_ABSTAIN_PROBABILITY=0) instead of answering the questions again")
    parser.add_argument("--apply-to", type=Path, action="append", default=[],
                        help="another report (same kind) to give the fitted rule's figures on")
    parser.add_argument("--also-fit-on", type=Path, action="append", default=[],
                        help="another report (rule off) whose questions join the calibration half in the fit")
    parser.add_argument("--cut", type=float, default=0.5, help="abstain under this probability")
    parser.add_argument("--signals", type=lambda text: tuple(text.split(",")), default=SIGNALS,
                        help=f"the signals the rule weighs (default: all of {','.join(SIGNALS)}; the others get 0)")
    parser.add_argument("--questions", default=str(ROOT / "tests" / "eval" / "web_questions.jsonl"))
    parser.add_argument("--weights", action="store_true", help="grid-search the sentence weights first")
    parser.add_argument("--reader-grid", action="store_true", help="grid-search the reader / hand mix first")
    parser.add_argument("--phrase-grid", action="store_true",
                        help="grid-search how the span reader's windows are read and chosen (qa.phrase) first")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.from_report:
        print(json.dumps(from_report(args.from_report, args.apply_to, args.cut, args.signals, args.also_fit_on),
                         indent=2))
        return 0
    if not (args.archive and args.index):
        parser.error("--archive and --index are needed unless --from-report is given")
    from index.search import Searcher

    settings = load_settings(archive_dir=Path(args.archive), index_dir=Path(args.index))
    items = [i for i in load_questions(Path(args.questions)) if i.get("half") == HALF]
    searcher = CachedSearcher(Searcher.open(settings))
    raw = RawFiles(settings.archive_dir)
    report: dict = {"half": HALF, "questions": len(items)}
    if args.weights:
        report["sentence_weights"] = tune_weights(searcher, settings, items, raw)
    if args.reader_grid:
        report["reader_mix"] = tune_reader(searcher, settings, items, raw)
    if args.phrase_grid:
        report["phrase"] = tune_phrase(searcher, settings, items, raw)
    verdicts = [v for v in answer_all(searcher, settings, items, raw) if v["signals"] is not None]
    x = np.array([[v["signals"][name] for name in SIGNALS] for v in verdicts])
    y = np.array([0.0 if v["unanswerable"] else 1.0 for v in verdicts])
    w = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(w[0] + x @ w[1:])))
    report["coefficients"] = {"intercept": round(float(w[0]), 3),
                              **{name: round(float(c), 3) for name, c in zip(SIGNALS, w[1:], strict=True)}}
    report["cuts"] = [abstention_figures(p, y, cut) for cut in (0.3, 0.4, 0.5, 0.6, 0.7)]
    report["answer_cited_if_answered"] = round(float(np.mean([v["answer_cited"] for v in verdicts
                                                              if not v["unanswerable"]])), 4)
    report["signals"] = [{"q": v["question"], "y": int(y[i]), "p": round(float(p[i]), 3), **v["signals"],
                          "ok": v.get("answer_cited")} for i, v in enumerate(verdicts)]
    print(json.dumps(report, indent=2) if args.json else json.dumps({k: v for k, v in report.items()
                                                                     if k != "signals"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
