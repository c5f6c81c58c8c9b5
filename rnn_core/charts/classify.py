"""Plotly figure builders for the classification tasks (IMDB, MNIST): pure functions of data."""

from __future__ import annotations

import html
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from rnn_core.charts.palette import LIGHT, PALETTE, ChartTheme
from rnn_core.charts.style import styled

RIGHT_COLOR, WRONG_COLOR, PAD_COLOR = PALETTE[2], PALETTE[3], "#BBBBBB"
POS_COLOR, NEG_COLOR = PALETTE[0], PALETTE[1]
TOP_MARGIN = 40  # px above the review bars: room for the 0.5 label (11 px text, 4 px gap)


def confusion_heatmap(
    counts: Any, labels: Sequence[str] | None = None, theme: ChartTheme = LIGHT
) -> go.Figure:
    """Rows = true class, columns = predicted class; colour = share of the row, text = count."""
    c = np.asarray(counts, dtype=np.int64)  # (C, C)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"counts must be a square matrix, got shape {c.shape}")
    names = [str(v) for v in (labels if labels is not None else range(len(c)))]
    if len(names) != len(c):
        raise ValueError(f"{len(names)} labels for {len(c)} classes")
    totals = c.sum(axis=1, keepdims=True)  # (C, 1)
    share = np.divide(c, totals, out=np.zeros(c.shape, dtype=float), where=totals > 0)  # (C, C)
    text = [[str(v) if v else "" for v in row] for row in c.tolist()]
    fig = go.Figure(
        go.Heatmap(
            z=share, x=names, y=names, text=text, texttemplate="%{text}",
            customdata=np.repeat(totals, len(c), axis=1),
            colorscale=theme.share_scale, zmin=0, zmax=1, xgap=1, ygap=1,
            colorbar={"title": {"text": "share<br>of row"}, "tickformat": ".0%"},
            hovertemplate=(
                "true %{y}, predicted %{x}: %{text} of %{customdata} images "
                "(%{z:.1%})<extra></extra>"
            ),
        )
    )  # fmt: skip
    fig.update_xaxes(title_text="predicted digit", side="top", type="category")
    fig.update_yaxes(title_text="true digit", autorange="reversed", type="category")
    fig.update_layout(height=430, margin={"l": 60, "r": 10, "t": 60, "b": 10})
    return styled(fig, theme)


LABEL_BAND, GAP = 18, 4  # mosaic pixels above each digit for its labels, and between digits


def misclassified_grid(
    images: Any,
    true: Sequence[int],
    predicted: Sequence[int],
    cols: int = 8,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Wrongly classified images as one mosaic, each with its true and predicted label on top.

    One heatmap with square pixels keeps every label right above its own digit at any width.
    """
    imgs = np.asarray(images, dtype=float)  # (K, H, W)
    k = len(imgs)
    if not (len(true) == len(predicted) == k):
        raise ValueError(f"{k} images but {len(true)} true and {len(predicted)} predicted labels")
    if k == 0:
        fig = go.Figure()
        fig.add_annotation(text="No mistakes in this sample.", showarrow=False, font={"size": 16})
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.update_layout(height=120, margin={"l": 0, "r": 0, "t": 0, "b": 0})
        return styled(fig, theme)
    h, w = imgs.shape[1:]
    cols = max(1, min(cols, k))
    rows = -(-k // cols)
    cell_h, cell_w = LABEL_BAND + h + GAP, w + GAP
    mosaic = np.full((rows * cell_h, cols * cell_w - GAP), np.nan)  # (rows·cell_h, cols·cell_w)
    fig = go.Figure()
    for i, (img, t, p) in enumerate(zip(imgs, true, predicted, strict=True)):
        top, left = (i // cols) * cell_h + LABEL_BAND, (i % cols) * cell_w
        mosaic[top : top + h, left : left + w] = img
        fig.add_annotation(
            x=left + (w - 1) / 2, y=top - 1, yanchor="bottom", showarrow=False,
            text=f"true {int(t)}<br><span style='color:{WRONG_COLOR}'>said {int(p)}</span>",
            font={"size": 12},
        )  # fmt: skip
    fig.add_trace(
        go.Heatmap(
            z=mosaic, colorscale=theme.image_scale, zmin=0, zmax=float(max(1.0, np.nanmax(imgs))),
            showscale=False, hoverinfo="skip",
        )
    )  # fmt: skip
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(height=20 + 100 * rows, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return styled(fig, theme)


def review_bars(
    rows: Sequence[dict[str, Any]], width: int = 60, theme: ChartTheme = LIGHT
) -> go.Figure:
    """P(positive) per review as horizontal bars, coloured by the true label, 0.5 marked."""
    labels = [f"#{i + 1} {_clip(r['review'], width)}" for i, r in enumerate(rows)]
    probs = [float(r["P(positive)"]) for r in rows]
    colors = [POS_COLOR if r["true"] == "positive" else NEG_COLOR for r in rows]
    marks = ["✓" if r["ok"] else "✗" for r in rows]
    fig = go.Figure(
        go.Bar(
            x=probs, y=labels, orientation="h", marker={"color": colors},
            text=[f"{p:.2f} · true {r['true']} {m}" for p, r, m in zip(probs, rows, marks,
                                                                   strict=True)],
            textposition="outside", cliponaxis=False,
            customdata=[r["true"] for r in rows],
            hovertemplate="P(positive) = %{x:.3f}<br>true label: %{customdata}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=0.5, line={"dash": "dash", "color": theme.muted})
    fig.add_annotation(  # above the plot area (its bottom 4 px over the top): clear of bar #1
        x=0.5, y=1, yref="paper", yanchor="bottom", yshift=4, showarrow=False,
        text="0.5: to the right the model says positive", font={"size": 11},
    )  # fmt: skip
    fig.update_xaxes(
        range=[0, 1.3],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        title_text="P(positive) predicted by the model",
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        height=90 + 38 * len(rows), margin={"l": 10, "r": 10, "t": TOP_MARGIN, "b": 40},
        showlegend=False,
    )  # fmt: skip
    return styled(fig, theme)


# Unknown words: solid Okabe-Ito orange under black text, readable on a projector and on a
# dark page alike (a translucent tint washes out); words maxlen cuts: struck out, vermillion.
UNKNOWN_STYLE = "background-color:#E69F00;color:#000000;padding:0 3px;border-radius:3px"
CUT_STYLE = f"color:{WRONG_COLOR};text-decoration:line-through"


def review_as_read_html(
    tokens: Sequence[str], unknown: Collection[str], kept_start: int, kept_end: int
) -> str:
    """HTML of a typed review as the model reads it: cut words struck out, unknown words marked.

    ``tokens[kept_start:kept_end]`` are the tokens the model reads; the others are cut.
    """
    if not 0 <= kept_start <= kept_end <= len(tokens):
        raise ValueError("need 0 <= kept_start <= kept_end <= len(tokens)")
    words = []
    for i, token in enumerate(tokens):
        word = html.escape(token)
        if not kept_start <= i < kept_end:
            words.append(f'<span style="{CUT_STYLE}">{word}</span>')
        elif token in unknown:
            words.append(f'<span style="{UNKNOWN_STYLE}">{word}</span>')
        else:
            words.append(word)
    return " ".join(words)


def _clip(text: str, width: int) -> str:
    """The first ``width`` characters of a review, with an ellipsis when cut."""
    text = text.replace("<START> ", "")
    return text if len(text) <= width else text[: width - 1] + "…"


def length_histogram(
    lengths: Any, maxlen: int, bins: int = 60, theme: ChartTheme = LIGHT
) -> go.Figure:
    """How long the training reviews are, with maxlen marked and the share it cuts."""
    n = np.asarray(lengths, dtype=np.int64).reshape(-1)  # (N,)
    cut = float((n > maxlen).mean()) if len(n) else 0.0
    top = int(np.percentile(n, 99)) if len(n) else maxlen
    fig = go.Figure(
        go.Histogram(
            x=np.minimum(n, max(top, maxlen)), nbinsx=bins, marker={"color": POS_COLOR},
            hovertemplate="%{x} tokens: %{y} reviews<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=maxlen, line={"color": WRONG_COLOR, "width": 2})
    fig.add_annotation(
        x=maxlen, y=1, yref="paper", xanchor="left", showarrow=False,
        text=f" maxlen {maxlen}: {cut:.0%} of reviews are longer and get cut",
        font={"color": WRONG_COLOR},
    )  # fmt: skip
    fig.update_xaxes(title_text="tokens per review (longest 1% drawn at the right edge)")
    fig.update_yaxes(title_text="reviews")
    fig.update_layout(height=260, margin={"l": 50, "r": 10, "t": 30, "b": 40}, bargap=0.05)
    return styled(fig, theme)


def truncation_strip(
    original_length: int,
    maxlen: int,
    kept_start: int,
    kept_end: int,
    padding: str = "pre",
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """One review as a strip of tokens: the part cut off, the part kept, the padding added."""
    if not 0 <= kept_start <= kept_end <= original_length:
        raise ValueError("need 0 <= kept_start <= kept_end <= original_length")
    n_pad = max(0, maxlen - (kept_end - kept_start))
    parts = [
        ("cut (start)", kept_start, WRONG_COLOR),
        ("padding (zeros)", n_pad if padding == "pre" else 0, PAD_COLOR),
        ("kept: what the model reads", kept_end - kept_start, RIGHT_COLOR),
        ("padding (zeros)", n_pad if padding == "post" else 0, PAD_COLOR),
        ("cut (end)", original_length - kept_end, WRONG_COLOR),
    ]
    fig = go.Figure()
    for name, size, color in parts:
        if size <= 0:
            continue
        fig.add_trace(
            go.Bar(
                x=[size], y=["review"], orientation="h", name=f"{name}: {size}",
                marker={"color": color}, text=[f"{name}: {size}"], textposition="inside",
                insidetextanchor="middle", hovertemplate=f"{name}: {size} tokens<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        barmode="stack", height=110, showlegend=False,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )  # fmt: skip
    fig.update_xaxes(title_text="tokens", rangemode="tozero")
    fig.update_yaxes(visible=False)
    return styled(fig, theme)
