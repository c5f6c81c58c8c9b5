"""Shared fixtures: tiny generated data and models, so unit tests run in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fresh_tab_store():
    """Each test starts with an empty tab store: AppTest sessions never end, so the store
    (pages/_tabs.py) would otherwise keep every test's runs alive."""
    yield
    import sys

    tabs = sys.modules.get("pages._tabs")
    if tabs is not None:
        tabs._STORE = None


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
