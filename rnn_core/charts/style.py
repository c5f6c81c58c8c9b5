"""Sizes of a built figure from its ChartTheme: presenter mode is one switch for every chart."""

from __future__ import annotations

import plotly.graph_objects as go

from rnn_core.charts.palette import ChartTheme

DEFAULT_LINE = 2.0  # Plotly's line width of a scatter trace that sets none
DEFAULT_MARKER = 6.0  # Plotly's marker size of a scatter trace that sets none
TICK_SHARE = 0.85  # tick labels are this share of the theme's font size
TITLE_SHARE = 1.15  # a figure's own title is this much larger
BASE_FONT = 14  # px of Streamlit's chart text: labels sized for it grow by font_size / this
TALLER = 1.3  # with a font size set, figures are this much taller (room for the larger text)


def _scaled(width: float | None, scale: float, default: float) -> float:
    """A width (or Plotly's default when unset) times ``scale``."""
    return (default if width is None else float(width)) * scale


def styled(fig: go.Figure, theme: ChartTheme) -> go.Figure:
    """Apply the theme's font size and line scale to ``fig`` (in place) and return it.

    A theme with no font size and a line scale of 1 (the default) leaves the figure as built,
    so Streamlit's own chart theme sets its type. Every text of the figure gets an explicit
    size (layout, legend, axis titles and ticks, subplot titles, colour bars), because
    Streamlit's theme sets those one by one. Labels the builder sized itself (annotations
    with a font size) grow in proportion, and the figure grows taller by ``TALLER``.
    """
    size = theme.font_size
    if size:
        tick = round(size * TICK_SHARE)
        fig.update_layout(font_size=size, legend_font_size=size, hoverlabel_font_size=size)
        if fig.layout.title.text:
            fig.update_layout(title_font_size=round(size * TITLE_SHARE))
        fig.update_xaxes(title_font_size=size, tickfont_size=tick)
        fig.update_yaxes(title_font_size=size, tickfont_size=tick)
        for note in fig.layout.annotations:
            own = note.font.size
            note.font.size = size if own is None else round(own * size / BASE_FONT)
        if fig.layout.height:
            fig.layout.height = round(fig.layout.height * TALLER)
        for trace in fig.data:
            if "colorbar" in trace:
                trace.colorbar.tickfont.size = tick
                trace.colorbar.title.font.size = size
    scale = theme.line_scale
    if scale != 1.0:
        for trace in fig.data:
            if trace.type in ("scatter", "scattergl"):
                trace.line.width = _scaled(trace.line.width, scale, DEFAULT_LINE)
                if "markers" in (trace.mode or "") and trace.marker.size is None:
                    trace.marker.size = DEFAULT_MARKER * scale
            if "marker" in trace and trace.marker.line.width is not None:
                trace.marker.line.width = _scaled(trace.marker.line.width, scale, 0.0)
        for shape in fig.layout.shapes:
            shape.line.width = _scaled(shape.line.width, scale, DEFAULT_LINE)
    return fig
