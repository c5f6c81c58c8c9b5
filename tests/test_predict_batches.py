"""classifier.predict: long sequences are read in fewer rows per call, so scoring 25,000 IMDB
reviews at maxlen 400 does not raise a training child's memory above its estimate."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.tasks.classifier import PREDICT_BATCH, PREDICT_STEPS, predict, predict_rows


class _Recorder:
    """A stand-in model: records each call's rows and returns one output per row."""

    output_shape = (None, 1)

    def __init__(self) -> None:
        self.rows: list[int] = []

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.rows.append(len(x))
        return x.reshape(len(x), -1)[:, :1].astype(np.float32)  # (B, 1)


@pytest.mark.parametrize(("shape", "rows"), [((25_000, 400), 320), ((3_000, 14, 56), 1_024)])
def test_rows_per_call_shrink_with_the_timesteps(shape: tuple[int, ...], rows: int) -> None:
    x = np.arange(np.prod(shape), dtype=np.int32).reshape(shape) % 97
    model = _Recorder()
    out = predict(model, x)
    assert predict_rows(x) == rows and max(model.rows) == rows
    assert sum(model.rows) == shape[0] and len(model.rows) == -(-shape[0] // rows)
    np.testing.assert_array_equal(out[:, 0], x.reshape(shape[0], -1)[:, 0])  # order kept


def test_rows_stay_within_bounds() -> None:
    assert predict_rows(np.zeros((5, 100_000), np.int32)) == 32  # at least 32 rows a call
    assert predict_rows(np.zeros((5, 3), np.float32)) == PREDICT_BATCH
    assert predict_rows(np.zeros((5,), np.float32)) == PREDICT_BATCH  # no time axis
    assert 320 * 400 <= PREDICT_STEPS < 352 * 400
