"""Every registered task implements the Task protocol the same way (one parametrised test)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from pathlib import Path

import numpy as np
import pytest

from rnn_core import config as c
from rnn_core.config import ModelConfig, RunSpec, TrainConfig
from rnn_core.data.corpus import Corpus
from rnn_core.tasks import TASKS, Report, Results, Task
from rnn_core.tasks.forecast import ForecastConfig
from tests.tiny_data import write_imdb, write_mnist

keras = pytest.importorskip("keras")

TEXT = "the quick brown fox jumps over the lazy dog. " * 60  # 2,700 characters


def tiny_data_config(name: str, data_dir: Path) -> object:
    """A config of task ``name`` whose data the test wrote itself (or generates)."""
    if name == "addition":
        return c.AdditionConfig(digits=1, train_size=30, test_size=5, seed=2)
    if name == "imdb":
        return c.ImdbConfig(num_words=60, maxlen=12, train_size=40, data_dir=str(data_dir))
    if name == "mnist":
        return c.MnistConfig(train_size=40, data_dir=str(data_dir))
    if name == "text":
        return c.TextConfig(maxlen=8, step=4, sample_length=10, temperatures=(0.5,), seed=1)
    if name == "forecast":
        return ForecastConfig(length=120, window=6, seed=1)
    raise AssertionError(f"a new task {name!r}: add its tiny config to this test")


def tiny_source(task: Task, name: str, cfg: object) -> object:
    """The task's shared source for ``cfg`` (text: a corpus the test makes)."""
    if name == "text":
        return Corpus("tiny", TEXT, "a test string")
    return task.load_source(cfg)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Tiny imdb.npz, word index and mnist.npz in one folder."""
    folder = tmp_path_factory.mktemp("data")
    write_imdb(folder)
    write_mnist(folder)
    return folder


def test_every_task_subclasses_the_protocol() -> None:
    assert set(TASKS) >= {"addition", "imdb", "mnist", "text"}
    for name, task in TASKS.items():
        assert isinstance(task, Task) and task.info.name == name
        assert dataclasses.is_dataclass(task.data_config)
        assert issubclass(task.report_type, Report) and issubclass(task.results_type, Results)
        for cls in (task.report_type, task.results_type):
            assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]


def _params(method: object) -> tuple[tuple[str, bool], ...]:
    """(name, has a default) of each parameter of a bound method."""
    sig = inspect.signature(method)  # type: ignore[arg-type]
    return tuple((p.name, p.default is not p.empty) for p in sig.parameters.values())


def _required(method: object) -> tuple[str, ...]:
    """The parameters a caller must pass."""
    return tuple(name for name, optional in _params(method) if not optional)


def test_every_task_method_has_one_signature() -> None:
    for t in TASKS.values():
        assert _params(t.evaluate) == (("model", False), ("data", False))
        assert _params(t.make_data) == (("cfg", False), ("source", True))
        assert _params(t.predict) == (("model", False), ("x", False))
        assert _required(t.epoch_report) == ("data",)
        assert _required(t.build) == ("spec", "data") and _required(t.splits) == ("data",)
        assert "predict_ids" not in dir(t)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_conforms(name: str, data_dir: Path, tmp_path: Path) -> None:
    task = TASKS[name]
    cfg = tiny_data_config(name, data_dir)
    assert isinstance(cfg, task.data_config)
    key = task.source_key(cfg)
    assert key is None or isinstance(key, tuple)
    source = tiny_source(task, name, cfg)
    data = task.make_data(cfg, source)
    assert isinstance(data.note, str) and data.config == cfg
    (x_train, y_train), val = task.splits(data)
    assert len(x_train) == len(y_train) > 0
    assert val is None or len(val[0]) == len(val[1])

    default = task.default_spec()
    assert default.task == name and isinstance(default.data, task.data_config)
    assert all(p.spec.task == name for p in task.presets().values())
    cell = task.cells[0]
    spec = RunSpec(
        task=name, data=cfg, model=ModelConfig(cell=cell, units=4, embedding_dim=4, seed=1),
        train=TrainConfig(epochs=1, batch_size=16),
    )  # fmt: skip
    model = task.build(spec, data)
    assert len(task.predict(model, x_train[:3])) == 3

    report = task.epoch_report(data)(model, 1)
    assert isinstance(report, task.report_type)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(report, dataclasses.fields(report)[0].name, None)
    assert isinstance(report.score, float)
    assert pickle.loads(pickle.dumps(report)) == report  # crosses the process boundary
    assert task.report_from_plain(report.to_plain()) == report  # and snapshot JSON
    assert task.report_from_plain(None) is None

    results = task.evaluate(model, data)
    assert isinstance(results, task.results_type)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(results, dataclasses.fields(results)[0].name, None)
    scores = results.scores()
    assert scores and all(isinstance(v, int | float) for v in scores.values())
    assert task.results_from_plain(scores).scores() == scores
    label, value = results.headline
    assert isinstance(label, str) and value == pytest.approx(float(value))

    code = task.keras_code(spec)
    assert code is None or (code.model[0].startswith("inputs = ") and code.loss)
    if task.steppable:
        choices = task.stepper_choices(data, 2)
        assert len(choices) == 2 and all(c.startswith("#") for c in choices)
    else:
        with pytest.raises(ValueError, match="does not know"):
            task.stepper_choices(data, 2)

    path = tmp_path / "model.keras"
    task.save(model, data, str(path))
    companion = task.companion(data)
    assert path.is_file()
    if companion is not None:
        assert Path(str(path) + companion[0]).read_text() == companion[1]


def test_steppable_tasks_give_stepper_fields(data_dir: Path) -> None:
    from rnn_core.stepper.sources import trained_input

    for name, task in TASKS.items():
        if not task.steppable:
            continue
        cfg = tiny_data_config(name, data_dir)
        data = task.make_data(cfg, tiny_source(task, name, cfg))
        spec = RunSpec(task=name, data=cfg, model=ModelConfig(cell="GRU", units=3, seed=1))
        inp = trained_input(task.build(spec, data), name, data, 0, "t")
        assert inp.x.shape[0] == len(inp.labels) and inp.layers[-1].units == 3
        assert np.isfinite(inp.x).all()
