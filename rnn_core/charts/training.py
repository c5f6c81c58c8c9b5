"""Plotly figure builders for training: pure functions from plain data to figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
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


def _curve_series(
    batch_logs: Sequence[dict[str, float]],
    epoch_logs: Sequence[dict[str, float]],
    metric: str,
    extra: Sequence[tuple[float, float]],
    smoothing: float,
) -> list[tuple[str, int, list, list]]:
    """(trace kind, panel column, x, y) of every trace of :func:`training_curves`, in order."""
    out: list[tuple[str, int, list, list]] = []
    for col, key in ((1, "loss"), (2, metric)):
        bx, by = _series(batch_logs, "epoch", key)
        out.append(("batches", col, bx, by))
        if smoothing and by:
            out.append(("smoothed", col, bx, ema(by, smoothing).tolist()))
        out.append(("epochs", col, *_series(epoch_logs, "epoch", key)))
        out.append(("validation", col, *_series(epoch_logs, "epoch", f"val_{key}")))
    if extra:
        out.append(("extra", 2, [e for e, _ in extra], [v for _, v in extra]))
    return out


def _trace(kind: str, x: list, y: list, show: bool, smoothing: float, extra_name: str) -> Any:
    """One trace of the curves figure: its kind's name, colour and line."""
    if kind == "batches":
        return go.Scatter(
            x=x, y=y, mode="lines", name="train (batches)", legendgroup="tb",
            line={"color": TRAIN_COLOR, "width": 1}, opacity=0.2 if smoothing else 0.35,
            showlegend=show,
        )  # fmt: skip
    if kind == "smoothed":
        return go.Scatter(
            x=x, y=y, mode="lines", legendgroup="ts",
            name=f"train (batches, smoothed {smoothing:g})", showlegend=show,
            line={"color": TRAIN_COLOR, "width": 1.5},
        )  # fmt: skip
    if kind == "epochs":
        return go.Scatter(
            x=x, y=y, mode="lines+markers", name="train (epoch)", legendgroup="te",
            line={"color": TRAIN_COLOR, "width": 2}, showlegend=show,
        )  # fmt: skip
    if kind == "validation":
        return go.Scatter(
            x=x, y=y, mode="lines+markers", name="validation", legendgroup="va",
            line={"color": VAL_COLOR, "width": 2, "dash": "dash"},
            marker={"symbol": "diamond"}, showlegend=show,
        )  # fmt: skip
    return go.Scatter(
        x=x, y=y, mode="lines+markers", name=extra_name,
        line={"color": EXTRA_COLOR, "width": 2, "dash": "dot"}, marker={"symbol": "square"},
    )  # fmt: skip


@lru_cache(maxsize=32)
def _curves_frame(
    kinds: tuple[tuple[str, int], ...],
    metric: str,
    extra_name: str,
    height: int,
    smoothing: float,
    log_loss: bool,
    theme: ChartTheme,
) -> str:
    """The curves figure with these traces and no data, built and validated by Plotly once,
    as JSON (every call parses its own copy)."""
    title = metric.replace("_", " ")
    loss_title = "loss (log scale)" if log_loss else "loss"
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(loss_title, title), horizontal_spacing=0.08
    )  # fmt: skip
    for kind, col in kinds:  # the legend lists the loss panel's traces (and the extra one)
        trace = _trace(kind, [], [], col == 1, smoothing, extra_name)
        fig.add_trace(trace, row=1, col=col)
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
    return styled(fig, theme).to_json()


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

    A live panel redraws this for every student about once a second, so the figure without
    data (subplots, axes, styles) is built and validated once per set of settings, and each
    call only puts its numbers in (benchmarks/bench_figures.py: 12.3 ms a frame, not 57.9).
    """
    series = _curve_series(batch_logs, epoch_logs, metric, extra, smoothing)
    kinds = tuple((kind, col) for kind, col, _, _ in series)
    frame = json.loads(_curves_frame(kinds, metric, extra_name, height, smoothing, log_loss, theme))
    for trace, (_, _, x, y) in zip(frame["data"], series, strict=True):
        trace["x"], trace["y"] = x, y  # plain numbers from the logs
    return go.Figure(frame, _validate=False)  # the frame was validated, the numbers need not


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
