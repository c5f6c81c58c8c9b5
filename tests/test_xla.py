"""XLA (``TrainConfig.jit_compile``): compiled as asked, refused with batching by length, kept
apart from a non-XLA model by the warm workers, and named by the CLI and the exported script."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnn_core.config import ImdbConfig, RunSpec, TrainConfig
from rnn_core.engine.job import SlotPool, TrainingJob
from rnn_core.engine.pool import model_key
from rnn_core.export import keras_code
from tests.conftest import tiny_spec


def test_the_model_is_compiled_with_xla_only_when_asked(tiny_run) -> None:
    losses = {}
    for xla in (False, True):
        task, data, model, spec = tiny_run(epochs=2, jit_compile=xla)
        assert model.get_compile_config()["jit_compile"] is xla
        train, val = task.splits(data)
        job = TrainingJob(model, train, val, spec.train, pool=SlotPool(1))
        job.start()
        snap = job.wait(120)
        assert snap.state == "done" and snap.epoch == 2, snap.error
        losses[xla] = [e["loss"] for e in snap.epoch_logs]
    assert losses[True][1] < losses[True][0]  # it learns
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-3)  # the same training


def test_a_warm_worker_does_not_reuse_a_model_compiled_the_other_way(tiny_run) -> None:
    keys = []
    for xla in (False, True):
        task, data, model, spec = tiny_run(jit_compile=xla)
        train, val = task.splits(data)
        keys.append(model_key(model, spec.train, train, val))
    assert keys[0] != keys[1]


def test_xla_with_batching_by_length_is_one_clear_error_before_any_data() -> None:
    from rnn_core.run import start_run

    spec = RunSpec(
        task="imdb",
        data=ImdbConfig(data_dir="/nonexistent/folder"),  # never read: refused first
        train=TrainConfig(batch_by_length=True, jit_compile=True),
    )
    with pytest.raises(ValueError, match="XLA compiles one program per batch shape"):
        start_run(spec, None, in_process=True)


def test_the_cli_flag_and_the_exported_script() -> None:
    from rnn_core.cli import build_parser, spec_from_args

    spec = spec_from_args(build_parser().parse_args(["train", "--preset", "text-fast"]))
    assert spec.train.jit_compile
    off = spec_from_args(build_parser().parse_args(["train", "--preset", "text-fast", "--no-xla"]))
    assert not off.train.jit_compile
    on = spec_from_args(build_parser().parse_args(["train", "--task", "addition", "--xla"]))
    assert on.train.jit_compile
    base = tiny_spec()
    line = next(s for s in keras_code(base).splitlines() if s.startswith("model.compile("))
    assert "jit_compile" not in line
    xla = replace(base, train=replace(base.train, jit_compile=True))
    line = next(s for s in keras_code(xla).splitlines() if s.startswith("model.compile("))
    assert line.endswith('metrics=["accuracy"], jit_compile=True)')


def test_a_refused_xla_run_says_turning_xla_off_saves_memory(tiny_run, tmp_path) -> None:
    from rnn_core.engine.memory import Memory
    from tests.test_memory import SERVER, _proc, _v2

    for xla in (False, True):
        book = Memory(_v2(tmp_path, str(1 << 30)), _proc(tmp_path, "0::/app/web\n"), pid=SERVER)
        task, data, model, spec = tiny_run(epochs=1, jit_compile=xla)
        train, val = task.splits(data)
        job = TrainingJob(model, train, val, spec.train, pool=SlotPool(2, book))
        job.memory_need = 2 << 30
        job.start()
        snap = job.wait(30)
        assert snap.state == "failed" and snap.error.startswith("Not started: this run needs")
        assert ("turn off Compile with XLA (256 MB less)" in snap.error) is xla, snap.error


def test_an_xla_run_is_admitted_on_a_larger_memory_estimate() -> None:
    from rnn_core.engine.memory import MB, XLA_EXTRA, estimate
    from rnn_core.tasks import get_task

    spec = tiny_spec()
    data = get_task("addition").make_data(spec.data)
    plain = estimate("addition", data, spec.model, spec.train, 1_000)
    xla = estimate("addition", data, spec.model, replace(spec.train, jit_compile=True), 1_000)
    assert xla - plain == XLA_EXTRA * MB  # measured: XLA added 121-248 MB to a child
