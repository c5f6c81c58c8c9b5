"""Batching reviews by length: every review once per epoch, each batch cut to its padding."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import ImdbConfig, MnistConfig, ModelConfig, RunSpec, TrainConfig
from tests.tiny_data import write_imdb

T, STEP = 200, 32  # maxlen of the made-up reviews; LENGTH_STEP of the engine


def _padded(n: int, padding: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n word-id rows of random lengths 1..T, padded with 0 before or after. (N, T), (N,)"""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, T), dtype=np.int32)  # (N, T)
    for i, length in enumerate(rng.integers(1, T + 1, size=n)):
        words = rng.integers(1, 50, size=length)
        if padding == "pre":
            x[i, T - length :] = words
        else:
            x[i, :length] = words
    return x, np.arange(n, dtype=np.float32)  # y = row number, to find each row in a batch


def _epoch(ds) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(xb.numpy(), yb.numpy()) for xb, yb in ds]


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_each_review_once_per_epoch_and_only_padding_is_cut(padding: str) -> None:
    from rnn_core.engine.runner import LENGTH_STEP, make_dataset

    assert LENGTH_STEP == STEP
    x, y = _padded(1000, padding)
    batches = _epoch(make_dataset(x, y, 64, 5, by_length=True))
    assert len(batches) == -(-len(x) // 64)  # as many batches as random batching
    rows = np.concatenate([yb for _, yb in batches]).astype(int)
    assert sorted(rows) == list(range(len(x)))
    for xb, yb in batches:
        width = xb.shape[1]
        assert width % STEP == 0 or width == T
        full = x[yb.astype(int)]  # (B, T) the rows as padded to maxlen
        kept = full[:, T - width :] if padding == "pre" else full[:, :width]
        np.testing.assert_array_equal(xb, kept)  # the batch is the rows' own end (or start)
        assert np.count_nonzero(full) == np.count_nonzero(xb)  # only zeros were cut
    widths = np.array([xb.shape[1] * len(xb) for xb, _ in batches])
    assert widths.sum() < 0.65 * len(x) * T  # mean length ~T/2: most padding is never read


def test_random_batches_read_every_step() -> None:
    from rnn_core.engine.runner import make_dataset

    x, y = _padded(300, "pre")
    assert {xb.shape[1] for xb, _ in _epoch(make_dataset(x, y, 64, 5))} == {T}


def test_batches_change_between_epochs_and_repeat_for_a_seed() -> None:
    from rnn_core.engine.runner import make_dataset

    x, y = _padded(1000, "pre")
    ds = make_dataset(x, y, 64, 5, by_length=True)
    first, second = ([tuple(yb.astype(int)) for _, yb in _epoch(ds)] for _ in range(2))
    assert first != second
    again = [tuple(yb.astype(int)) for _, yb in _epoch(make_dataset(x, y, 64, 5, by_length=True))]
    assert again == first


def _spec(data_dir: Path, cell: str = "LSTM", **train: object) -> RunSpec:
    return RunSpec(
        task="imdb",
        data=ImdbConfig(num_words=40, maxlen=60, data_dir=str(data_dir), val_fraction=0.25),
        model=ModelConfig(cell=cell, units=6, embedding_dim=4, pooling="max"),
        train=TrainConfig(epochs=2, batch_size=8, learning_rate=1e-2, **train),
    )


def test_imdb_trains_by_length_and_scores_every_test_review_at_maxlen(tmp_path: Path) -> None:
    from rnn_core.run import start_run

    spec = _spec(write_imdb(tmp_path / "data"), batch_by_length=True)
    run = start_run(spec, None, in_process=True)
    assert run.job.model.input_shape == (None, None)  # reads any length
    run.job.start()
    snap = run.job.wait(120)
    assert snap.state == "done", snap.error
    assert len(snap.epoch_logs) == 2 and np.isfinite(snap.epoch_logs[-1]["val_loss"])
    results = run.score()
    assert 0.0 <= results.accuracy <= 1.0
    probs = run.task.predict(run.job.model, run.data.x_test)  # (25, 60) padded reviews
    assert probs.shape == (len(run.data.x_test),)


def test_batching_by_length_is_refused_where_it_cannot_apply(tmp_path: Path) -> None:
    from rnn_core.run import start_run

    data_dir = write_imdb(tmp_path / "data")
    with pytest.raises(ValueError, match="Dense baseline reads exactly maxlen"):
        start_run(_spec(data_dir, "Dense", batch_by_length=True), None, in_process=True)
    mnist = RunSpec(task="mnist", data=MnistConfig(), train=TrainConfig(batch_by_length=True))
    with pytest.raises(ValueError, match="batch_by_length: only IMDB reviews"):
        start_run(mnist, None, in_process=True)
    addition = replace(mnist, task="addition", data=RunSpec().data)  # refused before any data
    with pytest.raises(ValueError, match="batch_by_length: only IMDB reviews"):
        start_run(addition, None, in_process=True)


def test_cli_link_form_and_export_carry_the_setting() -> None:
    from pages._train_form import shown
    from rnn_core.cli import build_parser, spec_from_args
    from rnn_core.export import keras_code
    from rnn_core.links import from_query, to_query
    from rnn_core.tasks import get_task

    args = build_parser().parse_args(["train", "--preset", "imdb-fast", "--batch-by-length"])
    spec = spec_from_args(args)
    assert spec.train.batch_by_length
    off = build_parser().parse_args(["train", "--preset", "imdb-fast", "--no-batch-by-length"])
    assert not spec_from_args(off).train.batch_by_length
    assert from_query(to_query(spec)) == spec
    assert [t for t in ("imdb", "mnist", "addition", "forecast") if ("train", "batch_by_length")
            in shown(get_task(t))] == ["imdb"]  # fmt: skip
    note = "RNN Lab batched the reviews by length"
    assert note in keras_code(spec)
    assert note not in keras_code(spec_from_args(off))
