"""Tests for rnn_core.data.ragged: flat sequences against their list forms, and IMDB's load peak."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import ImdbConfig
from rnn_core.data import loaders as ds
from rnn_core.data.files import iter_npz, read_npz
from rnn_core.data.ragged import Ragged
from rnn_core.data.review_text import pad
from rnn_core.tasks.imdb import load_imdb_source


def lists(seed: int = 0, n: int = 30) -> list[list[int]]:
    """``n`` random integer lists of 0–12 tokens (some empty)."""
    rng = np.random.default_rng(seed)
    return [[int(v) for v in rng.integers(1, 500, size=int(rng.integers(0, 13)))] for _ in range(n)]


def test_from_lists_and_back() -> None:
    seqs = lists()
    r = Ragged.from_lists(seqs)
    assert len(r) == len(seqs) and r.lengths.tolist() == [len(s) for s in seqs]
    back = r.to_lists()
    assert back.dtype == object and [list(s) for s in back] == seqs
    assert all(type(v) is int for s in back for v in s)  # Python ints, as Keras gives


@pytest.mark.parametrize("index", [[4, 0, 29, 4], [], list(range(29, -1, -1))])
def test_take_reorders_and_repeats(index: list[int]) -> None:
    seqs = lists(1)
    got = Ragged.from_lists(seqs).take(np.array(index, dtype=int)).to_lists()
    assert [list(s) for s in got] == [seqs[i] for i in index]


def test_take_with_a_mask() -> None:
    seqs = lists(2)
    mask = np.array([len(s) % 2 == 0 for s in seqs])
    got = Ragged.from_lists(seqs).take(mask).to_lists()
    assert [list(s) for s in got] == [s for s in seqs if len(s) % 2 == 0]


@pytest.mark.parametrize("maxlen", [1, 5, 12, 20, None])
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_padded_matches_keras_pad_sequences(
    maxlen: int | None, padding: str, truncating: str
) -> None:
    import keras

    seqs = lists(3)
    got = Ragged.from_lists(seqs).padded(maxlen, padding, truncating, value=7)
    want = keras.utils.pad_sequences(seqs, maxlen, padding=padding, truncating=truncating, value=7)
    assert got.dtype == want.dtype == np.int32
    np.testing.assert_array_equal(got, want)


def test_padded_rejects_what_pad_rejects() -> None:
    r = Ragged.from_lists([[1, 2]])
    with pytest.raises(ValueError, match="padding"):
        r.padded(3, padding="middle")
    with pytest.raises(ValueError, match="maxlen"):
        r.padded(0)


def write_imdb(folder: Path, n: int, words: int, seed: int = 0) -> Path:
    """An imdb.npz of ``n`` reviews of about ``words`` raw ranks in each split."""
    rng = np.random.default_rng(seed)

    def reviews() -> np.ndarray:
        out = np.empty(n, dtype=object)
        for i in range(n):
            size = int(rng.integers(words // 2, 3 * words // 2))
            out[i] = [int(v) for v in rng.integers(300, 20000, size=size)]  # no cached small ints
        return out

    labels = np.array([1] * (n // 2) + [0] * (n - n // 2), dtype=np.int64)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "imdb.npz", x_train=reviews(), y_train=labels, x_test=reviews(),
             y_test=labels.copy())  # fmt: skip
    (folder / "imdb_word_index.json").write_text('{"the": 1, "movie": 2}')
    return folder / "imdb.npz"


def traced_peak(fn) -> tuple[object, int]:  # noqa: ANN001
    """``fn()`` and the peak bytes Python and NumPy allocated while it ran."""
    tracemalloc.start()
    try:
        value = fn()
        return value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_imdb_source_holds_one_split_of_lists_at_a_time(tmp_path: Path) -> None:
    """Loading the source peaks near one split's Python lists, not both splits plus copies."""
    path = write_imdb(tmp_path, n=3000, words=60)
    _, both = traced_peak(lambda: read_npz(path))  # every array held at once

    def each_then_drop() -> None:
        for _name, array in iter_npz(path):
            del array

    _, one = traced_peak(each_then_drop)
    assert one < 0.7 * both  # iter_npz lets go of an array before it reads the next
    cfg = ImdbConfig(num_words=10000, maxlen=80, data_dir=str(tmp_path))
    source, peak = traced_peak(lambda: load_imdb_source(cfg))
    assert source.x_train.shape == (3000, 80)
    assert peak < 1.5 * one, (peak, one)


def test_imdb_source_matches_the_list_loader(tmp_path: Path) -> None:
    """The source's padded arrays equal padding what the Keras-identical list loader gives."""
    write_imdb(tmp_path, n=200, words=40, seed=4)
    cfg = ImdbConfig(num_words=5000, maxlen=50, data_dir=str(tmp_path), padding="post")
    source = load_imdb_source(cfg)
    (x_train, y_train), (x_test, _) = ds.load_imdb(num_words=5000, data_dir=tmp_path)
    np.testing.assert_array_equal(source.x_train, pad(x_train, 50, "post", "pre"))
    np.testing.assert_array_equal(source.x_test, pad(x_test, 50, "post", "pre"))
    np.testing.assert_array_equal(source.y_train, y_train.astype(np.float32))
    assert source.train_lengths.tolist() == [len(s) for s in x_train]
    assert source.examples[0] == tuple(x_test[0])
