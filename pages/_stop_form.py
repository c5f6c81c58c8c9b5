"""The "stop when validation … reaches …" controls of the Train and Text forms.

A config keeps the condition as text (``TrainConfig.until``, e.g. ``"val_accuracy>=0.89"``);
a form keeps it as two fields, the metric (one of the task's validation metrics, or off) and
the threshold, plus ``patience``. The comparison follows the metric: ``>=`` when higher is
better, ``<=`` when lower is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pages._form import Form
from rnn_core.config import parse_until

OFF = "(off)"  # the metric choice that turns the condition off
SUGGESTED = {"val_exact_match": 0.99, "val_accuracy": 0.9, "val_bits_per_char": 2.0}
OPS = {"max": ">=", "min": "<="}  # metric direction -> comparison
SYMBOLS = {"max": "≥", "min": "≤"}


def until_values(until: str, metrics: Mapping[str, str]) -> dict[str, Any]:
    """Form values (``until_metric``, ``until_value``) of a config's ``until`` text."""
    if not until:
        return {"until_metric": OFF}
    cond = parse_until(until)
    metric = cond.metric if cond.metric in metrics else OFF
    return {"until_metric": metric, "until_value": float(cond.value)}


def until_text(metric: str | None, value: Any, metrics: Mapping[str, str]) -> str:
    """The config's ``until`` text of the form's metric and threshold ("" when off)."""
    if not metric or metric == OFF or metric not in metrics or value is None:
        return ""
    return f"{metric}{OPS[metrics[metric]]}{float(value):g}"


def _suggest(form: Form, metrics: Mapping[str, str]) -> None:
    """on_change of the metric: a usual threshold for it (the student changes it at will)."""
    metric = form.get("until_metric")
    if metric in SUGGESTED:
        form.fill({"until_value": SUGGESTED[metric]})


def until_control(col: Any, form: Form, metrics: Mapping[str, str]) -> None:
    """A metric picker ("stop when validation …") and the threshold it has to reach."""
    form.start({"until_metric": OFF, "until_value": 0.9})
    if form.get("until_metric") not in (OFF, *metrics):  # e.g. a metric of another task
        form.fill({"until_metric": OFF})
    form(
        col.selectbox, "Stop when validation…", "until_metric", [OFF, *metrics],
        on_change=_suggest, args=(form, metrics),
        help="Checked after every epoch on the validation split only (never the test set): "
        "training ends after the first epoch that reaches the value below.",
    )  # fmt: skip
    metric = form.get("until_metric")
    side = SYMBOLS[metrics[metric]] if metric in metrics else "reaches"
    form(
        col.number_input, f"…reaches ({side})", "until_value", format="%.4f", step=0.01,
        disabled=metric not in metrics,
    )  # fmt: skip


def patience_control(col: Any, form: Form) -> None:
    """Early stopping: epochs without a better validation score before training ends."""
    form(
        col.number_input, "Patience (epochs, 0 = off)", "patience", 0, 100,
        help="End training after this many epochs without a better validation score (the "
        "metric above, else val_loss) and keep the weights of the best epoch.",
    )  # fmt: skip
