"""Train page, forecast task: MAE beside the naive forecast; the forecast over the test series."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from pages._plot import chart, page_theme
from pages.common import cached_figure, score_test_set
from rnn_core.tasks.forecast import SOURCES, ForecastTask, make_forecast_data

METRIC_LABEL = "val MAE"  # the live panel's metric tile
EXTRA_HELP = (
    "**train loss**: mean squared error on the training windows (lower is better). **val MAE**:"
    " mean absolute error of the next value on the validation part of the series, which comes "
    "after the training part in time, in the series' own units. **naive MAE**: the same error "
    "for the forecast 'the next value equals the last one': a model is only useful below it."
)
DATA_CONTROLS = {
    "source": (1, lambda c, t, f: f(
        c.selectbox, "Series", "source", SOURCES,
        format_func=lambda s: {"sines": "noisy sines (generated)", "jena": "Jena temperature"}[s],
        help="sines: a sum of three sines plus noise, made here. jena: the hourly temperature "
        "of the Jena climate record (2009-2016), as in Keras's weather-forecasting example.")),
    "window": (1, lambda c, t, f: f(
        c.number_input, "Window (timesteps)", "window", 2, 1000,
        help="Past values the RNN reads before it forecasts (jena: hours).")),
    "horizon": (1, lambda c, t, f: f(
        c.number_input, "Values to predict", "horizon", 1, 48,
        help="1: the next value only; more: the next few, each scored by MAE.")),
    "length": (1, lambda c, t, f: f(
        c.number_input, "Series length (0 = all)", "length", 0, 500_000, step=500,
        help="sines: points generated; jena: the most recent hourly points used.")),
    "noise": (1, lambda c, t, f: f(
        c.slider, "Noise (sines)", "noise", 0.0, 1.0, step=0.05,
        help="Standard deviation of the noise added to the sines.")),
    "all_columns": (1, lambda c, t, f: f(
        c.checkbox, "All 14 weather columns (jena)", "all_columns",
        help="Read pressure, humidity, wind, ... beside the temperature.")),
}  # fmt: skip


def extra_label(record: Any) -> str:
    """The naive forecast's validation MAE, drawn beside the model's."""
    return "naive MAE (repeat the last value)"


def evaluate(record: Any) -> None:
    """Once training has stopped: the model's forecast for every test window."""
    score_test_set(record, "windows")


def after_epoch(record: Any) -> Callable[[Any], None]:
    """Under the curves: how far below (or above) the naive forecast the model is."""
    unit = record.data.unit if record.data is not None else ""

    def verdict(snap: Any) -> None:
        report = snap.epoch_extras[-1] if snap.epoch_extras else None
        if report is None:
            return
        share = report.mae / report.naive_mae if report.naive_mae else float("nan")
        word = "beats" if report.mae < report.naive_mae else "does not beat yet"
        st.markdown(
            f"**After epoch {snap.epoch}** the model {word} the naive forecast on the "
            f"validation series: MAE **{report.mae:.4f}** vs **{report.naive_mae:.4f}** "
            f"{unit} ({share:.0%} of the naive error)."
        )

    return verdict


def results(record: Any, active: bool) -> None:
    """Test MAE beside the naive MAE, and the forecast over the held-out test series."""
    test, data = record.results, record.data
    if active or test is None or data is None or not record.scored():
        return
    unit = data.unit
    st.subheader("Held-out test series (scored once, after training)")
    cols = st.columns(3)
    cols[0].metric(f"test MAE {unit}".strip(), f"{test.mae:.4f}")
    cols[1].metric(f"naive MAE {unit}".strip(), f"{test.naive_mae:.4f}")
    cols[2].metric("model / naive", f"{test.mae / test.naive_mae:.0%}" if test.naive_mae else "—")
    theme = page_theme()
    key = (record.results_epoch, record.results_version, theme)
    fig = cached_figure(
        record, "forecast", key, lambda: ForecastTask().test_figure(data, test.predicted, theme)
    )
    chart(fig, f"forecast_{id(record)}", "forecast")
    st.caption(
        f"Every one of the {test.windows:,} test windows: the true next value, the model's "
        "forecast and the naive one (the window's last value). The test part comes after the "
        "training and validation parts in time and was never used to train or to choose."
    )


def code() -> tuple[Callable[..., Any], ...]:
    """The rnn_core functions shown in "Show the code"."""
    return make_forecast_data, ForecastTask.build
