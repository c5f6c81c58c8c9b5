"""Training in a child process: same snapshots as the thread engine, no fit in this process."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pytest

from rnn_core.engine import worker as child
from rnn_core.engine.job import TrainingJob
from rnn_core.engine.pool import Worker, read_frame, write_frame
from rnn_core.engine.process import ProcessRunner, new_job
from rnn_core.engine.runner import Outcome, StopSignal, ThreadRunner
from rnn_core.engine.slots import SlotPool
from rnn_core.export import model_bytes, model_from_bytes
from rnn_core.run import Run
from tests.waiting import wait_until

pytestmark = pytest.mark.process  # training children, and children deaf to Stop


def _job(tiny_run, epochs: int = 2, **train) -> tuple[TrainingJob, object]:
    task, data, model, spec = tiny_run(epochs=epochs, **train)
    runner = ProcessRunner("addition", data)
    train_split, val = task.splits(data)
    job = TrainingJob(model, train_split, val, spec.train, pool=SlotPool(2), runner=runner)
    return job, data


def test_frames_round_trip_read_only_mappings() -> None:
    buf = io.BytesIO()
    message = ("epoch_end", 1, {"loss": 0.5}, MappingProxyType({"the": 1}), [np.arange(3)])
    write_frame(buf, message)
    write_frame(buf, "second")
    buf.seek(0)
    kind, epoch, logs, index, arrays = read_frame(buf)
    assert (kind, epoch, logs, dict(index)) == ("epoch_end", 1, {"loss": 0.5}, {"the": 1})
    assert isinstance(index, MappingProxyType) and np.array_equal(arrays[0], np.arange(3))
    assert read_frame(buf) == "second"


def test_child_trains_and_this_process_only_receives_weights(tiny_run) -> None:
    job, data = _job(tiny_run, epochs=2)
    before = [w.copy() for w in job.model.get_weights()]
    job.start()
    snap = job.wait(120)
    assert snap.state == "done", snap.error
    assert snap.epoch == 2 and len(snap.epoch_logs) == 2
    assert snap.batch_logs and snap.batch_logs[-1]["step"] == 2 * snap.batches_per_epoch
    assert all(0 <= e.exact_match <= 1 for e in snap.epoch_extras)  # the task's report, made there
    assert job.model.train_function is None  # no fit ran in this process
    after = job.model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    child = model_from_bytes(job.checkpoint)  # the child's final model, optimizer included
    for mine, theirs in zip(after, child.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert int(child.optimizer.iterations.numpy()) == 2 * snap.batches_per_epoch


def test_relay_uses_the_childs_batch_times_not_the_arrival_times(tiny_run) -> None:
    job, _ = _job(tiny_run, epochs=1)
    stream = io.BytesIO()  # a child's whole output, read at once: arrival times are all ~0
    write_frame(stream, ("epoch_begin",))
    for b in range(job.snapshot().batches_per_epoch):
        write_frame(stream, ("batch", b, {"loss": 1.0}, 0.25))  # each batch took 0.25 s
    write_frame(stream, ("done", False, job.model.get_weights(), b"checkpoint"))
    stream.seek(0)
    worker = SimpleNamespace(proc=SimpleNamespace(stdin=io.BytesIO(), stdout=stream))
    recorder = job.recorder
    recorder.queue(1)
    recorder.running()
    outcome = job.runner.relay(worker, 1, ("run", {}), job.model, recorder, StopSignal())
    assert outcome == Outcome(stopped=False, checkpoint=b"checkpoint")
    rate = job.snapshot().samples_per_sec
    assert rate == pytest.approx(job.cfg.batch_size / 0.25, rel=0.01)


def test_the_child_scores_the_test_set_and_this_process_scores_nothing(
    tiny_run, monkeypatch
) -> None:
    """The child sends the test results of the weights it ends with; the run takes them, and
    the page never runs the test set in the server."""
    task, data, model, spec = tiny_run(epochs=2)
    train_split, val = task.splits(data)
    runner = ProcessRunner("addition", data)
    job = TrainingJob(model, train_split, val, spec.train, pool=SlotPool(2), runner=runner)
    job.start()
    snap = job.wait(120)
    assert snap.state == "done" and not snap.scoring, snap.error
    here = task.evaluate(job.model, data)  # this process, on the weights the child sent
    assert snap.results is not None and snap.results.questions == len(data.y_test)
    assert snap.results.exact_match == here.exact_match
    np.testing.assert_array_equal(snap.results.predicted, here.predicted)

    def refuse(*args: object) -> None:
        raise AssertionError("the test set was scored in the server")

    monkeypatch.setattr(type(task), "evaluate", refuse)
    run = Run("r", spec, task, job, int(model.count_params()), data)
    assert run.score() is snap.results and run.scored() and run.results_epoch == 2
    job.start(1)  # Train more: the results of the last weights are not shown as the new ones'
    assert job.snapshot().results is None
    assert job.wait(120).results is not None


def test_relay_shows_the_scoring_and_returns_the_results_that_follow_done(tiny_run) -> None:
    job, _ = _job(tiny_run, epochs=1)
    stream = io.BytesIO()
    write_frame(stream, ("done", False, job.model.get_weights(), b"checkpoint", "", True))
    write_frame(stream, ("scored", {"exact_match": 0.5}))
    stream.seek(0)
    worker = SimpleNamespace(proc=SimpleNamespace(stdin=io.BytesIO(), stdout=stream))
    seen: list[bool] = []
    job.recorder.on_progress = lambda snap: seen.append(snap.scoring)
    job.recorder.queue(1)
    job.recorder.running()
    outcome = job.runner.relay(worker, 1, ("run", {}), job.model, job.recorder, StopSignal())
    assert outcome.results == {"exact_match": 0.5} and outcome.checkpoint == b"checkpoint"
    assert seen[-1] is True  # the panel said it was scoring while the results were awaited
    job.recorder.end(results=outcome.results)
    assert job.snapshot().results == {"exact_match": 0.5} and not job.snapshot().scoring


def test_stop_while_scoring_answers_at_once_and_the_run_waits_for_the_scoring(
    tiny_run, monkeypatch
) -> None:
    """Stop after the last epoch: ``scored`` (None) comes at once, and the worker's ``run``
    returns only once the scoring thread let the model go."""
    task, data, model, spec = tiny_run(epochs=1)
    release, scored_early = threading.Event(), []

    def slow_evaluate(self: object, model: object, data: object) -> None:
        release.wait(30)  # until the test has seen the answer

    monkeypatch.setattr(type(task), "evaluate", slow_evaluate)
    stop, frames = threading.Event(), []

    def send(*message: object) -> None:
        frames.append(message)
        if message[0] == "done":
            stop.set()  # Stop pressed as training ended
        if message[0] == "scored":
            scored_early.append(not release.is_set())
            release.set()

    request = {
        "task": "addition", "data": data, "cfg": spec.train, "call": 1, "initial": 0,
        "target": 1, "model": model_bytes(model), "score": True,
    }  # fmt: skip
    child.run(request, send, stop)
    kinds = [f[0] for f in frames]
    assert kinds[-2:] == ["done", "scored"] and frames[-1][1] is None
    assert scored_early == [True]  # the answer came while the scoring still ran
    assert not [t for t in threading.enumerate() if t.name == "score"]  # and it was waited for


def test_train_more_continues_from_the_childs_optimizer_state(tiny_run) -> None:
    job, _ = _job(tiny_run, epochs=1)
    job.start()
    assert job.wait(120).state == "done"
    job.start(1)
    snap = job.wait(120)
    assert snap.state == "done" and snap.epoch == 2 and len(snap.epoch_logs) == 2
    child = model_from_bytes(job.checkpoint)
    assert int(child.optimizer.iterations.numpy()) == 2 * snap.batches_per_epoch


def test_stop_ends_the_child_within_a_batch_and_keeps_its_weights(tiny_run) -> None:
    job, _ = _job(tiny_run, epochs=200)
    job.start()
    wait_until(lambda: job.snapshot().batch_logs, 120, what="the child's first batch")
    t0 = time.perf_counter()
    job.stop()
    snap = job.wait(60)
    assert snap.state == "done" and snap.stopped_early
    assert time.perf_counter() - t0 < 10
    assert snap.epoch < 200
    child = model_from_bytes(job.checkpoint)
    for mine, theirs in zip(job.model.get_weights(), child.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_killed_child_fails_the_run_with_a_reason(tiny_run) -> None:
    job, _ = _job(tiny_run, epochs=200)
    job.start()
    wait_until(lambda: job.snapshot().batch_logs, 120, what="the child's first batch")
    pid = job.runner.process.pid
    os.kill(pid, signal.SIGKILL)  # what the kernel does when memory runs out
    snap = job.wait(60)
    assert snap.state == "failed"
    assert "killed (signal 9)" in snap.error and "out of memory" in snap.error


def test_new_job_picks_the_process_unless_told_otherwise(tiny_run, monkeypatch) -> None:
    task, data, model, spec = tiny_run()
    monkeypatch.delenv("RNN_LAB_TRAIN_IN_THREAD", raising=False)
    child = new_job(model, "addition", data, spec.train)
    assert type(child) is TrainingJob and isinstance(child.runner, ProcessRunner)
    assert child.runner.task == "addition" and child.runner.data is data
    plain = new_job(model, "addition", data, spec.train, in_process=True)
    assert isinstance(plain.runner, ThreadRunner) and plain.on_epoch is not None
    monkeypatch.setenv("RNN_LAB_TRAIN_IN_THREAD", "1")
    assert isinstance(new_job(model, "addition", data, spec.train).runner, ThreadRunner)
    given = ProcessRunner("addition", data)
    assert new_job(model, "addition", data, spec.train, runner=given).runner is given


def test_stop_while_the_child_starts_ends_before_any_epoch(tiny_run) -> None:
    job, _ = _job(tiny_run, epochs=200)
    job.start()
    wait_until(lambda: job.runner.process is not None, 60, 0.01, "the child process")
    assert not job.snapshot().batch_logs
    job.stop()  # the child is still importing TensorFlow: no batch has run yet
    snap = job.wait(120)
    assert snap.state == "done" and snap.stopped_early, snap.error
    assert snap.epoch == 0 and len(snap.batch_logs) <= 1
    assert job.runner.process is None  # the child was reaped


def test_a_child_that_ignores_stop_is_killed_after_the_grace(monkeypatch, tmp_path) -> None:
    import subprocess
    import sys

    from rnn_core.engine import pool

    monkeypatch.setattr(pool, "STOP_GRACE_SECONDS", 0.5)
    hung = subprocess.Popen(  # reads nothing from stdin: deaf to "stop"
        [sys.executable, "-c", "import time; time.sleep(60)"], stdin=subprocess.PIPE
    )
    worker = Worker(hung, (tmp_path / "err").open("w+b"), cold=True)
    try:
        worker.stop(worker.begin())
        assert hung.wait(20) == -signal.SIGKILL  # killed once the grace ran out
    finally:
        hung.kill()
        hung.wait(5)
        hung.stdin.close()
        worker.errors.close()


def test_a_late_stop_does_not_reach_the_workers_next_run(monkeypatch, tmp_path) -> None:
    import subprocess
    import sys

    from rnn_core.engine import pool

    monkeypatch.setattr(pool, "STOP_GRACE_SECONDS", 0.5)
    idle = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.exit(len(sys.stdin.buffer.read()))"],
        stdin=subprocess.PIPE,
    )
    worker = Worker(idle, (tmp_path / "err").open("w+b"), cold=True)
    try:
        first = worker.begin()
        worker.end()  # the first run ended; its Stop listener fires late
        worker.begin()  # the worker serves the next run now
        worker.stop(first)
        time.sleep(1.5)  # three graces: a kill timer would have fired
        assert idle.poll() is None  # neither killed ...
        idle.stdin.close()
        assert idle.wait(20) == 0  # ... nor sent a byte (the exit code counts them)
    finally:
        idle.kill()
        idle.wait(5)
        worker.errors.close()
