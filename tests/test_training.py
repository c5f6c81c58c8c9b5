"""The live-training engine: callbacks, stop, continue, queueing and failures."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from rnn_core.engine.job import SlotPool, TrainingJob
from tests.conftest import ReusedModel, tiny_spec
from tests.waiting import wait_until


def _job(tiny_run, epochs: int = 2, pool: SlotPool | None = None, **kw) -> TrainingJob:
    task, data, model, spec = tiny_run(epochs=epochs)
    train, val = task.splits(data)
    return TrainingJob(model, train, val, spec.train, pool=pool or SlotPool(4), **kw)


@pytest.fixture(scope="module")
def _built():
    """(task, data, ReusedModel): one tiny addition model for the module, traced once."""
    from rnn_core.tasks import get_task

    spec = tiny_spec()
    task = get_task("addition")
    data = task.make_data(spec.data)
    return task, data, ReusedModel(task.build(spec, data))


@pytest.fixture
def tiny_job(_built):
    """Factory of jobs on the module's model, as freshly built (the jobs of one test share it)."""
    task, data, reused = _built
    model = reused.reset()
    train, val = task.splits(data)

    jobs: list[TrainingJob] = []

    def make(epochs: int = 2, pool: SlotPool | None = None, **kw) -> TrainingJob:
        cfg = tiny_spec(epochs=epochs).train
        jobs.append(TrainingJob(model, train, val, cfg, pool=pool or SlotPool(4), **kw))
        return jobs[-1]

    yield make
    for job in jobs:  # no training of this test goes on into the next one's model
        assert not job.wait(60).active


def test_callbacks_are_called_once_per_batch_and_epoch(tiny_job) -> None:
    seen: list = []
    epochs_seen: list[int] = []
    job = tiny_job(
        epochs=3,
        on_progress=seen.append,
        on_epoch=lambda model, epoch: epochs_seen.append(epoch) or {"epoch": epoch},
    )
    job.start()
    snap = job.wait(60)
    assert snap.state == "done" and not snap.stopped_early
    per_epoch = snap.batches_per_epoch
    assert per_epoch == -(-360 // 32)  # 400 questions, 10% validation, batch 32
    batch_events = [s for s in seen if s.state == "running" and s.batch_logs]
    # publish_every=1: one progress event per batch, plus one per epoch end
    assert len(snap.batch_logs) == 3 * per_epoch
    assert len(batch_events) == 3 * per_epoch + 3
    assert epochs_seen == [1, 2, 3]
    assert [e["epoch"] for e in snap.epoch_extras] == [1, 2, 3]
    assert [log["epoch"] for log in snap.epoch_logs] == [1.0, 2.0, 3.0]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(snap.epoch_logs[0])
    assert seen[0].state == "running" and seen[-1].state == "done"
    assert snap.train_seconds > 0 and snap.samples_per_sec > 0
    assert snap.progress == 1.0


def test_history_matches_epoch_logs(tiny_job) -> None:
    job = tiny_job(epochs=2)
    job.start()
    job.wait(60)
    hist = job.history()
    assert len(hist["loss"]) == 2 and len(hist["val_accuracy"]) == 2
    assert hist["loss"][1] < hist["loss"][0] * 1.5


def test_stop_takes_effect_within_one_batch_and_keeps_weights(tiny_job) -> None:
    batches: list[tuple[int, int]] = []
    job = tiny_job(epochs=50)
    before = [w.copy() for w in job.model.get_weights()]

    def on_progress(snap) -> None:
        if snap.state == "running" and snap.batch_logs:
            batches.append((snap.epoch, snap.batch))
            if len(snap.batch_logs) == 3:
                job.stop()  # requested right after the third batch

    job.on_progress = on_progress
    job.start()
    snap = job.wait(60)
    assert snap.state == "done" and snap.stopped_early
    assert len(snap.batch_logs) == 3  # no batch started after the request
    assert snap.epoch == 0  # the interrupted epoch does not count as done
    after = job.model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_stop_from_another_thread_is_prompt(tiny_job) -> None:
    job = tiny_job(epochs=500)
    job.start()
    wait_until(lambda: job.snapshot().epoch >= 1, 60, what="the first epoch")
    t0 = time.perf_counter()
    job.stop()
    assert job.snapshot().state in ("stopping", "done")
    snap = job.wait(30)
    assert snap.state == "done" and snap.stopped_early
    assert time.perf_counter() - t0 < 2.0  # one tiny batch, not the rest of an epoch


def test_train_more_continues_the_same_model_and_history(tiny_job) -> None:
    job = tiny_job(epochs=2)
    job.start()
    first = job.wait(60)
    weights = [w.copy() for w in job.model.get_weights()]
    job.start(epochs=2)
    second = job.wait(60)
    assert second.state == "done" and second.epoch == 4 and second.epochs_target == 4
    assert [log["epoch"] for log in second.epoch_logs] == [1.0, 2.0, 3.0, 4.0]
    assert second.epoch_logs[:2] == first.epoch_logs  # the old history is kept as it was
    assert second.batch_logs[: len(first.batch_logs)] == first.batch_logs
    assert second.train_seconds > first.train_seconds
    assert any(
        not np.array_equal(a, b) for a, b in zip(weights, job.model.get_weights(), strict=True)
    )
    assert second.epoch_logs[3]["loss"] < first.epoch_logs[0]["loss"]


def test_start_while_running_is_refused(tiny_job) -> None:
    job = tiny_job(epochs=200)
    job.start()
    with pytest.raises(RuntimeError, match="already training"):
        job.start()
    job.stop()
    job.wait(30)


@pytest.mark.slow  # long: three runs queue
def test_queue_at_the_cap_reports_position_and_runs_later(tiny_job) -> None:
    pool = SlotPool(1)
    first = tiny_job(epochs=200, pool=pool)
    second = tiny_job(epochs=1, pool=pool)
    third = tiny_job(epochs=1, pool=pool)
    first.start()
    wait_until(lambda: first.snapshot().state == "running", 60, 0.02, "the first run")
    second.start()
    wait_until(lambda: second.snapshot().state == "queued", 10, 0.02, "the second queued")
    third.start()
    wait_until(lambda: third.snapshot().state == "queued", 10, 0.02, "the third queued")
    assert second.snapshot().state == "queued" and second.snapshot().queue_position == 1
    assert third.snapshot().state == "queued" and third.snapshot().queue_position == 2
    assert pool.usage() == (1, 2)
    first.stop()
    assert first.wait(30).stopped_early
    assert second.wait(60).state == "done" and second.snapshot().epoch == 1
    assert third.wait(60).state == "done"
    assert pool.usage() == (0, 0)


def test_cancel_while_queued_leaves_the_queue_without_training(tiny_job) -> None:
    pool = SlotPool(1)
    first = tiny_job(epochs=200, pool=pool)
    second = tiny_job(epochs=1, pool=pool)
    first.start()
    wait_until(lambda: first.snapshot().state == "running", 60, 0.02, "the first run")
    second.start()
    wait_until(lambda: second.snapshot().state == "queued", 10, 0.02, "the second queued")
    second.stop()
    snap = second.wait(10)
    assert snap.state == "done" and snap.stopped_early and snap.epoch == 0
    assert not snap.batch_logs
    first.stop()
    first.wait(30)
    assert pool.usage() == (0, 0)


def test_failure_is_reported_not_swallowed(tiny_run) -> None:
    task, data, model, spec = tiny_run(epochs=1)
    bad_y = np.zeros((len(data.x_train), 7), np.int32)  # wrong answer length for this model
    job = TrainingJob(model, (data.x_train, bad_y), None, spec.train, pool=SlotPool(1))
    job.start()
    snap = job.wait(60)
    assert snap.state == "failed"
    assert snap.error and "Error" in snap.error.split(":")[0]
    assert job.pool.usage() == (0, 0)  # the slot is given back after a failure


def test_failure_in_epoch_hook_is_reported(tiny_job) -> None:
    def hook(model, epoch):
        raise MemoryError("simulated out of memory")

    job = tiny_job(epochs=2, on_epoch=hook)
    job.start()
    snap = job.wait(60)
    assert snap.state == "failed" and "MemoryError: simulated out of memory" in snap.error


def test_snapshots_are_immutable_copies(tiny_job) -> None:
    job = tiny_job(epochs=1)
    job.start()
    job.wait(60)
    snap = job.snapshot()
    with pytest.raises(AttributeError):
        snap.state = "running"  # type: ignore[misc]
    assert isinstance(snap.batch_logs, tuple) and isinstance(snap.epoch_logs, tuple)


def test_slot_pool_is_fifo_under_contention() -> None:
    pool = SlotPool(1)
    order: list[int] = []
    gate = threading.Event()

    def worker(i: int) -> None:
        assert pool.acquire(i, threading.Event(), lambda *_: None)
        order.append(i)
        gate.wait(0.05)
        pool.release()

    assert pool.acquire("holder", threading.Event(), lambda *_: None)
    threads = []
    for i in range(4):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        threads.append(t)
        wait_until(lambda i=i: pool.usage() == (1, i + 1), 10, 0.005, "enqueued")  # in order
    pool.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3]


@pytest.mark.slow  # long
def test_release_frees_model_and_data_but_keeps_curves(tiny_run) -> None:
    import gc
    import weakref

    job = _job(tiny_run, epochs=1)
    job.start()
    snap = job.wait(60)
    ref = weakref.ref(job.model)
    history = job.history()
    job.release()
    gc.collect()
    assert ref() is None  # nothing else kept the Keras model alive
    assert job.train is None and job.val is None and job.released
    assert job.history() == history and job.snapshot() == snap
    with pytest.raises(RuntimeError, match="released"):
        job.start(1)


def test_release_while_training_is_refused(tiny_job) -> None:
    job = tiny_job(epochs=50)
    job.start()
    try:
        with pytest.raises(RuntimeError, match="stop the job"):
            job.release()
    finally:
        job.stop()
        job.wait(60)


def test_index_shuffle_gives_the_batches_of_a_full_shuffle_buffer() -> None:
    """The pipeline's index shuffle against the reference it replaces (every example in
    tf.data's shuffle buffer): the same batches, in the same order, epoch after epoch."""
    import tensorflow as tf

    from rnn_core.engine.job import make_dataset

    rng = np.random.default_rng(3)
    x = rng.normal(size=(203, 5, 2)).astype("float32")  # (N, T, F), last batch partial
    y = rng.integers(0, 4, size=203)
    ours = make_dataset(x, y, 32, shuffle_seed=11)
    reference = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=11, reshuffle_each_iteration=True)
        .batch(32)
    )
    orders = []
    for _ in range(2):  # a second pass reshuffles, in both
        a, b = list(ours), list(reference)
        assert len(a) == len(b) == 7
        for (xa, ya), (xb, yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        orders.append(np.concatenate([yb.numpy() for _, yb in b]))
        assert sorted(orders[-1].tolist()) == sorted(y.tolist())  # every example once
    assert not np.array_equal(orders[0], orders[1])
    unshuffled = np.concatenate([xb.numpy() for xb, _ in make_dataset(x, y, 32, None)])
    np.testing.assert_array_equal(unshuffled, x)  # validation keeps its order


def test_a_dataset_does_not_keep_its_arrays_alive_after_it_is_gone() -> None:
    """TensorFlow keeps the Python function of every pipeline registered; the arrays must not
    stay reachable through it (a server training in threads would keep every run's data)."""
    import gc
    import weakref

    from rnn_core.engine.job import make_dataset

    x = np.ones((64, 3, 2), "float32")  # (N, T, F)
    y = np.zeros(64, "int64")
    alive = weakref.ref(x)
    ds = make_dataset(x, y, 16, shuffle_seed=1)
    del x  # the caller lets go: the dataset keeps the array for as long as it is used
    gc.collect()
    assert sum(len(xb) for xb, _ in ds) == 64 and alive() is not None
    del ds
    gc.collect()
    assert alive() is None
