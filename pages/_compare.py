"""Compare runs by one metric the user picks: any logged metric or test score, best first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from pages._plot import chart, page_theme
from rnn_core import compare
from rnn_core.charts import training as charts


def run_scores(run: Any) -> dict[str, float | int]:
    """The run's test scores for its current weights ({} when not scored)."""
    return run.results.scores() if run.scored() else {}


def compare_by_metric(
    named: Sequence[tuple[str, Any]], preferred: str, key: str
) -> tuple[str, list[float | None], list[int]]:
    """Metric picker, then the chart of the picked metric for every run.

    Returns the metric, each run's figure for it (best epoch of a curve, or its test score)
    and the runs' order, best first in the metric's direction.
    """
    names = [n for n, _ in named]
    histories = [r.job.snapshot().epoch_logs for _, r in named]
    scores = [run_scores(r) for _, r in named]
    options = compare.metric_options(histories, scores, preferred)
    if not options:
        st.caption("No metric logged yet: the comparison appears after the first epoch.")
        return "", [None] * len(named), list(range(len(named)))
    if st.session_state.get(key) not in options:  # first draw, or a metric no run has now
        st.session_state[key] = options[0]
    metric = st.selectbox(
        "Metric", options, key=key, format_func=compare.metric_label,
        help="Every metric the runs logged per epoch, and their whole-test-set scores "
        "(test_…, once a run is scored). The table ranks the runs by it.",
    )  # fmt: skip
    label = compare.metric_label(metric)
    theme = page_theme()
    values = [compare.run_value(h, s, metric) for h, s in zip(histories, scores, strict=True)]
    if compare.is_test_metric(metric):
        fig = charts.compare_bars(names, values, label, theme)
    else:
        fig = charts.compare_curves(list(zip(names, histories, strict=True)), metric, theme, label)
    chart(fig, f"{key}_chart", f"compare-{metric}")
    return metric, values, compare.ranking(values, metric)


def best_column(metric: str) -> str:
    """The table column of the picked metric: ``best val loss ↓`` or ``test accuracy ↑``."""
    arrow = "↓" if compare.lower_is_better(metric) else "↑"
    what = metric.replace("_", " ") if compare.is_test_metric(metric) else f"best {metric}"
    return f"{what.replace('_', ' ')} {arrow}"
