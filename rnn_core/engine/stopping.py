"""When a training call ends on its own: a stop condition on validation and early stopping.

A :class:`StopRule` (from a :class:`~rnn_core.config.TrainConfig`'s ``until`` and ``patience``)
is checked by :class:`StopTracker` after every epoch, on that epoch's validation metrics only
(Keras's ``val_*`` logs and the task report's ``val_scores``); the test set is never looked at.
Pure Python: the Keras callback (:class:`~rnn_core.engine.runner.ProgressCallback`) acts on the
tracker's :class:`Verdict` (stop, keep or restore the best weights).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from rnn_core.config import TrainConfig, Until, parse_until

SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}  # how a reason prints a comparison


@dataclass(frozen=True)
class StopRule:
    """How a training call may end before its last epoch, judged on validation only."""

    until: Until | None = None  # stop once this validation metric reaches its value; None = off
    patience: int = 0  # stop after this many epochs without a better ``monitor``; 0 = off
    monitor: str = "val_loss"  # the metric whose best epoch is kept (the until metric if any)
    higher_is_better: bool = False  # True when a larger ``monitor`` is better

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> StopRule | None:
        """The rule a config asks for; None when it asks for neither until nor patience."""
        until = parse_until(cfg.until) if cfg.until else None
        if until is None and not cfg.patience:
            return None
        if until is None:
            return cls(None, cfg.patience)
        return cls(until, cfg.patience, until.metric, until.higher_is_better)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics this rule reads each epoch."""
        return tuple(dict.fromkeys([self.monitor, *([self.until.metric] if self.until else [])]))


def check_rule(cfg: TrainConfig, metrics: Mapping[str, str], has_val: bool, task: str) -> None:
    """Refuse, with one line, a stop condition the task cannot measure.

    ``metrics`` are the task's validation metrics (name -> "max"/"min"); ``has_val`` says
    whether the run has a validation split at all.
    """
    rule = StopRule.from_config(cfg)
    if rule is None:
        return
    if rule.until is not None and rule.until.metric not in metrics:
        raise ValueError(
            f"until: {rule.until.metric!r} is not a validation metric of the {task} task; "
            f"choose one of {', '.join(metrics)}"
        )
    if not has_val:
        raise ValueError(
            "until/patience need a validation split, and this run has none (val_fraction 0)"
        )


def fmt(value: float) -> str:
    """A metric value as a reason prints it: three decimals, or four digits when large."""
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.4g}"


@dataclass(frozen=True)
class Verdict:
    """What to do after one epoch."""

    best: bool = False  # this epoch's weights are the best so far: keep a copy
    stop: bool = False  # end training after this epoch
    restore: bool = False  # put the best epoch's weights back before ending
    reason: str = ""  # why training ends, e.g. "stopped at epoch 4: val_exact_match 0.991 ≥ 0.99"


class StopTracker:
    """Follows one training call's validation metrics epoch by epoch against a :class:`StopRule`."""

    def __init__(self, rule: StopRule) -> None:
        """A tracker that has seen no epoch yet."""
        self.rule = rule
        self.best: float | None = None  # the best ``monitor`` value so far
        self.best_epoch = 0  # the 1-based epoch that reached it
        self.wait = 0  # epochs since the best one

    def _better(self, value: float) -> bool:
        """True when ``value`` beats the best so far."""
        if self.best is None:
            return True
        return value > self.best if self.rule.higher_is_better else value < self.best

    def epoch(self, epoch: int, metrics: Mapping[str, float]) -> Verdict:
        """The verdict after 1-based ``epoch`` with these metrics (logs plus report scores)."""
        rule = self.rule
        missing = [m for m in rule.metrics if m not in metrics]
        if missing:
            raise RuntimeError(
                f"the stop condition watches {', '.join(missing)}, which this run does not "
                f"measure (it has {', '.join(sorted(k for k in metrics if k.startswith('val_')))})"
            )
        value = float(metrics[rule.monitor])
        best = math.isfinite(value) and self._better(value)
        if best:
            self.best, self.best_epoch, self.wait = value, epoch, 0
        else:
            self.wait += 1
        until = rule.until
        if until is not None and until.met(metrics[until.metric]):
            reached = fmt(float(metrics[until.metric]))
            return Verdict(
                best, True, False,
                f"stopped at epoch {epoch}: {until.metric} {reached} "
                f"{SYMBOLS[until.op]} {until.value:g}",
            )  # fmt: skip
        if rule.patience and self.wait >= rule.patience:
            return Verdict(
                False, True, self.best_epoch > 0,
                f"stopped at epoch {epoch}: {rule.monitor} has not improved for "
                f"{self.wait} epoch(s); {self._restored()}",
            )  # fmt: skip
        return Verdict(best)

    def finish(self, epoch: int) -> Verdict:
        """At the call's last epoch: with patience, restore the best weights if not the last."""
        if self.rule.patience and 0 < self.best_epoch < epoch:
            return Verdict(False, True, True, f"ran to epoch {epoch}; {self._restored()}")
        return Verdict()

    def _restored(self) -> str:
        """Which weights are kept, e.g. "weights restored from epoch 6 (val_loss 0.312)"."""
        if self.best is None:
            return "no epoch had a finite score: the last weights are kept"
        return (
            f"weights restored from epoch {self.best_epoch} ({self.rule.monitor} {fmt(self.best)})"
        )
