"""Plotly figure builders for text generation: pure functions from plain data to figures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from rnn_core.charts.palette import LIGHT, PALETTE, ChartTheme
from rnn_core.charts.style import styled
from rnn_core.sampling import top_next

_VISIBLE = {" ": "␣ space", "\n": "⏎ newline", "\t": "⇥ tab"}


def char_label(c: str) -> str:
    """A character as a readable axis label: space, newline and tab made visible."""
    return _VISIBLE.get(c, c)


def next_char_bars(
    probs: np.ndarray,
    chars: str,
    temperature: float,
    k: int = 15,
    height: int = 340,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Bars of the k likeliest next characters at a temperature; dots mark their p at T=1."""
    top = top_next(probs, temperature, k)
    labels = [char_label(chars[i]) for i, _, _ in top]
    at_t = [q for _, q, _ in top]
    at_1 = [p for _, _, p in top]
    t_text = "0 (argmax)" if temperature == 0 else f"{temperature:g}"
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=labels, y=at_t, name=f"at T = {t_text}", marker_color=PALETTE[0],
            text=[f"{q:.2f}" if q >= 0.005 else "" for q in at_t], textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:.4f}<extra>at T</extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=labels, y=at_1, name="the model's own (T = 1)", mode="markers",
            marker={"color": PALETTE[1], "symbol": "line-ew-open", "size": 26,
                    "line": {"width": 3, "color": PALETTE[1]}},
            hovertemplate="%{x}: %{y:.4f}<extra>T = 1</extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        height=height,
        yaxis={"range": [0, 1.1], "title": "probability of the next character"},
        xaxis={"type": "category", "title": "next character (most likely first)"},
        margin={"l": 50, "r": 10, "t": 40, "b": 50},
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        bargap=0.25,
    )
    return styled(fig, theme)


def bits_per_char_curve(
    epochs: Sequence[float],
    bits: Sequence[float],
    ngram_bits: float | None,
    ngram_name: str = "counting n-gram",
    height: int = 300,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Validation bits per character of the RNN after each epoch, the n-gram's as a flat line
    (both on the validation half; the test half is scored once, after training)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(epochs), y=list(bits), mode="lines+markers", name="your RNN (validation)",
            line={"color": PALETTE[0], "width": 2},
            hovertemplate="epoch %{x}: %{y:.3f} bits/char<extra>your RNN</extra>",
        )
    )  # fmt: skip
    if ngram_bits is not None and np.isfinite(ngram_bits):
        right = max(list(epochs) or [1.0])
        fig.add_trace(
            go.Scatter(
                x=[0, max(right, 1.0)], y=[ngram_bits, ngram_bits], mode="lines",
                name=f"{ngram_name} (validation)",
                line={"color": PALETTE[1], "width": 2, "dash": "dash"},
                hovertemplate=f"{ngram_bits:.3f} bits/char<extra>{ngram_name}</extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        height=height,
        xaxis={"title": "epoch", "rangemode": "tozero", "dtick": 1 if len(bits) <= 15 else None},
        yaxis={"title": "validation bits/char (lower is better)", "rangemode": "tozero"},
        margin={"l": 50, "r": 10, "t": 20, "b": 40},
        legend={"orientation": "h", "y": -0.3},
    )
    return styled(fig, theme)
