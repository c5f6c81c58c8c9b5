"""Warm worker pool: a reused worker trains as a fresh one, stops, trains more, is recycled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine.job import TrainingJob
from rnn_core.engine.pool import WorkerPool, anonymous_mb
from rnn_core.engine.process import ProcessRunner, new_job
from rnn_core.engine.slots import SlotPool
from rnn_core.export import model_from_bytes
from tests.waiting import wait_until

pytestmark = pytest.mark.process  # warm workers: child processes that import TensorFlow
REPO = Path(__file__).resolve().parents[1]
WAIT = 300  # seconds: generous, the machine is shared


def _spec(cell: str = "LSTM", dropout: float = 0.0, seed: int = 5, epochs: int = 2) -> RunSpec:
    """A tiny addition run."""
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=2, train_size=300, test_size=30, seed=seed),
        model=ModelConfig(cell=cell, units=8, layers=1, dropout=dropout, seed=seed),
        train=TrainConfig(epochs=epochs, batch_size=32, publish_every=1, seed=seed),
    )


def _job(spec: RunSpec, pool: WorkerPool) -> TrainingJob:
    """A fresh job for ``spec`` whose runner borrows from ``pool``."""
    from rnn_core.tasks import get_task

    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    job = new_job(model, spec.task, data, spec.train, runner=ProcessRunner(spec.task, data, pool))
    job.pool = SlotPool(2)  # not the process-wide slots
    return job


def _train(spec: RunSpec, pool: WorkerPool) -> TrainingJob:
    """Train ``spec`` to the end on ``pool``; the job."""
    job = _job(spec, pool)
    job.start()
    snap = job.wait(WAIT)
    assert snap.state == "done", snap.error
    return job


def _first_batch(job: TrainingJob) -> None:
    """Wait (bounded) until the job has reported a batch."""
    deadline = time.time() + WAIT
    while not job.snapshot().batch_logs and time.time() < deadline:
        time.sleep(0.05)
    assert job.snapshot().batch_logs


@pytest.fixture(scope="module")
def pool():
    """One warm worker, reused by every test here that does not say otherwise."""
    pool = WorkerPool(1, max_runs=1000, max_anonymous_mb=10_000)
    pool.warm()
    assert pool.wait_idle(1, WAIT)
    yield pool
    pool.close()


def test_a_reused_worker_trains_exactly_as_a_fresh_one(pool) -> None:
    other = _train(_spec("GRU", dropout=0.3, seed=9, epochs=1), pool)  # leaves its state behind
    spec = _spec("LSTM", dropout=0.25)  # dropout draws random numbers every batch
    reused = _train(spec, pool)
    assert reused.runner.worker_pid == other.runner.worker_pid  # the same process, again
    fresh = _train(spec, WorkerPool(0))  # a worker started for this run alone
    assert fresh.runner.worker_pid != reused.runner.worker_pid
    a, b = reused.snapshot(), fresh.snapshot()
    assert len(a.batch_logs) == len(b.batch_logs) == 2 * a.batches_per_epoch
    for x, y in zip(a.batch_logs, b.batch_logs, strict=True):
        assert x["loss"] == y["loss"] and x["accuracy"] == y["accuracy"]
    for x, y in zip(a.epoch_logs, b.epoch_logs, strict=True):
        assert {k: v for k, v in x.items() if k != "seconds"} == {
            k: v for k, v in y.items() if k != "seconds"
        }
    assert [e.exact_match for e in a.epoch_extras] == [e.exact_match for e in b.epoch_extras]
    for x, y in zip(reused.model.get_weights(), fresh.model.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_repeated_start_hands_the_worker_no_model_and_trains_the_same(
    pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnn_core.engine.process as process

    spec = _spec("LSTM", dropout=0.25, seed=11, epochs=1)
    first = _train(spec, pool)  # the worker keeps this model now
    serialised: list[object] = []
    real = process.model_bytes
    monkeypatch.setattr(process, "model_bytes", lambda m: serialised.append(m) or real(m))
    again = _train(spec, pool)  # the same settings again: only the new model's state is sent
    assert again.runner.worker_pid == first.runner.worker_pid
    assert serialised == []  # no model bytes made, none asked for by the worker
    a, b = first.snapshot(), again.snapshot()
    assert len(a.batch_logs) == a.batches_per_epoch >= 2
    assert [x["loss"] for x in a.batch_logs] == [x["loss"] for x in b.batch_logs]
    for x, y in zip(first.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    again.start(1)  # Train more goes on from the worker's checkpoint, as before
    snap = again.wait(WAIT)
    assert snap.state == "done" and snap.epoch == 2, snap.error
    assert serialised == []


def test_stop_ends_a_reused_worker_within_a_batch_and_it_serves_on(pool) -> None:
    _train(_spec(epochs=1), pool)  # the worker has served a run before
    job = _job(_spec(epochs=200), pool)
    job.start()
    _first_batch(job)
    pid = job.runner.worker_pid
    t0 = time.perf_counter()
    job.stop()
    snap = job.wait(60)
    assert snap.state == "done" and snap.stopped_early, snap.error
    assert time.perf_counter() - t0 < 10 and snap.epoch < 200
    assert pool.wait_idle(1, WAIT) and pool.idle[0].pid == pid  # it went back to the pool
    job.start(1)  # Train more, on the same worker: the earlier Stop does not reach it
    after = job.wait(WAIT)
    assert after.state == "done" and not after.stopped_early, after.error
    assert job.runner.worker_pid == pid
    assert after.epoch == snap.epoch + 1


def test_train_more_continues_in_the_pool(pool) -> None:
    job = _job(_spec(epochs=1), pool)
    job.start()
    assert job.wait(WAIT).state == "done"
    first = job.runner.worker_pid
    job.start(2)
    snap = job.wait(WAIT)
    assert snap.state == "done" and snap.epoch == 3, snap.error
    assert job.runner.worker_pid == first
    child = model_from_bytes(job.checkpoint)
    assert int(child.optimizer.iterations.numpy()) == 3 * snap.batches_per_epoch


def test_a_worker_killed_while_idle_is_replaced(pool) -> None:
    assert pool.wait_idle(1, WAIT)
    victim = pool.idle[0]
    os.kill(victim.pid, signal.SIGKILL)  # what the kernel does when memory runs out
    job = _train(_spec(epochs=1), pool)  # taken at once: the dead one is noticed and replaced
    assert job.runner.worker_pid != victim.pid
    assert victim.proc.poll() == -signal.SIGKILL  # reaped, no zombie left
    assert pool.wait_idle(1, WAIT) and pool.idle[0].alive()


def test_a_worker_is_recycled_after_its_runs_and_above_its_memory_bound(pool) -> None:
    assert pool.wait_idle(1, WAIT)
    worker = pool.idle[0]
    retired = pool.retired
    pool.max_runs = worker.runs + 1  # one more run, then it is replaced
    try:
        last = _train(_spec(epochs=1), pool)
        assert last.runner.worker_pid == worker.pid
        # ended on end-of-file (or killed after the grace if its clean-up ran long), reaped
        assert worker.proc.wait(WAIT) in (0, -signal.SIGKILL)
        assert pool.retired == retired + 1
        nxt = _train(_spec(epochs=1), pool)
        assert nxt.runner.worker_pid != worker.pid
    finally:
        pool.max_runs = 1000
    assert pool.wait_idle(1, WAIT)
    heavy = pool.idle[0]
    assert anonymous_mb(heavy.pid) > 50  # TensorFlow alone holds more than this
    pool.max_anonymous_mb = 50  # every worker is now above the bound after a run
    try:
        done = _train(_spec(epochs=1), pool)
        assert done.runner.worker_pid == heavy.pid
        assert heavy.proc.wait(WAIT) == 0  # replaced, idle, once it said ready again
    finally:
        pool.max_anonymous_mb = 10_000


def test_pool_workers_end_when_their_server_is_killed(tmp_path) -> None:
    script = tmp_path / "server.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, time
            from rnn_core.engine.pool import WorkerPool
            pool = WorkerPool(1)
            pool.warm()
            deadline = time.time() + 60
            while not pool.owned and time.time() < deadline:
                time.sleep(0.05)
            print(next(iter(pool.owned)).pid, flush=True)
            time.sleep(2)  # the worker is importing TensorFlow now, far from ready
            os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no cleanup of any kind
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=WAIT
    )
    assert server.returncode == -signal.SIGKILL, server.stderr
    pid = int(server.stdout.split()[0])
    deadline = time.time() + 30
    while _running(pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _running(pid), "a warm worker outlived its server"


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_per_run_reset_gives_a_fresh_process_shuffle() -> None:
    import tensorflow as tf

    from rnn_core.engine.runner import make_dataset
    from rnn_core.engine.worker import _reset_state, _warm_run

    x, y = np.arange(64).reshape(64, 1), np.zeros((64, 1))

    def order() -> list[int]:
        return [int(v) for xb, _ in make_dataset(x, y, 64, 3) for v in xb.numpy().ravel()]

    _reset_state()
    fresh = order()
    tf.random.set_seed(1234)  # what a global seed set by an earlier run would leave behind
    assert order() != fresh  # the shuffle order would differ ...
    _reset_state()
    assert order() == fresh  # ... and does not after the reset
    _warm_run()  # a worker's warm-up (a tiny run through run()) changes nothing either
    assert order() == fresh


def test_a_start_does_not_wait_forever_for_a_stuck_warm_up(monkeypatch) -> None:
    import rnn_core.engine.pool as pool_module

    spawned: list[tuple[subprocess.Popen, bool]] = []

    def never_ready(warm: bool = False, threads: int | None = None):
        """A 'worker' that never says ready (a warm-up that hangs)."""
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.read()"],  # ends on end-of-file
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        spawned.append((proc, warm))
        return proc, open(os.devnull, "rb")  # noqa: SIM115 - closed with the worker

    monkeypatch.setattr(pool_module, "spawn_worker", never_ready)
    monkeypatch.setenv("RNN_LAB_WARM_WAIT_SECONDS", "1.5")
    stuck = WorkerPool(1)
    try:
        stuck.warm()
        wait_until(lambda: spawned, 30, what="the pool's warm thread to spawn its worker")
        t0 = time.monotonic()
        worker = stuck.take()
        waited = time.monotonic() - t0
        assert worker is not None and worker.cold  # a worker of its own, spawned for this run
        assert worker.pid != spawned[0][0].pid and spawned[0][1] is True
        assert 1.0 <= waited < 15  # it waited for the warm-up, but not for ever
    finally:
        for proc, _ in spawned:
            proc.kill()
            proc.wait()
        stuck.close()


def test_runs_of_the_same_settings_go_to_the_worker_that_keeps_their_model(monkeypatch) -> None:
    monkeypatch.setenv("RNN_LAB_CHILD_THREADS", "1")  # fixed threads: no worker is replaced
    two = WorkerPool(2, max_runs=1000, max_anonymous_mb=10_000)
    try:
        spawned = [two.take(), two.take()]  # two workers, started cold (no warm-up fit)
        for worker in spawned:
            two.give_back(worker, True)
        pids = []
        for i, spec in enumerate([_spec(epochs=1), _spec(epochs=1), _spec("GRU", epochs=1)]):
            if i != 1:  # before run 2 its worker may still be cleaning up: it is waited for
                assert two.wait_idle(2, WAIT)  # both idle: either could be lent
            pids.append(_train(spec, two).runner.worker_pid)
        assert pids[0] == pids[1] != pids[2], pids  # the changed run: the other worker
    finally:
        two.close()


_SLOW_SETTLING = """
import pickle, sys, time
out = sys.stdout.buffer
def ready():
    pickle.dump(("ready",), out)
    out.flush()
ready()
for line in sys.stdin.buffer:  # a "run": clean up for a second, then ready again
    time.sleep(1.0)
    ready()
"""


def _slow_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pool spawn 'workers' that say ready at once, and again a second after each
    line they read (a run's clean-up); no TensorFlow."""
    import rnn_core.engine.pool as pool_module

    def slow_settling(warm: bool = False, threads: int | None = None):
        """One such 'worker' and a stderr file."""
        proc = subprocess.Popen(
            [sys.executable, "-c", _SLOW_SETTLING], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        return proc, open(os.devnull, "rb")  # noqa: SIM115 - closed with the worker

    monkeypatch.setattr(pool_module, "spawn_worker", slow_settling)


def test_a_start_waits_briefly_for_the_settling_worker_that_keeps_its_model(monkeypatch) -> None:
    import rnn_core.engine.pool as pool_module

    _slow_settling(monkeypatch)
    monkeypatch.setenv("RNN_LAB_CHILD_THREADS", "1")  # fixed threads: no worker is replaced
    two = WorkerPool(2)
    try:
        a, b = two.take(key="a"), two.take(key="b")
        two.give_back(a, True)
        two.give_back(b, True)
        assert two.wait_idle(2, 30)
        assert two.take(key="b") is b and two.take(key="a") is a  # each to its own key
        for worker in (b, a):
            worker.proc.stdin.write(b"run\n")  # it cleans up for a second after this run
            worker.proc.stdin.flush()
            two.give_back(worker, True)
            if worker is b:
                assert two.wait_idle(1, 30)  # b idle; then a settling
        t0 = time.monotonic()
        assert two.take(key="a") is a  # waited for a, though b was idle
        assert 0.3 < time.monotonic() - t0 < pool_module.MATCH_WAIT_SECONDS + 2
        assert two.take(key="c") is b  # no worker keeps "c": an idle one at once
        assert b.key == "c"
    finally:
        two.close()


def test_a_worker_may_hold_its_runs_extra_above_the_bound_and_no_more(monkeypatch) -> None:
    """An XLA run's worker holds its compiler's programs (``extra_mb``) and is kept; the same
    memory after a run without that allowance replaces it."""
    _slow_settling(monkeypatch)
    monkeypatch.setenv("RNN_LAB_CHILD_THREADS", "1")  # fixed threads: no worker is replaced
    one = WorkerPool(1, max_runs=1000)
    try:
        one.warm()
        assert one.wait_idle(1, 30)
        held = anonymous_mb(one.idle[0].pid)
        one.max_anonymous_mb = held / 2  # the worker is above the bound after any run

        def serve(extra_mb: float):  # noqa: ANN202
            worker = one.take(key="a", extra_mb=extra_mb)
            worker.begin()
            worker.proc.stdin.write(b"run\n")  # it cleans up for a second, then is ready
            worker.proc.stdin.flush()
            one.give_back(worker, True)
            return worker

        kept = serve(extra_mb=2 * held)  # bound + its extra: above what it holds
        assert one.wait_idle(1, 30) and one.idle[0] is kept and one.retired == 0
        replaced = serve(extra_mb=0.0)
        assert replaced is kept and replaced.proc.wait(30) is not None
        assert one.retired == 1
    finally:
        one.close()


_READY = "from rnn_core.engine.pool import write_frame; import sys; " + (
    "write_frame(sys.stdout.buffer, ('ready',)); sys.stdout.flush(); sys.stdin.read()"
)


def _fake_workers(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen]:
    """Make the pool spawn 'workers' that say ready at once and wait (no TensorFlow); the list
    of those spawned."""
    import rnn_core.engine.pool as pool_module

    spawned: list[subprocess.Popen] = []

    def ready_at_once(warm: bool = False, threads: int | None = None):
        """A 'worker' that says ready and waits; it records the threads it was given."""
        env = os.environ | {"PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [sys.executable, "-c", _READY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        proc.threads = threads  # type: ignore[attr-defined]
        spawned.append(proc)
        return proc, open(os.devnull, "rb")  # noqa: SIM115 - closed with the worker

    monkeypatch.setattr(pool_module, "spawn_worker", ready_at_once)
    return spawned


def test_a_new_worker_above_the_memory_bound_is_kept_not_respawned(monkeypatch) -> None:
    spawned = _fake_workers(monkeypatch)
    small = WorkerPool(1, max_runs=1000, max_anonymous_mb=0.001)  # any process is above it
    try:
        small.warm()
        assert small.wait_idle(1, 60), f"never idle: {len(spawned)} spawned, {small.retired} ended"
        time.sleep(1.0)  # a pool that ends its new workers would have spawned more by now
        assert len(spawned) == 1 and small.retired == 0
        assert small.idle[0].pid == spawned[0].pid
    finally:
        small.close()
        for proc in spawned:
            proc.kill()
            proc.wait()


def test_running_workers_share_the_cores_and_one_alone_gets_them_all(monkeypatch) -> None:
    from rnn_core.engine import cores
    from rnn_core.engine.memory import MEMORY

    cpus, quota = cores.server_cpus(), MEMORY.limits().cpus
    if min(len(cpus), quota) < 2:
        pytest.skip(f"needs 2 cores to share; this process may use {cpus}, quota {quota}")
    spawned = _fake_workers(monkeypatch)
    two = WorkerPool(2, max_runs=1000, max_anonymous_mb=10_000)
    try:
        first, second = two.take(), two.take()
        assert [first.pid, second.pid] == [p.pid for p in spawned]
        both = cores.plan(2, cpus, quota)
        assert os.sched_getaffinity(first.pid) == both[0]
        assert os.sched_getaffinity(second.pid) == both[1]
        assert not both[0] & both[1]
        two.give_back(first, True)  # the first run ends: the second may use every core
        assert os.sched_getaffinity(second.pid) == cores.plan(1, cpus, quota)[0]
        assert two.running == [second]
        two.give_back(second, True)
        assert two.running == []
    finally:
        two.close()
        for proc in spawned:
            proc.kill()
            proc.wait()


def test_a_worker_started_beside_a_training_gets_a_share_and_is_replaced_once_all_end(
    monkeypatch,
) -> None:
    from rnn_core.engine import memory

    monkeypatch.delenv(memory.THREADS_ENV, raising=False)
    every = memory.child_threads(0)
    if every < 2:
        pytest.skip(f"needs 2 cores to share; this server's children get {every} thread")
    spawned = _fake_workers(monkeypatch)
    two = WorkerPool(2, max_runs=1000, max_anonymous_mb=10_000)
    try:
        first, second = two.take(), two.take()  # the second starts while the first trains
        assert [p.threads for p in spawned] == [every, memory.child_threads(1)]
        assert second.threads == memory.child_threads(1) < every
        two.give_back(first, True)
        two.give_back(second, True)  # nothing trains now: a worker with a share is replaced
        wait_until(
            lambda: len(two.idle) == 2 and all(w.threads == every for w in two.idle),
            60,
            what="two idle workers with every core's threads",
        )
        assert second.pid not in {w.pid for w in two.idle}
        assert first.pid in {w.pid for w in two.idle}  # the one with every thread is kept
        assert [p.threads for p in spawned] == [every, memory.child_threads(1), every]
    finally:
        two.close()
        for proc in spawned:
            proc.kill()
            proc.wait()


def test_a_primed_worker_holds_the_model_of_the_next_start(
    pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnn_core.engine.process as process
    from rnn_core.run import prime_start

    spec = _spec("GRU", dropout=0.1, seed=13, epochs=1)  # no run here had this model yet
    before = pool.primed
    assert pool.wait_idle(1, WAIT)
    prime_start(spec, pool)  # the page shows this spec: the idle worker traces its model
    wait_until(lambda: pool.primed > before, WAIT, what="the worker was primed")
    assert pool.wait_idle(1, WAIT)
    serialised: list[object] = []
    real = process.model_bytes
    monkeypatch.setattr(process, "model_bytes", lambda m: serialised.append(m) or real(m))
    job = _train(spec, pool)  # the Start: only the new model's state goes to the worker
    assert serialised == []  # the worker held the model: no bytes made, none asked for
    snap = job.snapshot()
    assert len(snap.batch_logs) == snap.batches_per_epoch >= 2
    assert pool.primed == before + 1
    prime_start(spec, pool)  # the same spec again: nothing more to do
    assert pool.primed == before + 1 and not pool.priming


def test_a_prime_waits_for_the_trainings_to_end_and_each_spec_is_primed_once(
    monkeypatch,
) -> None:
    _fake_workers(monkeypatch)
    monkeypatch.setenv("RNN_LAB_CHILD_THREADS", "1")  # fixed threads: no worker is replaced
    one = WorkerPool(1)
    made: list[str] = []

    def make(name: str):
        """The request maker: counted; it fails, so no frame is sent to the fake worker."""

        def build():
            made.append(name)
            raise RuntimeError("no model here")

        return build

    try:
        worker = one.take()  # a training runs on it
        one.prime("a", make("a"))
        time.sleep(0.5)
        assert made == []  # nothing is built while a training runs
        one.give_back(worker, True)  # the training ended: the wanted prime goes ahead
        wait_until(lambda: made == ["a"], 30, what="the prime of 'a' was made")
        wait_until(lambda: not one.priming, 30, what="the failed prime ended")
        assert one.wait_idle(1, 30) and one.primed == 0  # the worker is back, unprimed
        one.prime("a", make("a"))  # asked before: not again
        one.prime("b", make("b"))
        wait_until(lambda: made == ["a", "b"], 30, what="the prime of 'b' was made")
    finally:
        one.close()
