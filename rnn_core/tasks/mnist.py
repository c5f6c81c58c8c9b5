"""MNIST digits read row by row (28 timesteps of 28 pixels, or of several rows each): data,
confusion matrix, the task.

As for IMDB, :func:`load_mnist_source` is the slow, cacheable step (read-only arrays shared by
all runs) and :func:`make_mnist_data` takes a run's stratified training subset as copies.
Nothing here imports TensorFlow until a model is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.config import MnistConfig, RunSpec
from rnn_core.data import loaders as datasets
from rnn_core.tasks.base import KerasCode, detail
from rnn_core.tasks.classifier import (
    ClassifierReport,
    ClassifierResults,
    ClassifierTask,
    check_sizes,
    classifier_code,
    data_note,
    predict,
    split_off_validation,
    validation_sample,
)
from rnn_core.tasks.info import TaskInfo

MNIST_HOOK_SIZE = 2_000  # validation images scored after every epoch (at most)
CLASSES = 10  # digits 0-9
SIDE = 28  # pixels per image row and rows per image


@dataclass(frozen=True)
class MnistSource:
    """All of MNIST, shared (read-only) by every run that reads this file: the training images
    as raw pixels (a quarter of their float size; a run scales its own subset), the test
    images scaled to [0, 1]."""

    key: tuple  # (data dir,) it was loaded from
    x_train: np.ndarray  # (60000, 28, 28) uint8 pixels 0-255, read-only
    y_train: np.ndarray  # (60000,) int64 digit, read-only
    x_test: np.ndarray  # (10000, 28, 28) float32, read-only
    y_test: np.ndarray  # (10000,) int64, read-only


@dataclass(frozen=True)
class MnistData:
    """MNIST splits: each image is a sequence of T = 28 / r steps of F = 28 r pixels in [0, 1]
    (r = ``config.rows_per_step``: r rows side by side per step; r = 1 reads row by row)."""

    config: MnistConfig  # the config that made the data
    x_train: np.ndarray  # (N, T, F) float32 (a copy)
    y_train: np.ndarray  # (N,) int64 digit (a copy)
    x_val: np.ndarray | None  # (N_val, T, F) the last val_fraction of the training subset
    y_val: np.ndarray | None  # (N_val,)
    x_test: np.ndarray  # (10000, T, F) the whole test set (read-only, shared)
    y_test: np.ndarray  # (10000,) (read-only, shared)
    note: str  # how much data is used


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view: sharing it between sessions cannot let one change another's data."""
    view = a.view()
    view.flags.writeable = False
    return view


def step_shape(rows_per_step: int) -> tuple[int, int]:
    """(timesteps, pixels per timestep) of an image read ``rows_per_step`` rows at a time."""
    return SIDE // rows_per_step, SIDE * rows_per_step


def reading(rows_per_step: int) -> str:
    """How the RNN reads an image: "one row of 28 pixels per timestep" or the like."""
    steps, width = step_shape(rows_per_step)
    if rows_per_step == 1:
        return f"one row of {width} pixels per timestep"
    return f"{rows_per_step} rows side by side per timestep ({steps} timesteps of {width} pixels)"


def as_images(x: np.ndarray) -> np.ndarray:
    """Sequences of any :func:`step_shape` back as images. Returns (N, 28, 28)."""
    return np.asarray(x).reshape(-1, SIDE, SIDE)


def source_key(cfg: MnistConfig) -> tuple:
    """What the loaded source depends on: the key a page caches :func:`load_mnist_source` by."""
    return (str(datasets.resolve_data_dir(cfg.data_dir) or ""),)


def load_mnist_source(cfg: MnistConfig) -> MnistSource:
    """``keras.datasets.mnist.load_data()``, the test images scaled to [0, 1];
    DataMissingError without the file."""
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(cfg.data_dir, normalize=False)
    return MnistSource(
        key=source_key(cfg),
        x_train=_frozen(x_train),
        y_train=_frozen(y_train.astype(np.int64)),
        x_test=_frozen(datasets.scale_pixels(x_test)),
        y_test=_frozen(y_test.astype(np.int64)),
    )


def make_mnist_data(cfg: MnistConfig, source: MnistSource | None = None) -> MnistData:
    """A run's data: stratified training subset (copied), validation split, shared test set."""
    check_sizes(cfg.train_size, cfg.val_fraction)
    if source is None:
        source = load_mnist_source(cfg)
    elif source.key != source_key(cfg):
        raise ValueError(f"source was loaded for {source.key}, not {source_key(cfg)}")
    idx = datasets.subset_indices(source.y_train, cfg.train_size, rng=cfg.seed)
    steps = step_shape(cfg.rows_per_step)  # (T, F)
    x = datasets.scale_pixels(source.x_train[idx]).reshape(-1, *steps)  # (N, T, F) a copy
    y = source.y_train[idx]  # fancy indexing: a fresh, writable copy
    train, val = split_off_validation(x, y, cfg.val_fraction)
    n_val = 0 if val is None else len(val[0])
    return MnistData(
        config=cfg,
        x_train=train[0],
        y_train=train[1],
        x_val=None if val is None else val[0],
        y_val=None if val is None else val[1],
        x_test=source.x_test.reshape(-1, *steps),  # (10000, T, F) a read-only view
        y_test=source.y_test,
        note=data_note(len(train[0]), n_val, len(source.y_train), "images"),
    )


def confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], classes: int = CLASSES
) -> np.ndarray:
    """Counts[i, j] = examples of true class i predicted as j. Returns (classes, classes)."""
    t = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape} vs {p.shape}")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= classes):
        raise ValueError(f"labels must be in [0, {classes})")
    return np.bincount(t * classes + p, minlength=classes * classes).reshape(classes, classes)


def misclassified(
    model: Any, data: MnistData, n: int = 16, predicted: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` wrong test digits: (images (k, 28, 28), true (k,), predicted (k,))."""
    if predicted is None:
        predicted = predict(model, data.x_test).argmax(axis=-1)  # (N,)
    wrong = np.flatnonzero(predicted != data.y_test)[:n]
    return as_images(data.x_test[wrong]), data.y_test[wrong], predicted[wrong]


@dataclass(frozen=True)
class MnistReport(ClassifierReport):
    """After one epoch, on the first MNIST_HOOK_SIZE validation images: confusion and wrong
    digits."""

    confusion: tuple[tuple[int, ...], ...]  # (10, 10) counts[true][predicted] on the sample
    wrong: tuple[tuple[int, int], ...]  # (index in ``split``, predicted digit), first mistakes


@dataclass(frozen=True)
class MnistResults(ClassifierResults):
    """Accuracy on the whole test set, with every image's predicted digit."""

    images: int  # test images scored
    predicted: np.ndarray | None = detail()  # (N,)


_KERAS_DATA = """\
# Data: MNIST digits scaled to [0, 1], each image read as {steps} timesteps of {width} pixels.
TRAIN_SIZE = {train_size}
(x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
x, x_test = x.astype("float32") / 255.0, x_test.astype("float32") / 255.0  # (N, 28, 28)
x, y = x[:TRAIN_SIZE], y[:TRAIN_SIZE]
{reshape}"""


class MnistTask(ClassifierTask):
    """Digits: an RNN reads an image one row (28 pixels) per timestep; softmax over 0-9."""

    info = TaskInfo(
        name="mnist",
        label="MNIST digits (rows as a sequence)",
        rnn_type="many-to-one",
        metric="accuracy",
        description=(
            "Each 28×28 image is read top to bottom, one row of 28 pixels per timestep (or "
            "several rows side by side: *Pixel rows per timestep*); the final state goes to a "
            "10-way softmax. The Dense cell is the non-recurrent baseline: it sees all 784 "
            "pixels at once. Chance is 10%."
        ),
    )
    data_config = MnistConfig
    report_type = MnistReport
    results_type = MnistResults
    files = (datasets.MNIST_FILE,)
    default_preset = "mnist-fast"
    _source_key = staticmethod(source_key)
    _load_source = staticmethod(load_mnist_source)
    _make_data = staticmethod(make_mnist_data)

    def build(self, spec: RunSpec, data: MnistData) -> Any:
        """RNN over 28 rows (or Flatten -> Dense) -> Dense(10, softmax), compiled."""
        from rnn_core.models import build_sequence_classifier, compile_model

        model = build_sequence_classifier(spec.model, data.x_train.shape[1:], CLASSES)
        compile_model(model, spec.train, "sparse_categorical_crossentropy", ["accuracy"])
        return model

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Predicted digit per image. Returns (N,)."""
        return predict(model, x).argmax(axis=-1)

    def epoch_report(self, data: MnistData, size: int = MNIST_HOOK_SIZE, shown: int = 16):
        """A hook for the engine: accuracy, confusion and wrong digits on the first ``size``
        validation images (None without a validation split; the test images are never looked
        at)."""
        sample = validation_sample(data, size)

        def hook(model: Any, epoch: int) -> MnistReport | None:
            if sample is None:
                return None
            x, y = sample
            pred = self.predict(model, x)  # (size,)
            counts = confusion_matrix(y, pred)  # (10, 10)
            return MnistReport(
                accuracy=float((pred == y).mean()),
                sample_size=int(len(y)),
                split="validation",
                confusion=tuple(tuple(int(c) for c in row) for row in counts),
                wrong=tuple((int(i), int(pred[i])) for i in np.flatnonzero(pred != y)[:shown]),
            )

        return hook

    def evaluate(self, model: Any, data: MnistData) -> MnistResults:
        """Accuracy on the whole test set; every image's predicted digit is kept too."""
        pred = self.predict(model, data.x_test)  # (N,)
        return MnistResults(float((pred == data.y_test).mean()), int(len(data.y_test)), pred)

    def keras_code(self, spec: RunSpec) -> KerasCode:
        """Keras's MNIST loader scaled to [0, 1], RNN over rows -> softmax."""
        size = spec.data.train_size
        steps, width = step_shape(spec.data.rows_per_step)
        reshape = (
            f"x, x_test = x.reshape(-1, {steps}, {width}), x_test.reshape(-1, {steps}, {width})"
            f"  # {spec.data.rows_per_step} rows side by side per timestep\n"
        )
        data = _KERAS_DATA.format(
            train_size="None" if size is None else size, steps=steps, width=width,
            reshape=reshape if steps != SIDE else "",
        )  # fmt: skip
        return classifier_code(spec, data, f"({steps}, {width})", False, CLASSES)

    def stepper_choices(self, data: MnistData, limit: int) -> list[str]:
        """ "#i: a handwritten d" for the first ``limit`` test images."""
        n = min(limit, len(data.x_test))
        return [f"#{i}: a handwritten {int(data.y_test[i])}" for i in range(n)]

    def stepper_input(self, model: Any, data: MnistData, index: int, top: int) -> dict:
        """The RNN reads test digit ``index`` one pixel row per timestep."""
        from rnn_core.stepper.sources import mnist_input

        return mnist_input(model, data, index)
