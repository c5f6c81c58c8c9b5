"""Sidebar chrome on every page: presenter mode, saving the session, running trainings."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages._plot import presenter
from pages.common import runs
from rnn_core.charts import training as charts

PRESENTER_CSS = """
<style>
html { font-size: 21px; }
.block-container { max-width: 100% !important; padding-left: 2rem; padding-right: 2rem; }
</style>
"""


THEME_HINT = "Light or dark theme: **⋮** menu (top right) → System, Light or Dark."


def sidebar_chrome(live_page: bool = False) -> None:
    """Sidebar: presenter-mode toggle, save/open the session, running trainings with Stop.

    ``live_page`` is true on pages that show their own live panel (no duplicate status).
    """
    st.sidebar.toggle(
        "Presenter mode",
        key="presenter",
        help="Larger type, larger chart text and thicker lines, settings folded away, curves "
        "full width: for a projector.",
    )
    st.sidebar.caption(
        THEME_HINT,
        help="Streamlit switches the theme in the browser; the charts follow it from their "
        "next redraw (any click on the page).",
    )
    if presenter():
        st.html(PRESENTER_CSS)
    from pages._session import session_files

    session_files()  # "Save this session" and "Open a session file"
    if not live_page and any(r.job.snapshot().active for r in runs()):
        with st.sidebar:
            training_status()


@st.fragment(run_every=1.0)
def training_status() -> None:
    """Sidebar, every page: this session's active runs with a Stop button each."""
    active = [r for r in runs() if r.job.snapshot().active]
    if not active:
        st.caption("No training running.")
        return
    st.markdown("**Training now**")
    for record in active:
        snap = record.job.snapshot()
        st.caption(f"{record.spec.task} · {record.name}: {charts.progress_text(snap)}")
        st.button(
            "■ Stop",
            key=f"sidebar_stop_{id(record)}",
            on_click=record.job.stop,
            help="Stops after the current batch; the weights learned so far are kept.",
        )


def settings_box(label: str = "Settings") -> Any:
    """Where a page puts its controls: an expander folded in presenter mode, else a container."""
    if presenter():
        return st.expander(label, expanded=False)
    return st.container()
