"""Helpers shared by the many-to-one classification tasks (IMDB, MNIST)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.config import CELLS, RunSpec
from rnn_core.tasks.base import Report, Results, Task

PREDICT_BATCH = 1_024  # rows per predict_on_batch call, at most
PREDICT_STEPS = 131_072  # rows × timesteps per call: 320 IMDB reviews of 400 words


def check_sizes(train_size: int | None, val_fraction: float) -> None:
    """Readable ValueErrors for the size fields both tasks share."""
    if train_size is not None and train_size < 10:
        raise ValueError(f"train_size must be at least 10 (or None for all), got {train_size}")
    if not 0.0 <= val_fraction < 0.9:
        raise ValueError(f"val_fraction must be in [0, 0.9), got {val_fraction}")


def split_off_validation(
    x: np.ndarray, y: np.ndarray, fraction: float
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """Hold out the last ``fraction`` of the rows, as Keras's ``validation_split`` does."""
    n_val = int(len(x) * fraction)
    if n_val == 0:
        return (x, y), None
    cut = len(x) - n_val
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def predict_rows(x: np.ndarray) -> int:
    """Rows per predict call for ``x``: PREDICT_STEPS timesteps' worth, a multiple of 32 from 32
    to PREDICT_BATCH (long sequences keep every step's outputs for pooling: fewer rows)."""
    steps = x.shape[1] if x.ndim > 1 else 1
    return int(min(PREDICT_BATCH, max(32, PREDICT_STEPS // steps // 32 * 32)))


def predict(model: Any, x: np.ndarray, batch: int | None = None) -> np.ndarray:
    """Model outputs for ``x`` in batches of ``batch`` rows (default :func:`predict_rows`; no
    Keras data adapter, thread-safe)."""
    batch = batch or predict_rows(x)
    outs = [np.asarray(model.predict_on_batch(x[i : i + batch])) for i in range(0, len(x), batch)]
    if not outs:
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    return np.concatenate(outs)  # (N, 1) or (N, C)


def data_note(n_train: int, n_val: int, total: int, what: str) -> str:
    """One sentence on how much data this run trains on."""
    return f"Training on {n_train:,} {what} and validating on {n_val:,} (of {total:,} available)."


@dataclass(frozen=True)
class ClassifierReport(Report):
    """After one epoch: accuracy on the first validation items (a subclass adds views).

    Never the test set: it is scored once, when training has ended.
    """

    accuracy: float  # share of the sampled items labelled right
    sample_size: int  # items in the sample (the first ones of ``split``)
    split: str  # the items scored: "validation" ("test" in files saved before 2026-12)

    @property
    def score(self) -> float:
        """Accuracy on the sample of ``split``."""
        return self.accuracy

    @classmethod
    def from_plain(cls, values: Mapping[str, Any]) -> Any:
        """Rebuild from JSON; older files stored ``test_accuracy`` on a test-set sample."""
        values = dict(values)
        if "test_accuracy" in values:
            values["accuracy"] = values.pop("test_accuracy")
            values.setdefault("split", "test")
        return super().from_plain(values)


def validation_sample(data: Any, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The first ``size`` validation items (x, y) the epoch hook scores; None without a split."""
    if data.x_val is None or not len(data.x_val):
        return None
    return data.x_val[:size], data.y_val[:size]


@dataclass(frozen=True)
class ClassifierResults(Results):
    """Accuracy on the whole test set (a subclass adds the count and the predictions)."""

    accuracy: float  # share of the test items labelled right

    @property
    def headline(self) -> tuple[str, float]:
        """Test accuracy."""
        return "test accuracy", self.accuracy


class ClassifierTask(Task):
    """What the IMDB and MNIST tasks share; a subclass names its source and data functions."""

    cells = (*CELLS, "Dense")
    steppable = True
    _source_key: Any = None  # staticmethod: cfg -> cache key of the loaded source
    _load_source: Any = None  # staticmethod: cfg -> read-only source arrays
    _make_data: Any = None  # staticmethod: (cfg, source) -> a run's data (copies)

    def source_key(self, cfg: Any) -> tuple:
        """The cache key of :meth:`load_source` for this config."""
        return self._source_key(cfg)

    def load_source(self, cfg: Any) -> Any:
        """The slow, shareable part of loading (read-only arrays)."""
        return self._load_source(cfg)

    def make_data(self, cfg: Any, source: Any = None) -> Any:
        """Load (or reuse ``source``), subset and split: fresh copies for one run."""
        return self._make_data(cfg, source)

    def splits(self, data: Any) -> tuple:
        """((x_train, y_train), (x_val, y_val) or None) for the engine."""
        val = None if data.x_val is None else (data.x_val, data.y_val)
        return (data.x_train, data.y_train), val


def classifier_code(spec: RunSpec, data: str, input_shape: str, embed: bool, classes: int) -> Any:
    """The Keras-code parts of a classifier task: its data code, model lines, loss, test print."""
    from rnn_core.export import classifier_lines
    from rnn_core.tasks.base import KerasCode

    loss = "binary_crossentropy" if classes == 2 else "sparse_categorical_crossentropy"
    evaluate = 'print("test accuracy", model.evaluate(x_test, y_test, verbose=0)[1])\n'
    lines = classifier_lines(spec, input_shape, embed, classes)
    return KerasCode(data, tuple(lines), loss, evaluate)
