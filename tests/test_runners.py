"""Both runners of one TrainingJob: the same snapshots, Stop within one batch, Train more."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine.job import TrainingJob
from rnn_core.engine.process import ProcessRunner, new_job
from rnn_core.engine.runner import Runner, ThreadRunner
from rnn_core.engine.slots import SlotPool

pytestmark = pytest.mark.process  # the child runner against the thread one
KINDS = ("thread", "process")
SPEC = RunSpec(
    task="addition",
    data=AdditionConfig(digits=2, train_size=300, test_size=30, seed=5),
    model=ModelConfig(cell="LSTM", units=8, layers=1, seed=5),
    train=TrainConfig(epochs=2, batch_size=32, publish_every=1, seed=5),
)


def _job(kind: str, epochs: int = 2) -> TrainingJob:
    """A fresh tiny addition job (same seeds every time) on the runner ``kind``."""
    from rnn_core.tasks import get_task

    task = get_task(SPEC.task)
    data = task.make_data(SPEC.data)
    model = task.build(SPEC, data)
    runner = ThreadRunner() if kind == "thread" else ProcessRunner(SPEC.task, data)
    cfg = TrainConfig(epochs=epochs, batch_size=32, publish_every=1, seed=5)
    job = new_job(model, SPEC.task, data, cfg, runner=runner)
    job.pool = SlotPool(2)  # not the process-wide pool: other tests' jobs do not queue it
    return job


@pytest.fixture(scope="module")
def trained() -> dict[str, tuple]:
    """Each runner: a 2-epoch call, then Train more by 1 epoch; (job, first, second)."""
    out = {}
    for kind in KINDS:
        job = _job(kind)
        job.start()
        first = job.wait(180)
        assert first.state == "done", first.error
        job.start(1)
        second = job.wait(180)
        assert second.state == "done", second.error
        out[kind] = (job, first, second)
    return out


def test_both_runners_satisfy_the_runner_protocol() -> None:
    assert isinstance(ThreadRunner(), Runner) and isinstance(
        ProcessRunner("addition", None), Runner
    )


def test_thread_and_child_runners_give_the_same_snapshots(trained) -> None:
    a, b = trained["thread"][1], trained["process"][1]
    assert (a.epoch, b.epoch) == (2, 2) and a.batches_per_epoch == b.batches_per_epoch
    assert len(a.batch_logs) == len(b.batch_logs) == 2 * a.batches_per_epoch
    for x, y in zip(a.epoch_logs, b.epoch_logs, strict=True):
        assert set(x) == set(y) >= {"epoch", "loss", "val_loss", "accuracy"}
        for key in set(x) - {"seconds"}:  # seconds: each runner's own clock
            assert x[key] == pytest.approx(y[key], rel=1e-3, abs=1e-5), key
    losses = ([log["loss"] for log in s.batch_logs] for s in (a, b))
    np.testing.assert_allclose(*losses, rtol=1e-3, atol=1e-5)
    assert [type(e) for e in a.epoch_extras] == [type(e) for e in b.epoch_extras]
    assert [e.exact_match for e in a.epoch_extras] == pytest.approx(
        [e.exact_match for e in b.epoch_extras], abs=1e-9
    )
    a3, b3 = trained["thread"][2], trained["process"][2]  # after Train more, still the same
    assert a3.epoch_logs[-1]["loss"] == pytest.approx(b3.epoch_logs[-1]["loss"], rel=1e-3)
    for kind in KINDS:  # the job's model holds the trained weights in both
        job = trained[kind][0]
        assert job.snapshot().samples_per_sec > 0 and job.snapshot().train_seconds > 0
    weights = [trained[k][0].model.get_weights() for k in KINDS]
    for x, y in zip(*weights, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_train_more_continues_the_model_and_its_curves(kind: str, trained) -> None:
    job, first, second = trained[kind]
    assert (first.epoch, second.epoch) == (2, 3)
    assert (second.call_start_epoch, second.epochs_target) == (2, 3)
    assert [log["epoch"] for log in second.epoch_logs] == [1.0, 2.0, 3.0]
    assert second.epoch_logs[:2] == first.epoch_logs  # the old curve is kept as it was
    assert second.batch_logs[: len(first.batch_logs)] == first.batch_logs
    steps = [log["step"] for log in second.batch_logs]
    assert steps == list(range(1, 3 * second.batches_per_epoch + 1))  # the curve continues
    assert second.train_seconds > first.train_seconds
    assert second.epoch_logs[2]["loss"] < first.epoch_logs[0]["loss"]  # it kept learning
    if kind == "process":  # the optimizer state crossed the calls in the checkpoint
        from rnn_core.export import model_from_bytes

        child = model_from_bytes(job.checkpoint)
        assert int(child.optimizer.iterations.numpy()) == 3 * second.batches_per_epoch


@pytest.mark.parametrize("kind", KINDS)
def test_stop_from_the_first_batch_ends_within_one_batch(kind: str) -> None:
    job = _job(kind, epochs=50)
    before = [w.copy() for w in job.model.get_weights()]

    def on_progress(snap) -> None:
        if snap.state == "running" and len(snap.batch_logs) == 1:
            job.stop()  # asked from the recorder's first batch callback

    job.on_progress = on_progress
    job.start()
    snap = job.wait(180)
    assert snap.state == "done" and snap.stopped_early, snap.error
    assert 1 <= len(snap.batch_logs) <= 2  # at most the batch already running when asked
    assert snap.epoch == 0 and not snap.epoch_logs
    after = job.model.get_weights()  # the batches that ran are in the job's model
    assert any(not np.array_equal(x, y) for x, y in zip(before, after, strict=True))
