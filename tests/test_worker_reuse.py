"""A worker reuses its last run's traced model for a run of the same architecture, exactly."""

from __future__ import annotations

import dataclasses
import gc
import threading
import weakref
from typing import NamedTuple

import numpy as np
import pytest

from rnn_core.config import AdditionConfig, ImdbConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine import worker
from rnn_core.engine.pool import model_key
from rnn_core.engine.process import model_state
from rnn_core.export import model_bytes, model_from_bytes
from rnn_core.tasks import get_task
from tests.tiny_data import write_imdb

pytestmark = pytest.mark.slow  # long: the warm worker trains models for every case, twice


def _addition(dropout: float = 0.25, **train: object) -> RunSpec:
    """A tiny addition run: 36 training questions, 3 batches (dropout draws every batch)."""
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=1, train_size=40, test_size=10, seed=4),
        model=ModelConfig(cell="LSTM", units=4, layers=1, dropout=dropout, seed=4),
        train=TrainConfig(**{"epochs": 1, "batch_size": 16, "publish_every": 1, "seed": 4} | train),
    )


def _changed(spec: RunSpec, change: dict) -> RunSpec:
    """``spec`` with ``change["model"]`` and ``change["train"]`` fields replaced."""
    return dataclasses.replace(
        spec,
        model=dataclasses.replace(spec.model, **change.get("model", {})),
        train=dataclasses.replace(spec.train, **change.get("train", {})),
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


def _traces(model: object) -> int:
    """How often the tf.functions behind the model's train and test functions have traced."""
    count = 0
    for fn in (model.train_function, model.test_function):
        for cell in fn.__closure__ or ():
            tf_function = cell.cell_contents
            if hasattr(tf_function, "experimental_get_tracing_count"):
                count += tf_function.experimental_get_tracing_count()
    return count


def _run_kept(request: dict) -> list[tuple]:
    """The request's frames on the kept model; fails unless it was reused and traced nothing."""
    hits, traces = worker._CACHE.hits, _traces(worker._CACHE.model)
    assert traces > 0
    frames = _run(request)
    assert worker._CACHE.hits == hits + 1, "the run did not reuse the kept model"
    assert _traces(worker._CACHE.model) == traces, "the kept model traced again"
    return frames


def _run_fresh(request: dict) -> list[tuple]:
    """The request's frames on a fresh model, as in a new worker (nothing kept before)."""
    worker._forget()
    return _run(request)


class Kept(NamedTuple):
    """A worker's kept model and its key, to put back before a test's run."""

    key: str
    model: object

    def restore(self) -> None:
        """Make this the worker's kept model again."""
        worker._forget()
        worker._CACHE.key, worker._CACHE.model = self.key, self.model


class Pair(NamedTuple):
    """One request's frames on a fresh model and on a kept one."""

    fresh: list[tuple]
    kept: list[tuple]


class Addition(NamedTuple):
    """The shared addition runs: the spec, its fresh/kept pair and the model it left kept."""

    spec: RunSpec
    pair: Pair
    kept: Kept
    names: set[str]  # optimizer names of the two requests: auto-generated, so they differ


@pytest.fixture(scope="module")
def addition() -> Addition:
    """Addition with dropout on a fresh model and on a kept one; the kept run's request was
    built after another model, so Keras auto-named its optimizer differently (``adam_1``)."""
    spec = _addition()
    first, second = _request(spec), _request(spec)
    names = {model_from_bytes(r["model"]).optimizer.name for r in (first, second)}
    _run_fresh(first)  # kept now: this architecture, trained and traced
    kept = _run_kept(second)
    fresh = _run_fresh(second)  # its model bytes name the optimizer as the kept run's
    return Addition(spec, Pair(fresh, kept), Kept(worker._CACHE.key, worker._CACHE.model), names)


@pytest.fixture(scope="module")
def train_more(addition: Addition) -> Pair:
    """Train more (1 epoch from the fresh run's checkpoint) on the kept model and a fresh one."""
    spec = addition.spec
    more = dataclasses.replace(spec, train=dataclasses.replace(spec.train, epochs=1))
    checkpoint = addition.pair.fresh[-1][3]  # model bytes, the optimizer's state after 1 epoch
    request = _request(more, checkpoint, initial=1)
    addition.kept.restore()
    kept = _run_kept(request)
    return Pair(_run_fresh(request), kept)


@pytest.fixture(scope="module")
def new_rate(addition: Addition) -> Pair:
    """The addition run at another learning rate (a variable: assigned, no retrace)."""
    request = _request(_changed(addition.spec, {"train": {"learning_rate": 0.02}}))
    addition.kept.restore()
    kept = _run_kept(request)
    return Pair(_run_fresh(request), kept)


@pytest.fixture(scope="module")
def imdb_spec(tmp_path_factory: pytest.TempPathFactory) -> RunSpec:
    """A 2-layer GRU classifier with dropout on tiny IMDB files (30 reviews: 2 batches)."""
    data_dir = write_imdb(tmp_path_factory.mktemp("imdb"), n_train=40, n_test=20)
    return RunSpec(
        task="imdb",
        data=ImdbConfig(num_words=40, maxlen=20, data_dir=str(data_dir), val_fraction=0.25),
        model=ModelConfig(cell="GRU", units=4, layers=2, dropout=0.3, embedding_dim=4, seed=2),
        train=TrainConfig(epochs=1, batch_size=16, publish_every=1, seed=2),
    )


@pytest.fixture(scope="module")
def imdb(imdb_spec: RunSpec) -> Pair:
    """The IMDB classifier on a fresh model and on the kept one."""
    request = _request(imdb_spec)
    fresh = _run_fresh(request)
    return Pair(fresh, _run_kept(request))


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
    """Same config (optimizer name included), weights and optimizer state in two model files."""
    ma, mb = model_from_bytes(a), model_from_bytes(b)
    assert ma.get_config() == mb.get_config()
    assert ma.get_compile_config() == mb.get_compile_config()
    for u, v in zip(
        ma.variables + ma.optimizer.variables, mb.variables + mb.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


@pytest.mark.parametrize("case", ["addition", "train_more", "new_rate", "imdb"])
def test_a_run_on_the_kept_model_is_the_fresh_run(
    case: str, request: pytest.FixtureRequest
) -> None:
    pair = request.getfixturevalue(case)
    if case == "addition":
        assert len(pair.names) == 2  # the kept run's optimizer had another auto-generated name
        pair = pair.pair
    assert sum(f[0] == "batch" for f in pair.fresh) >= 2
    _assert_same(pair.fresh, pair.kept)


def test_train_more_on_the_kept_model_trains_on(addition: Addition, train_more: Pair) -> None:
    checkpoint = addition.pair.fresh[-1][3]
    assert train_more.kept[-1][3] != checkpoint
    assert [f[1] for f in train_more.kept if f[0] == "epoch_end"] == [1]  # its second epoch


@pytest.mark.parametrize(
    ("change", "reused"),
    [
        ({"model": {"units": 5}}, False),
        ({"model": {"cell": "GRU"}}, False),
        ({"model": {"layers": 2}}, False),
        ({"train": {"batch_size": 8}}, False),
        ({"train": {"optimizer": "rmsprop"}}, False),
        ({"train": {"learning_rate": 0.02}}, True),
    ],
)
def test_only_a_new_learning_rate_keeps_the_kept_model(
    addition: Addition, change: dict, reused: bool
) -> None:
    """The model ``run`` would train after the shared run's model was kept: anything but a new
    learning rate gives the freshly loaded model itself (which trains as in a new worker)."""
    spec = _changed(addition.spec, change)
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    fresh = model_from_bytes(model_bytes(task.build(spec, data)))
    addition.kept.restore()
    hits = worker._CACHE.hits
    model = worker._reuse(fresh, model_key(fresh, spec.train, *task.splits(data)))
    assert model is (addition.kept.model if reused else fresh)
    assert worker._CACHE.model is model and worker._CACHE.hits == hits + reused


def test_at_most_one_model_is_kept_and_a_dropped_one_is_freed() -> None:
    spec = _addition(dropout=0.0)
    _run_fresh(_request(spec))  # kept: trained, its functions traced
    first = weakref.ref(worker._CACHE.model)
    worker._free()  # as between runs: the kept model is frozen with everything else
    try:
        other = _changed(spec, {"model": {"cell": "GRU"}})
        task = get_task(other.task)
        data = task.make_data(other.data)
        second = model_from_bytes(model_bytes(task.build(other, data)))
        worker._reuse(second, model_key(second, other.train, *task.splits(data)))  # first let go
        assert worker._CACHE.model is second
        del second
        worker._free()
        assert first() is None, "the model kept before is still alive"
    finally:
        gc.unfreeze()


def _by_bytes_and_by_state(spec: RunSpec) -> tuple[dict, dict]:
    """One server model's request twice, under the server's key: with the model's bytes, and
    with its state only (what a server sends a worker that holds the model)."""
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    base = {
        "task": spec.task,
        "data": data,
        "cfg": spec.train,
        "call": 1,
        "initial": 0,
        "target": spec.train.epochs,
        "key": model_key(model, spec.train, *task.splits(data)),
    }
    return base | {"model": model_bytes(model)}, base | {"model": None, "state": model_state(model)}


@pytest.mark.parametrize("case", ["addition", "imdb"])
def test_a_state_request_trains_the_kept_model_exactly_as_its_bytes_would(
    case: str, request: pytest.FixtureRequest
) -> None:
    spec = request.getfixturevalue("imdb_spec") if case == "imdb" else _addition()
    by_bytes, by_state = _by_bytes_and_by_state(spec)
    fresh = _run_fresh(by_bytes)  # kept now, under the server's key of this request
    kept = _run_kept(by_state)  # no model bytes at hand: it fails if the worker asks for them
    assert sum(f[0] == "batch" for f in fresh) >= 2
    _assert_same(fresh, kept)


def test_a_worker_that_does_not_hold_the_model_asks_for_its_bytes() -> None:
    by_bytes, by_state = _by_bytes_and_by_state(_addition())
    fresh = _run_fresh(by_bytes)
    other, _ = _by_bytes_and_by_state(_changed(_addition(), {"model": {"units": 5}}))
    for keep in (lambda: _run_fresh(other), worker._forget):  # another model kept; none
        keep()
        frames, asked = _run_fetching(by_state, by_bytes["model"])
        assert frames[0] == ("need_model",) and asked == 1
        _assert_same(fresh, frames[1:])


def _run_fetching(request: dict, blob: bytes) -> tuple[list[tuple], int]:
    """The request's frames, the worker fetching ``blob`` when it asks; how often it asked."""
    frames: list[tuple] = []
    asked: list[bool] = []

    def fetch() -> bytes:
        asked.append(True)
        return blob

    worker.run(request, lambda *m: frames.append(m), threading.Event(), fetch)
    return frames, len(asked)


def test_a_run_on_the_kept_model_keeps_tensorflows_instantiated_functions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Emptying TensorFlow's kernel cache (``clear_session``, ``tf.random.set_seed``) makes
    the kept model's next fit instantiate its functions again: about a second per Start."""
    from tensorflow.python.eager import context

    emptied: list[bool] = []
    real = context.pywrap_tfe.TFE_ContextClearCaches
    monkeypatch.setattr(
        context.pywrap_tfe, "TFE_ContextClearCaches", lambda h: emptied.append(True) or real(h)
    )
    by_bytes, by_state = _by_bytes_and_by_state(_addition())
    _run_fresh(by_bytes)
    worker._free()
    assert emptied  # a new model starts from a fresh process's empty cache
    emptied.clear()
    _run_kept(by_state)
    worker._free()
    assert emptied == []
