"""How every chart is drawn: the page's chart theme (colours, presenter sizes) and one modebar
with a single button, PNG download."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnn_core.charts.palette import ChartTheme, chart_theme

PNG_SCALE = 2  # the downloaded PNG has twice the on-screen pixels: sharp on slides
MODEBAR = [["toImage"]]  # Plotly's modebar keeps only "Download plot as a png"


def presenter() -> bool:
    """True when the teacher turned on presenter mode (sidebar toggle, kept across pages)."""
    return bool(st.session_state.get("presenter", False))


def page_theme() -> ChartTheme:
    """The chart theme of this page: colours of the theme the browser reports (light until it
    reports one), presenter sizes when presenter mode is on."""
    return chart_theme(st.context.theme.type, presenter())


def chart_config(name: str) -> dict[str, Any]:
    """Plotly config: a clean modebar whose one button downloads ``rnn-lab-<name>.png``."""
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "modeBarButtons": MODEBAR,
        "toImageButtonOptions": {
            "format": "png", "filename": f"rnn-lab-{name}", "scale": PNG_SCALE,
        },
    }  # fmt: skip


def chart(fig: Any, key: str, name: str) -> None:
    """Draw a Plotly figure with the PNG-download modebar (file ``rnn-lab-<name>.png``)."""
    st.plotly_chart(fig, key=key, config=chart_config(name))
