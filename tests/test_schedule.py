"""The cosine learning-rate schedule: the rate each batch trains at, per training call."""

import math

import keras
import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.engine.runner import fit_model
from rnn_core.engine.schedule import cosine_rate, schedule_callbacks


class RateLog(keras.callbacks.Callback):
    """Records the optimizer's rate at the start of every batch."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float] = []

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def _model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")  # (N, 3)
    return x, x.sum(axis=1, keepdims=True)  # (N, 1)


def test_cosine_rate_starts_at_the_base_and_ends_at_zero():
    assert cosine_rate(0.01, 0, 100) == 0.01
    assert cosine_rate(0.01, 50, 100) == pytest.approx(0.005)
    assert cosine_rate(0.01, 100, 100) == pytest.approx(0.0, abs=1e-12)
    assert cosine_rate(0.01, 150, 100) == pytest.approx(0.0, abs=1e-12)


def test_cosine_falls_over_each_call_and_train_more_starts_again_from_the_base():
    model, log = _model(), RateLog()
    cfg = TrainConfig(epochs=2, batch_size=10, learning_rate=0.1, schedule="cosine")
    fit_model(model, _data(), None, cfg, 1, 0, 2, [log])  # 2 epochs × 4 batches
    assert log.rates == pytest.approx([cosine_rate(0.1, k, 8) for k in range(8)], rel=1e-5)
    assert log.rates[0] == pytest.approx(0.1) and log.rates[-1] < 0.1 * math.sin(math.pi / 8)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.1)
    log.rates.clear()
    fit_model(model, _data(), None, cfg, 2, 2, 3, [log])  # Train more: one epoch, from the base
    assert log.rates == pytest.approx([cosine_rate(0.1, k, 4) for k in range(4)], rel=1e-5)


def test_constant_leaves_the_rate_alone():
    model, log = _model(), RateLog()
    cfg = TrainConfig(epochs=2, batch_size=10, learning_rate=0.1)
    fit_model(model, _data(), None, cfg, 1, 0, 2, [log])
    assert log.rates == pytest.approx([0.1] * 8)


def test_an_unknown_schedule_is_refused_with_its_name():
    with pytest.raises(ValueError, match="schedule must be one of constant, cosine"):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError, match="got 'step'"):
        schedule_callbacks("step", 0.1, 10, 2, 0, 1)


class StopAt(keras.callbacks.Callback):
    """Raises at batch ``at`` of the first epoch, as the engine's Stop does."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if batch == self.at:
            raise KeyboardInterrupt


def test_a_run_stopped_mid_schedule_keeps_the_configured_rate_on_its_optimizer():
    model = _model()
    cfg = TrainConfig(epochs=2, batch_size=10, learning_rate=0.1, schedule="cosine")
    with pytest.raises(KeyboardInterrupt):
        fit_model(model, _data(), None, cfg, 1, 0, 2, [StopAt(3)])  # the rate had fallen by then
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.1)
