"""Noticing a build made elsewhere (archive-qa watch, cron, another tab) while the page is open.

A fragment polls the index's stamp every few seconds (a stat of the serving build, no loading); when it
changes, the whole page reruns, the shared searcher for the new build is opened, and the page says
"Index updated N seconds ago: X articles added". X is the change in the article count between the build
this session saw and the new one (a count, so listing every article is never needed).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from ui import resources

SEEN_KEY = "aq_index_seen"
NOTICE_KEY = "aq_index_notice"
POLL_SECONDS = 5.0
SHOW_FOR_SECONDS = 600.0  # the notice goes away ten minutes after the build


@dataclass(frozen=True)
class SeenIndex:
    stamp: str
    articles: int


@dataclass(frozen=True)
class IndexUpdate:
    built_at: datetime | None
    added: int
    removed: int
    articles: int

    def text(self, now: datetime) -> str:
        when = "just now" if self.built_at is None else f"{max(int((now - self.built_at).total_seconds()), 0)} " \
            "seconds ago"
        changes = [f"{self.added} article{'s' if self.added != 1 else ''} added"]
        if self.removed:
            changes.append(f"{self.removed} removed")
        return f"Index updated {when}: {', '.join(changes)} ({self.articles} in all)."


def parse_built_at(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def observe(session: MutableMapping[Any, Any], stamp: str, articles: int, built_at: Any) -> IndexUpdate | None:
    """Remember the build this session shows; return what changed when it is not the one seen before."""
    seen: SeenIndex | None = session.get(SEEN_KEY)
    session[SEEN_KEY] = SeenIndex(stamp, articles)
    if seen is None or seen.stamp == stamp:
        return None
    update = IndexUpdate(parse_built_at(built_at), max(articles - seen.articles, 0),
                         max(seen.articles - articles, 0), articles)
    session[NOTICE_KEY] = update
    return update


@st.fragment(run_every=POLL_SECONDS)
def _poll(index_dir: str, stamp: str) -> None:
    """Rerun the page when the serving build changed; keep the notice's "N seconds ago" current."""
    if resources.index_stamp(Path(index_dir)) != stamp:
        st.rerun(scope="app")
    update: IndexUpdate | None = st.session_state.get(NOTICE_KEY)
    if update is None:
        return
    now = datetime.now(UTC)
    if update.built_at is not None and (now - update.built_at).total_seconds() > SHOW_FOR_SECONDS:
        return
    st.success(update.text(now), icon=":material/update:")


def index_notice(settings: Any, health: Any) -> None:
    """Track the build this page serves and show the notice of a new one; call once per run, before the tabs."""
    if health.searcher is None:
        return
    index_dir = settings.resolved_index_dir()
    stamp = resources.index_stamp(index_dir)
    status = health.searcher.status()
    observe(st.session_state, stamp, int(status.get("articles") or 0), status.get("built_at"))
    _poll(str(index_dir), stamp)
