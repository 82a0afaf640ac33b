"""Shareable answers: the page's URL carries the question and its settings (?q=...&k=...&mode=...).

Opening such a link fills the sidebar with `k` and `mode` and asks `q` once; asking a question writes them
back into the address bar, so the link a user copies reproduces what they see. Parsing is pure (a mapping
in, a frozen record out) and forgiving: a bad `k` or `mode` is ignored with a note, never an error page.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

MODES = ("hybrid", "dense", "bm25")
K_RANGE = (1, 20)  # the sidebar slider's range
MAX_QUESTION = 1000  # characters kept from a linked question
APPLIED_KEY = "aq_link_applied"  # the link was read for this session
PENDING_KEY = "aq_link_question"  # the linked question, until it is asked


@dataclass(frozen=True)
class LinkParams:
    """What a link asks for; None where the link says nothing (or something unusable)."""

    q: str = ""
    k: int | None = None
    mode: str | None = None
    notes: tuple[str, ...] = ()  # why a parameter was ignored

    def to_query(self) -> dict[str, str]:
        """The query parameters, in the order a person reads them."""
        params = {"q": self.q} if self.q else {}
        if self.k is not None:
            params["k"] = str(self.k)
        if self.mode:
            params["mode"] = self.mode
        return params

    def query_string(self) -> str:
        return urlencode(self.to_query())


def _first(value: Any) -> str:
    """st.query_params gives the last value of a repeated key; plain dicts of lists give lists."""
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return "" if value is None else str(value)


def parse_params(params: Mapping[str, Any]) -> LinkParams:
    """Read q, k and mode from query parameters; unusable values are dropped and noted."""
    notes: list[str] = []
    question = " ".join(_first(params.get("q", "")).split())[:MAX_QUESTION]
    k: int | None = None
    raw_k = _first(params.get("k", "")).strip()
    if raw_k:
        try:
            k = int(raw_k)
        except ValueError:
            notes.append(f"k={raw_k!r} is not a number; using the sidebar's value")
        else:
            if not K_RANGE[0] <= k <= K_RANGE[1]:
                notes.append(f"k={k} is outside {K_RANGE[0]}–{K_RANGE[1]}; using {min(max(k, 1), 20)}")
                k = min(max(k, K_RANGE[0]), K_RANGE[1])
    mode = _first(params.get("mode", "")).strip().lower() or None
    if mode is not None and mode not in MODES:
        notes.append(f"mode={mode!r} is not one of {', '.join(MODES)}; using the sidebar's ranking")
        mode = None
    return LinkParams(q=question, k=k, mode=mode, notes=tuple(notes))


def link_for(question: str, k: int, mode: str) -> LinkParams:
    return LinkParams(q=" ".join(question.split())[:MAX_QUESTION], k=k, mode=mode)


def read_link_once(session: MutableMapping[Any, Any], params: Mapping[str, Any]) -> LinkParams | None:
    """The link of this session's first run (later runs: None); its question waits in the session to be asked."""
    if session.get(APPLIED_KEY):
        return None
    session[APPLIED_KEY] = True
    link = parse_params(params)
    if link.q:
        session[PENDING_KEY] = link.q
        session["ask_question"] = link.q  # the question box shows it (the widget has no value of its own)
    session["aq_link"] = link
    return link


def linked_value(session: Mapping[Any, Any], name: str, default: Any) -> Any:
    """The sidebar's starting value for `k` or `mode`: the link's when it gave one."""
    link = session.get("aq_link")
    value = getattr(link, name, None) if link is not None else None
    return default if value is None else value


def take_pending_question(session: MutableMapping[Any, Any]) -> str:
    """The linked question not yet asked (then forgotten, so it is asked once), or ""."""
    return str(session.pop(PENDING_KEY, "") or "")


def write_link(query_params: Any, question: str, k: int, mode: str) -> None:
    """Put the asked question and its settings in the address bar (st.query_params), replacing what was there."""
    query_params.from_dict(link_for(question, k, mode).to_query())
