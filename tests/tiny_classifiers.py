"""Tiny IMDB- and MNIST-shaped models and data for stepper tests (generated, no data files).

The models come from the app's own builder (``build_sequence_classifier``); the data objects
carry the fields the stepper reads from a run's data: ``x_test``, ``y_test``, ``word_index``
(IMDB) and ``config``.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from rnn_core.config import ImdbConfig, MnistConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.tasks.mnist import step_shape

VOCAB, MAXLEN = 40, 14  # IMDB: word ids below VOCAB, reviews padded to MAXLEN tokens


def imdb_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Any]:
    """(x (n, MAXLEN) ids pre-padded with 0 and starting with <START>=1, y (n,), data)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, MAXLEN), np.int32)  # (N, T)
    for i in range(n):
        k = int(rng.integers(3, MAXLEN + 1))
        x[i, MAXLEN - k :] = np.r_[1, rng.integers(3, VOCAB, k - 1)]  # <START> then words
    y = rng.integers(0, 2, n).astype(np.float32)  # (N,)
    word_index = {f"w{r}": r for r in range(1, VOCAB - 3)}  # model id = rank + 3
    data = types.SimpleNamespace(
        x_test=x[:10], y_test=y[:10], word_index=word_index, config=ImdbConfig(maxlen=MAXLEN)
    )
    return x, y, data


def mnist_data(
    n: int = 64, seed: int = 1, rows_per_step: int = 1
) -> tuple[np.ndarray, np.ndarray, Any]:
    """(x (n, T, F) pixels in [0, 1), y (n,) digits, data): T = 28 / rows_per_step steps."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28)).astype(np.float32)  # (N, rows, cols)
    x = x.reshape(n, *step_shape(rows_per_step))  # (N, T, F)
    y = rng.integers(0, 10, n)  # (N,)
    cfg = MnistConfig(rows_per_step=rows_per_step)
    return x, y, types.SimpleNamespace(x_test=x[:10], y_test=y[:10], config=cfg)


def spec(
    task: str,
    cell: str,
    units: int,
    layers: int,
    seed: int = 3,
    rows_per_step: int = 1,
    pooling: str = "last",
) -> RunSpec:
    """A run spec for a tiny classifier of ``task`` ("imdb" or "mnist")."""
    cfg = ImdbConfig(maxlen=MAXLEN) if task == "imdb" else MnistConfig(rows_per_step=rows_per_step)
    model = ModelConfig(
        cell=cell, units=units, layers=layers, embedding_dim=5, seed=seed, pooling=pooling
    )
    return RunSpec(task=task, data=cfg, model=model, train=TrainConfig(epochs=1, batch_size=32))


def build(run_spec: RunSpec) -> Any:
    """The compiled Keras classifier for a tiny spec, as the Train page builds it."""
    from rnn_core.models import build_sequence_classifier, compile_model

    if run_spec.task == "imdb":
        model = build_sequence_classifier(run_spec.model, (MAXLEN,), 2, VOCAB)
        compile_model(model, run_spec.train, "binary_crossentropy", ["accuracy"])
    else:
        shape = step_shape(run_spec.data.rows_per_step)  # (T, F)
        model = build_sequence_classifier(run_spec.model, shape, 10)
        compile_model(model, run_spec.train, "sparse_categorical_crossentropy", ["accuracy"])
    return model
