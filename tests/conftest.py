"""Shared fixtures: tiny generated data and models, so unit tests run in seconds."""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from tests.browser import why_no_browser
from tests.skip_policy import SHARED_DATA
from tests.skip_policy import pytest_configure as pytest_configure  # the skip policy, for all

# no warm training workers in test processes (an AppTest of app.py would start them); tests of
# the pool make their own, and a browser test's server gets this too unless the test sets it
os.environ.setdefault("RNN_LAB_WARM_WORKERS", "0")


def share_the_cores(env: MutableMapping[str, str]) -> None:
    """In a pytest-xdist worker (``make test``), TensorFlow's thread pools get the worker's share
    of the cores, as a training child's do, not one thread per core each: the workers' pools
    would spin against each other. Set in ``env`` before TensorFlow starts; a value set stays."""
    workers = env.get("PYTEST_XDIST_WORKER_COUNT", "")
    if workers.isdigit():
        from rnn_core.engine.memory import slot_threads

        for var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            env.setdefault(var, str(slot_threads(int(workers))))


share_the_cores(os.environ)

pytest_plugins = ["pytester"]  # for the tests of the suite's own plugins
REPO = Path(__file__).resolve().parents[1]
__all__ = ["REPO", "SHARED_DATA"]


@pytest.fixture(scope="session", autouse=True)
def _train_in_thread() -> Iterator[None]:
    """Trainings started by pages and runs train in a thread of the test process, which has
    TensorFlow imported already (a child process spends seconds importing it). The child path
    keeps its own tests: test_train_process, test_runners, and every browser test's server."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNN_LAB_TRAIN_IN_THREAD", os.environ.get("RNN_LAB_TRAIN_IN_THREAD", "1"))
        yield


PG_ENV = "RNN_LAB_TEST_POSTGRES_URL"  # the PostgreSQL server of the board's tests
PG_SKIP = (
    f"no PostgreSQL: set {PG_ENV}=postgresql+psycopg2://USER@HOST:PORT/DB to run the board's "
    "PostgreSQL tests (.ci/run starts a throwaway server and sets it)"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Browser tests skip, all on one summary line, when Playwright or Chromium is missing;
    PostgreSQL tests likewise when no server is given."""
    if item.get_closest_marker("browser") and (reason := why_no_browser()):
        pytest.skip(reason)
    if item.get_closest_marker("postgres") and not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP)


@pytest.fixture(autouse=True)
def _fresh_tab_store():
    """Each test starts with an empty tab store and no shared trainings: AppTest sessions never
    end, so the store (pages/_tabs.py) would otherwise keep every test's runs alive."""
    yield
    import sys

    tabs = sys.modules.get("pages._tabs")
    if tabs is not None:
        tabs._STORE = None
    common = sys.modules.get("pages.common")
    if common is not None:  # nor share one test's trainings with the next (engine/sharing.py)
        common._SHARED = None


def tiny_spec(cell: str = "LSTM", epochs: int = 2, **train: object) -> RunSpec:
    """A 2-digit addition run small enough to train in about a second."""
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=2, train_size=400, test_size=50, seed=1),
        model=ModelConfig(cell=cell, units=8, layers=1, seed=1),
        train=TrainConfig(epochs=epochs, batch_size=32, publish_every=1, **train),
    )


@pytest.fixture
def tiny_run():
    """Factory: (task, data, model, spec) for a tiny addition run."""
    from rnn_core.tasks import get_task

    def make(cell: str = "LSTM", epochs: int = 2, **train: object):
        spec = tiny_spec(cell, epochs, **train)
        task = get_task("addition")
        data = task.make_data(spec.data)
        return task, data, task.build(spec, data), spec

    return make


@pytest.fixture(scope="session")
def trained_tiny_run() -> Any:
    """A tiny addition run (``tiny_spec()``, 2 epochs) trained in-thread and scored, once for
    the session: for tests that only read a trained run (it is not to be trained further)."""
    from rnn_core.run import start_run

    run = start_run(tiny_spec(), None, in_process=True)
    run.job.start()
    snap = run.job.wait(120)
    assert snap.state == "done" and snap.epoch == 2, snap.error
    run.score()
    return run


class ReusedModel:
    """One compiled model shared by the tests of a module, each starting from its built state.

    Keras traces a model's train, test and predict steps on their first call (seconds of CPU
    for a tiny LSTM, where a tiny epoch costs a fraction of one); a new model per test pays
    that every time. :meth:`reset` puts back the weights and the optimizer state (step count,
    moments) the model had when built, so a test sees what a freshly built model would give.
    """

    def __init__(self, model: Any) -> None:
        """Keep ``model`` (compiled) and its initial weights and optimizer state."""
        model.optimizer.build(model.trainable_variables)  # its state exists before any step
        self.model = model
        self._weights = [w.copy() for w in model.get_weights()]
        self._optimizer = [np.array(v) for v in model.optimizer.variables]

    def reset(self) -> Any:
        """Return the model with its initial weights and a fresh optimizer state."""
        self.model.set_weights(self._weights)
        for var, value in zip(self.model.optimizer.variables, self._optimizer, strict=True):
            var.assign(value)
        return self.model


def train_through_engine(spec: RunSpec, timeout: float = 60) -> tuple:
    """(task, data, model, snapshot): build ``spec``'s model and train it in-thread to the end."""
    from rnn_core.engine.job import TrainingJob
    from rnn_core.tasks import get_task

    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, on_epoch=task.epoch_report(data))
    job.start()
    snap = job.wait(timeout)
    assert snap.state == "done", snap.error
    return task, data, model, snap
