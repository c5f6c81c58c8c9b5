"""Learning-rate schedules over one training call: constant, or a cosine fall to zero."""

from __future__ import annotations

import math

import keras

from rnn_core.config import SCHEDULES


def cosine_rate(base: float, step: int, total: int) -> float:
    """The rate at ``step`` of ``total`` steps: ``base`` at step 0, falling along half a cosine
    to 0 at step ``total`` (and 0 after it)."""
    progress = min(1.0, step / total) if total > 0 else 1.0
    return base * 0.5 * (1.0 + math.cos(math.pi * progress))


class CosineSchedule(keras.callbacks.Callback):
    """Sets the optimizer's rate before every batch of one ``fit`` call: ``base`` at its first
    batch, falling to 0 by its last epoch's end (the next call, e.g. Train more, starts from
    ``base`` again; :func:`~rnn_core.engine.runner.fit_model` puts ``base`` back after fit).
    A model compiled with ``steps_per_execution`` N trains each run of N batches at the rate
    of its first batch."""

    def __init__(self, base: float, steps_per_epoch: int, initial: int, target: int) -> None:
        """A schedule for a call from epoch ``initial`` to ``target`` of ``steps_per_epoch``."""
        super().__init__()
        self.base, self.steps, self.initial = base, max(1, steps_per_epoch), initial
        self.total = self.steps * max(1, target - initial)
        self.epoch = initial

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Remember the epoch (0-based, counted across calls) the next batches belong to."""
        self.epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Set the rate for this batch."""
        step = (self.epoch - self.initial) * self.steps + batch
        self.model.optimizer.learning_rate = cosine_rate(self.base, step, self.total)


def schedule_callbacks(
    name: str, base: float, samples: int, batch_size: int, initial: int, target: int
) -> list[keras.callbacks.Callback]:
    """The callbacks that apply schedule ``name`` to a call training ``samples`` examples."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {name!r}")
    if name == "constant":
        return []
    return [CosineSchedule(base, math.ceil(samples / batch_size), initial, target)]
