"""The archive-qa Streamlit page: `archive-qa serve`, or `streamlit run ui/app.py` with ARCHIVE_QA_* set."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run ui/app.py` puts ui/ on the path, not the project root that holds archive/, index/, qa/.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from ui import resources  # noqa: E402
from ui.markup import CSS  # noqa: E402
from ui.sidebar import history_panel, render_sidebar  # noqa: E402
from ui.views import main_area  # noqa: E402

st.set_page_config(page_title="Archive QA", page_icon="🗞️", layout="wide")
st.html(CSS)

settings = resources.current_settings()
health = resources.index_health(settings)
job = resources.build_jobs().get(str(settings.resolved_index_dir()))
options, history_slot = render_sidebar(settings, health, job)
main_area(settings, health, job, options)
history_panel(history_slot)
