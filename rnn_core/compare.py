"""Comparing runs by one metric: which metrics there are, which way is better, the ranking."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

NOT_METRICS = frozenset({"epoch", "step", "seconds"})  # logged per epoch, but not scores
LOWER_IS_BETTER = ("loss", "bits", "mae", "mse", "error", "perplexity")  # parts of such names
TEST_PREFIX = "test_"  # a test score's metric name: "test_" + its Results field


def lower_is_better(metric: str) -> bool:
    """True for losses and errors (loss, bits/char, MAE, MSE …): the smallest value is best."""
    return any(word in metric.lower() for word in LOWER_IS_BETTER)


def is_test_metric(metric: str) -> bool:
    """True for a whole-test-set score (one number per run), false for a logged curve."""
    return metric.startswith(TEST_PREFIX)


def metric_label(metric: str) -> str:
    """``val_loss`` → ``val loss (lower is better)``: the metric and its direction, in words."""
    direction = "lower" if lower_is_better(metric) else "higher"
    return f"{metric.replace('_', ' ')} ({direction} is better)"


def logged_metrics(histories: Sequence[Sequence[Mapping[str, float]]]) -> list[str]:
    """Every metric in any run's per-epoch logs: validation ones first, then training ones."""
    keys = {k for logs in histories for log in logs for k in log if k not in NOT_METRICS}
    return sorted(keys, key=lambda k: (not k.startswith("val_"), k))


def test_metrics(scores: Sequence[Mapping[str, float | int]]) -> list[str]:
    """Every fractional score in any run's test results (counts left out), as ``test_<field>``."""
    keys = {
        k for s in scores for k, v in s.items() if isinstance(v, float) and not isinstance(v, bool)
    }
    return [f"{TEST_PREFIX}{k}" for k in sorted(keys)]


def metric_options(
    histories: Sequence[Sequence[Mapping[str, float]]],
    scores: Sequence[Mapping[str, float | int]],
    preferred: str = "",
) -> list[str]:
    """The metrics runs can be compared by: ``preferred`` first when present, then the logged
    ones (validation first), then the test scores."""
    options = logged_metrics(histories) + test_metrics(scores)
    if preferred in options:
        options.remove(preferred)
        options.insert(0, preferred)
    return options


def run_value(
    logs: Sequence[Mapping[str, float]], scores: Mapping[str, float | int], metric: str
) -> float | None:
    """A run's figure for ``metric``: its test score, or the best epoch of its curve (None:
    the run has no finite value of it)."""
    if is_test_metric(metric):
        value = scores.get(metric[len(TEST_PREFIX) :])
        return float(value) if value is not None and math.isfinite(value) else None
    values = [log[metric] for log in logs if metric in log and math.isfinite(log[metric])]
    if not values:
        return None
    return min(values) if lower_is_better(metric) else max(values)


def ranking(values: Sequence[float | None], metric: str) -> list[int]:
    """Indices of ``values`` best first in the metric's direction; runs without a value last,
    ties in their original order."""
    sign = 1.0 if lower_is_better(metric) else -1.0
    return sorted(
        range(len(values)),
        key=lambda i: (values[i] is None, 0.0 if values[i] is None else sign * values[i]),
    )
