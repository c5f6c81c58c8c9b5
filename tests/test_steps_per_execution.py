"""Several batches per call into TensorFlow (``TrainConfig.steps_per_execution``): the same
training, progress counted in batches, Stop within one call."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.engine.job import SlotPool, TrainingJob
from rnn_core.engine.recorder import Recorder


def test_a_count_below_one_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="steps per execution must be a whole number >= 1"):
        TrainConfig(steps_per_execution=0)


def test_the_recorder_counts_every_batch_of_a_call_and_keeps_its_curve_points() -> None:
    rec = Recorder(batches_per_epoch=20, batch_size=4, publish_every=5)
    rec.queue(1)
    rec.running()
    rec.epoch_begin()
    rec.batch(7, {"loss": 1.0}, 0.8)  # batches 0-7 in one call: 10 batches/s
    snap = rec.snapshot()
    assert [p["step"] for p in snap.batch_logs] == [8.0]  # batch 5 was passed: a point
    assert snap.batch == 8
    assert snap.samples_per_sec == pytest.approx(40.0)  # 10 batches/s of 4 samples
    assert snap.eta_seconds == pytest.approx(1.2)  # 12 batches left at 10 batches/s
    rec.batch(15, {"loss": 0.5}, 0.8)  # passes batches 10 and 15: one point
    rec.batch(23, {"loss": 0.4}, 0.4)  # the last call ends the epoch at batch 20, not 24
    snap = rec.snapshot()
    assert [p["step"] for p in snap.batch_logs] == [8.0, 16.0, 20.0]
    assert snap.batch == 20 and snap.batch_logs[-1]["epoch"] == 1.0


def test_a_call_of_four_batches_trains_as_four_calls_of_one(tiny_run) -> None:
    weights = {}
    for steps in (1, 4):
        task, data, model, spec = tiny_run(epochs=2, steps_per_execution=steps)
        assert model.get_compile_config()["steps_per_execution"] == steps
        train, val = task.splits(data)
        job = TrainingJob(model, train, val, spec.train, pool=SlotPool(1))
        job.start()
        snap = job.wait(60)
        assert snap.state == "done" and snap.epoch == 2
        per_epoch = snap.batches_per_epoch  # 12: 360 questions in batches of 32
        ends = [(e * per_epoch + k) for e in range(2) for k in range(steps, per_epoch, steps)]
        ends = sorted({*ends, per_epoch, 2 * per_epoch})  # every call's end, and each epoch's
        assert [p["step"] for p in snap.batch_logs] == ends
        weights[steps] = model.get_weights()
    for a, b in zip(weights[1], weights[4], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_stop_ends_training_after_the_call_it_was_pressed_in(tiny_run) -> None:
    task, data, model, spec = tiny_run(epochs=50, steps_per_execution=4)
    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, pool=SlotPool(1))

    def on_progress(snap) -> None:
        if snap.state == "running" and snap.batch_logs:
            job.stop()  # requested after the first call of 4 batches

    job.on_progress = on_progress
    job.start()
    snap = job.wait(60)
    assert snap.state == "done" and snap.stopped_early
    assert [p["step"] for p in snap.batch_logs] == [4.0]  # no call started after it


def test_the_cosine_rate_of_a_call_is_the_rate_at_its_first_batch() -> None:
    import keras

    from rnn_core.engine.runner import fit_model
    from rnn_core.engine.schedule import cosine_rate

    rates: list[float] = []

    class RateLog(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse", steps_per_execution=4)
    x = np.random.default_rng(0).normal(size=(80, 3)).astype("float32")  # (N, 3)
    cfg = TrainConfig(epochs=2, batch_size=10, learning_rate=0.1, schedule="cosine")
    fit_model(model, (x, x.sum(axis=1, keepdims=True)), None, cfg, 1, 0, 2, [RateLog()])
    assert rates == pytest.approx([cosine_rate(0.1, k, 16) for k in (0, 4, 8, 12)], rel=1e-5)


def test_a_worker_keeps_models_of_other_batches_per_call_apart(tiny_run) -> None:
    from rnn_core.engine.pool import model_key

    keys = set()
    for steps in (1, 4):
        task, data, model, spec = tiny_run(steps_per_execution=steps)
        train, val = task.splits(data)
        keys.add(model_key(model, spec.train, train, val))
    assert len(keys) == 2  # a model traced for one count is never reused for another
