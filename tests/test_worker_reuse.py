"""A worker reuses its last run's traced model for a run of the same architecture, exactly."""

from __future__ import annotations

import dataclasses
import gc
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import AdditionConfig, ImdbConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine import worker
from rnn_core.export import model_bytes
from rnn_core.tasks import get_task
from tests.tiny_data import write_imdb


def _addition(dropout: float = 0.25, **train: object) -> RunSpec:
    """A tiny addition run (dropout draws random numbers every batch)."""
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=2, train_size=200, test_size=20, seed=4),
        model=ModelConfig(cell="LSTM", units=8, layers=1, dropout=dropout, seed=4),
        train=TrainConfig(**{"epochs": 2, "batch_size": 32, "publish_every": 1, "seed": 4} | train),
    )


def _request(spec: RunSpec, checkpoint: bytes | None = None, initial: int = 0) -> dict:
    """The request a server sends for ``spec`` (``checkpoint``: Train more from there)."""
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    return {
        "task": spec.task,
        "data": data,
        "cfg": spec.train,
        "call": 1 if checkpoint is None else 2,
        "initial": initial,
        "target": initial + spec.train.epochs,
        "model": checkpoint or model_bytes(task.build(spec, data)),
    }


def _run(request: dict) -> list[tuple]:
    """Every frame the worker's ``run`` sends for the request."""
    frames: list[tuple] = []
    worker.run(request, lambda *m: frames.append(m), threading.Event())
    return frames


def _assert_same(a: list[tuple], b: list[tuple]) -> None:
    """Same frames: batch and epoch logs, reports, weights every epoch and at the end."""
    assert [f[0] for f in a] == [f[0] for f in b]
    for x, y in zip(a, b, strict=True):
        if x[0] == "batch":
            assert x[1:3] == y[1:3]  # batch index, logs (loss, metrics) exactly
        elif x[0] == "epoch_end":
            assert x[1] == y[1]
            assert _untimed(x[2]) == _untimed(y[2])  # loss, metrics, validation exactly
            assert repr(x[3]) == repr(y[3])  # the task's epoch report
            for u, v in zip(x[4], y[4], strict=True):
                np.testing.assert_array_equal(u, v)
        elif x[0] == "done":
            assert x[1] == y[1] and x[4:] == y[4:]
            for u, v in zip(x[2], y[2], strict=True):
                np.testing.assert_array_equal(u, v)
            _assert_same_checkpoint(x[3], y[3])


def _untimed(logs: dict) -> dict:
    """An epoch's logs without its wall time."""
    return {k: v for k, v in logs.items() if k != "seconds"}


def _assert_same_checkpoint(a: bytes, b: bytes) -> None:
    """Same config, weights and optimizer state in two model files."""
    from rnn_core.export import model_from_bytes

    ma, mb = model_from_bytes(a), model_from_bytes(b)
    assert ma.get_config() == mb.get_config()
    assert ma.get_compile_config() == mb.get_compile_config()
    for u, v in zip(
        ma.variables + ma.optimizer.variables, mb.variables + mb.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def _traces(model: object) -> int:
    """How often the tf.functions behind the model's train and test functions have traced."""
    count = 0
    for fn in (model.train_function, model.test_function):
        for cell in fn.__closure__ or ():
            tf_function = cell.cell_contents
            if hasattr(tf_function, "experimental_get_tracing_count"):
                count += tf_function.experimental_get_tracing_count()
    return count


def _fresh_then_kept(request: dict) -> tuple[list[tuple], list[tuple]]:
    """The request's frames on a fresh model, then again on the model that run left kept
    (which traces nothing anew)."""
    worker._forget()
    fresh = _run(request)
    hits, traces = worker._CACHE.hits, _traces(worker._CACHE.model)
    assert traces > 0
    kept = _run(request)  # the kept model: trained, its seeds and moments moved on; reset here
    assert worker._CACHE.hits == hits + 1, "the second run did not reuse the kept model"
    assert _traces(worker._CACHE.model) == traces, "the kept model traced again"
    return fresh, kept


def test_an_addition_run_on_the_kept_model_is_the_fresh_run() -> None:
    fresh, kept = _fresh_then_kept(_request(_addition()))
    _assert_same(fresh, kept)


def test_train_more_on_the_kept_model_is_train_more_on_a_fresh_one() -> None:
    spec = _addition()
    first = _run(_request(spec))
    checkpoint = first[-1][3]  # model bytes with the optimizer's state after 2 epochs
    more = dataclasses.replace(spec, train=dataclasses.replace(spec.train, epochs=1))
    fresh, kept = _fresh_then_kept(_request(more, checkpoint, initial=2))
    _assert_same(fresh, kept)
    assert kept[-1][3] != checkpoint


@pytest.fixture(scope="module")
def imdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny IMDB files."""
    return write_imdb(tmp_path_factory.mktemp("imdb"))


def test_a_classifier_with_dropout_on_the_kept_model_is_the_fresh_run(imdb_dir: Path) -> None:
    spec = RunSpec(
        task="imdb",
        data=ImdbConfig(num_words=40, maxlen=20, data_dir=str(imdb_dir), val_fraction=0.25),
        model=ModelConfig(cell="GRU", units=6, layers=2, dropout=0.3, embedding_dim=5, seed=2),
        train=TrainConfig(epochs=2, batch_size=16, publish_every=1, seed=2),
    )
    fresh, kept = _fresh_then_kept(_request(spec))
    _assert_same(fresh, kept)


@pytest.mark.parametrize(
    "change",
    [
        {"model": {"units": 9}},
        {"model": {"cell": "GRU"}},
        {"model": {"layers": 2}},
        {"train": {"batch_size": 16}},
        {"train": {"optimizer": "rmsprop"}},
        {"train": {"learning_rate": 0.02}},
    ],
)
def test_a_changed_run_after_a_kept_model_is_the_fresh_run(change: dict) -> None:
    base = _addition()
    spec = dataclasses.replace(
        base,
        model=dataclasses.replace(base.model, **change.get("model", {})),
        train=dataclasses.replace(base.train, **change.get("train", {})),
    )
    worker._forget()
    _run(_request(base))  # kept now: the base architecture, trained
    hits = worker._CACHE.hits
    after = _run(_request(spec))
    reused = worker._CACHE.hits == hits + 1
    assert reused == ("learning_rate" in change.get("train", {}))  # only a new rate is assigned
    worker._forget()
    fresh = _run(_request(spec))
    _assert_same(fresh, after)


def test_at_most_one_model_is_kept_and_a_dropped_one_is_freed() -> None:
    worker._forget()
    _run(_request(_addition()))
    first = weakref.ref(worker._CACHE.model)
    worker._free()  # as between runs: the kept model is frozen with everything else
    try:
        _run(_request(_addition(dropout=0.0)))  # another architecture: the first is let go
        assert worker._CACHE.model is not first()
        worker._free()
        assert first() is None, "the model kept before is still alive"
    finally:
        gc.unfreeze()


def test_a_model_built_after_others_still_reuses_the_kept_one() -> None:
    worker._forget()
    first = _request(_addition())
    second = _request(_addition())  # built right after: Keras names its optimizer "adam_1"
    _run(first)
    hits = worker._CACHE.hits
    kept = _run(second)
    assert worker._CACHE.hits == hits + 1, "an auto-generated name kept the model from reuse"
    worker._forget()
    _assert_same(_run(second), kept)  # its model bytes name the optimizer as the fresh run's
