"""The archive-qa Streamlit page: `archive-qa serve`, or `streamlit run ui/app.py` with ARCHIVE_QA_* set."""

from __future__ import annotations

import streamlit as st

from core.env import set_offline_environment
from ui import links, resources
from ui.markup import CSS
from ui.sidebar import history_panel, render_sidebar
from ui.views import main_area

set_offline_environment()  # `streamlit run ui/app.py` bypasses the CLI, which sets it otherwise

st.set_page_config(page_title="Archive QA", page_icon="🗞️", layout="wide")
st.html(CSS)

settings = resources.current_settings()
resources.start_loading_model(settings)  # in a thread: the page below renders without waiting for it
health = resources.index_health(settings)
job = resources.build_jobs().get(str(settings.resolved_index_dir()))
link = links.read_link_once(st.session_state, st.query_params)  # ?q=...&k=...&mode=... of a shared answer
for note in link.notes if link else ():
    st.toast(note)
options, history_slot = render_sidebar(settings, health, job)
main_area(settings, health, job, options)
history_panel(history_slot)
