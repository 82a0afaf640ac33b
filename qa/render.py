"""Answers as terminal text and as Markdown: the phrase the answer leads with (when the span reader found one),
the quoted sentences with [n] markers, then the numbered citations."""

from __future__ import annotations

import re
import textwrap

from qa.records import PHRASE_SEPARATOR, Answer

WIDTH = 100


def _leads_with_phrase(answer: Answer) -> bool:
    return bool(answer.phrase) and not answer.abstained


def _confidence(answer: Answer) -> str:
    return "" if answer.phrase_score is None else f"confidence {answer.phrase_score:.2f}"


def _answer_body(answer: Answer, unsupported_mark: str) -> str:
    """The quoted sentences with their [n] markers (the phrase, shown on its own, left out)."""
    if answer.abstained or not answer.sentences:
        lead = answer.phrase + PHRASE_SEPARATOR
        if _leads_with_phrase(answer) and answer.answer.startswith(lead):
            return answer.answer[len(lead):]
        return answer.answer
    parts = []
    for sentence in answer.sentences:
        markers = "".join(f" [{n}]" for n in sentence.citations)
        parts.append(sentence.text + markers + ("" if sentence.supported else f" {unsupported_mark}"))
    return " ".join(parts)


def _fill(text: str, **options) -> str:
    # Keep each [n] marker on the line of the word before it.
    glued = re.sub(r" (\[\d+\])", "\u00a0\\1", text)
    return textwrap.fill(glued, WIDTH, **options).replace("\u00a0", " ")


def answer_to_text(answer: Answer) -> str:
    """Terminal text: the phrase and its confidence on their own line (when there is a phrase), the quoted
    sentences with [n] markers, any note, then `source:start-end  title` and quote."""
    lines = []
    if _leads_with_phrase(answer):
        confidence = _confidence(answer)
        lines += [textwrap.fill(answer.phrase + (f"  ({confidence})" if confidence else ""), WIDTH), ""]
    lines.append(_fill(_answer_body(answer, "(unsupported)")))
    if answer.note:
        lines += ["", textwrap.fill(f"Note: {answer.note}", WIDTH)]
    if answer.citations:
        lines += ["", "Citations:"]
        for citation in answer.citations:
            flag = "" if citation.supported else "  (does not support the sentence citing it)"
            lines.append(f"[{citation.n}] {citation.source}:{citation.start_line}-{citation.end_line}  "
                         f"{citation.title}{flag}")
            lines.append(textwrap.fill(f'"{citation.quote}"', WIDTH, initial_indent="    ",
                                       subsequent_indent="    "))
    return "\n".join(lines)


def _escape(text: str) -> str:
    # Brackets and parentheses too: a link in article text must not become a live link in the export.
    return re.sub(r"([\\`*_<>#|\[\]()!])", r"\\\1", text)


def answer_to_markdown(answer: Answer) -> str:
    """A self-contained Markdown export of the question, the answer (its phrase first, in bold) and its
    citations."""
    out = [f"**Question:** {_escape(answer.question)}", ""]
    label = f"Answer ({answer.answerer})"
    mark = "*(unsupported)*"
    body = _escape(_answer_body(answer, mark)).replace(_escape(mark), mark)
    if _leads_with_phrase(answer):
        confidence = _confidence(answer)
        out += [f"**{label}:** **{_escape(answer.phrase)}**" + (f" *({confidence})*" if confidence else ""), "",
                body, ""]
    else:
        out += [f"**{label}:** {body}", ""]
    if answer.note:
        out += [f"> {_escape(answer.note)}", ""]
    if answer.citations:
        out += ["**Citations**", ""]
        for citation in answer.citations:
            flag = "" if citation.supported else " *(does not support the sentence citing it)*"
            out.append(f"{citation.n}. `{citation.source}`, lines {citation.start_line}-{citation.end_line}"
                       f" — *{_escape(citation.title)}*{flag}")
            out.append(f"   > {_escape(citation.quote)}")
        out.append("")
    return "\n".join(out)
