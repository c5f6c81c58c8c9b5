"""Plotly figure builders for training: pure functions from plain data to figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnn_core.charts.palette import LIGHT, PALETTE, ChartTheme
from rnn_core.charts.smoothing import ema
from rnn_core.charts.style import styled

TRAIN_COLOR, VAL_COLOR, EXTRA_COLOR = PALETTE[0], PALETTE[1], PALETTE[2]


def _series(logs: Sequence[dict[str, float]], x: str, y: str) -> tuple[list, list]:
    """The (x, y) pairs of the logs that hold key ``y``."""
    pts = [(log[x], log[y]) for log in logs if y in log]
    return [p[0] for p in pts], [p[1] for p in pts]


def training_curves(
    batch_logs: Sequence[dict[str, float]],
    epoch_logs: Sequence[dict[str, float]],
    metric: str = "accuracy",
    extra: Sequence[tuple[float, float]] = (),
    extra_name: str = "",
    height: int = 360,
    smoothing: float = 0.0,
    log_loss: bool = False,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Loss and metric against epochs: train per batch (thin), train and validation per epoch.

    ``extra`` adds one more (epoch, value) series to the metric panel, such as held-out exact
    match for the addition task. ``smoothing`` (0 = none, below 1) draws the per-batch curve
    smoothed as TensorBoard does (:func:`~rnn_core.charts.smoothing.ema`) over the raw one,
    faded; ``log_loss`` puts the loss panel on a log scale.
    """
    title = metric.replace("_", " ")
    loss_title = "loss (log scale)" if log_loss else "loss"
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(loss_title, title), horizontal_spacing=0.08
    )  # fmt: skip
    for col, key in ((1, "loss"), (2, metric)):
        show = col == 1
        bx, by = _series(batch_logs, "epoch", key)
        fig.add_trace(
            go.Scatter(
                x=bx, y=by, mode="lines", name="train (batches)", legendgroup="tb",
                line={"color": TRAIN_COLOR, "width": 1}, opacity=0.2 if smoothing else 0.35,
                showlegend=show,
            ),
            row=1, col=col,
        )  # fmt: skip
        if smoothing and by:
            fig.add_trace(
                go.Scatter(
                    x=bx, y=ema(by, smoothing).tolist(), mode="lines", legendgroup="ts",
                    name=f"train (batches, smoothed {smoothing:g})", showlegend=show,
                    line={"color": TRAIN_COLOR, "width": 1.5},
                ),
                row=1, col=col,
            )  # fmt: skip
        ex, ey = _series(epoch_logs, "epoch", key)
        fig.add_trace(
            go.Scatter(
                x=ex, y=ey, mode="lines+markers", name="train (epoch)", legendgroup="te",
                line={"color": TRAIN_COLOR, "width": 2}, showlegend=show,
            ),
            row=1, col=col,
        )  # fmt: skip
        vx, vy = _series(epoch_logs, "epoch", f"val_{key}")
        fig.add_trace(
            go.Scatter(
                x=vx, y=vy, mode="lines+markers", name="validation", legendgroup="va",
                line={"color": VAL_COLOR, "width": 2, "dash": "dash"},
                marker={"symbol": "diamond"}, showlegend=show,
            ),
            row=1, col=col,
        )  # fmt: skip
    if extra:
        fig.add_trace(
            go.Scatter(
                x=[e for e, _ in extra], y=[v for _, v in extra], mode="lines+markers",
                name=extra_name, line={"color": EXTRA_COLOR, "width": 2, "dash": "dot"},
                marker={"symbol": "square"},
            ),
            row=1, col=2,
        )  # fmt: skip
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    if log_loss:
        fig.update_yaxes(type="log", row=1, col=1)
    else:
        fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(
        height=height,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        uirevision="keep",  # keep the user's zoom while the curves grow
    )
    return styled(fig, theme)


def compare_curves(
    runs: Sequence[tuple[str, Sequence[dict[str, float]]]],
    key: str,
    theme: ChartTheme = LIGHT,
    label: str = "",
) -> go.Figure:
    """One line per run of the per-epoch ``key`` (e.g. ``val_accuracy``), for comparing cells;
    ``label`` titles the y axis (default: the key)."""
    fig = go.Figure()
    for i, (name, logs) in enumerate(runs):
        x, y = _series(logs, "epoch", key)
        color = theme.palette[i % len(theme.palette)]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, line={"color": color}))
    fig.update_layout(
        height=340,
        xaxis_title="epoch",
        yaxis_title=label or key.replace("_", " "),
        margin={"l": 40, "r": 10, "t": 20, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return styled(fig, theme)


def compare_bars(
    names: Sequence[str], values: Sequence[float | None], label: str, theme: ChartTheme = LIGHT
) -> go.Figure:
    """One bar per run of a single number each (a test score); runs without one get no bar."""
    shown = [(n, v) for n, v in zip(names, values, strict=True) if v is not None]
    colors = [theme.palette[names.index(n) % len(theme.palette)] for n, _ in shown]
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in shown], y=[n for n, _ in shown], orientation="h",
            marker={"color": colors}, text=[f"{v:.4g}" for _, v in shown],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(title_text=label, rangemode="tozero")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(
        height=120 + 36 * max(1, len(shown)), margin={"l": 10, "r": 40, "t": 20, "b": 40},
        showlegend=False,
    )  # fmt: skip
    return styled(fig, theme)


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1 min 15 s``; short and readable on a progress bar."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes} min {sec:02d} s"


def progress_text(snap: Any) -> str:
    """One line under the progress bar: epoch, batch, throughput and time left."""
    if snap.state == "queued":
        reason = snap.queue_reason or "waiting for a free training slot"
        where = f" · position {snap.queue_position} in the queue" if snap.queue_position else ""
        return f"{reason[0].upper()}{reason[1:]}{where}"  # a cluster's queue has no position
    if snap.state == "running" and snap.batch == 0 and not snap.samples_per_sec:
        return (
            f"epoch {snap.epoch + 1}/{snap.epochs_target} · starting: loading TensorFlow and "
            "building the training graph (a few seconds)"
        )
    if getattr(snap, "scoring", False) and snap.state in ("running", "stopping"):
        return (
            f"{snap.epoch}/{snap.epochs_target} epochs done · scoring the trained model on the "
            "whole test set"
        )
    if snap.state not in ("running", "stopping"):  # ended (done, failed) or not started
        ended = f"{snap.epoch}/{snap.epochs_target} epochs done" if snap.epochs_target else ""
        if getattr(snap, "stopped_early", False):
            ended += " · stopped early"
        return ended or "not started"
    parts = [
        f"epoch {min(snap.epoch + 1, snap.epochs_target)}/{snap.epochs_target}",
        f"batch {snap.batch}/{snap.batches_per_epoch}",
    ]
    if snap.samples_per_sec:
        parts.append(f"{snap.samples_per_sec:,.0f} samples/s")
    if snap.state in ("running", "stopping") and snap.eta_seconds:
        parts.append(f"about {format_seconds(snap.eta_seconds)} left")
    return " · ".join(parts)
