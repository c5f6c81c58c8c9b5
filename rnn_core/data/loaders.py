"""Dataset loaders: IMDB, MNIST and the Nietzsche corpus, exactly as Keras's loaders give them.

Each loader reads its file from the data directory or Keras's cache (see
:mod:`rnn_core.data.files`) and applies what ``keras.datasets.*.load_data`` applies; with no local
copy it calls Keras, which may download. The data-directory and text helpers are re-exported
here, so ``rnn_core.data.loaders`` stays the one import for data.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rnn_core.data.files import (
    DATA_FILES,
    ENV_VAR,
    IMDB_FILE,
    MNIST_FILE,
    NIETZSCHE_FILE,
    NIETZSCHE_URL,
    WORD_INDEX_FILE,
    DataMissingError,
    data_status,
    fetch_all,
    iter_npz,
    keras_cache_dirs,
    load_file,
    local_files,
    missing_message,
    read_npz,
    resolve_data_dir,
)
from rnn_core.data.ragged import Ragged
from rnn_core.data.review_text import (
    INDEX_FROM,
    OOV_ID,
    START_ID,
    TruncationReport,
    decode_review,
    encode_review,
    pad,
    tokenize,
    truncation_report,
)

__all__ = [
    "DATA_FILES", "ENV_VAR", "IMDB_FILE", "MNIST_FILE", "NIETZSCHE_FILE", "NIETZSCHE_URL",
    "WORD_INDEX_FILE", "DataMissingError", "Ragged", "RaggedSplit", "Split", "TruncationReport",
    "data_status", "decode_review", "encode_review", "fetch_all", "get_word_index",
    "keras_cache_dirs", "load_file", "load_imdb", "load_imdb_ragged", "load_mnist",
    "load_nietzsche", "local_files", "missing_message", "pad", "read_npz", "resolve_data_dir",
    "scale_pixels", "subset", "subset_indices", "tokenize", "truncation_report",
]  # fmt: skip

Split = tuple[np.ndarray, np.ndarray]
RaggedSplit = tuple[Ragged, np.ndarray]  # reviews and their labels


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building ~50k lists (halves IMDB load time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _imdb_arrays(path: Path) -> tuple[Any, ...]:
    """imdb.npz's reviews as :class:`Ragged` (each split flattened as soon as it is read, so
    only one split's Python lists exist at a time) and its labels."""
    out: dict[str, Any] = {}
    for name, array in iter_npz(path):
        out[name] = Ragged.from_lists(array) if name.startswith("x_") else array
        del array
    return out["x_train"], out["y_train"], out["x_test"], out["y_test"]


def _imdb_process(raw: tuple[Any, ...], kw: dict[str, Any]) -> tuple[RaggedSplit, RaggedSplit]:
    """Apply `keras.datasets.imdb.load_data`'s steps (vectorised) to the raw-rank reviews."""
    x_train, y_train, x_test, y_test = raw
    num_words, skip_top, maxlen = kw["num_words"], kw["skip_top"], kw["maxlen"]
    start_char, oov_char, index_from = kw["start_char"], kw["oov_char"], kw["index_from"]
    rng = np.random.RandomState(kw["seed"])  # permutation(n) == shuffle(arange(n)), as Keras
    idx = rng.permutation(len(x_train))
    x_train, y_train = x_train.take(idx), y_train[idx]
    idx = rng.permutation(len(x_test))
    x_test, y_test = x_test.take(idx), y_test[idx]

    lengths = np.concatenate([x_train.lengths, x_test.lengths])  # (N,)
    flat = np.concatenate([x_train.ids, x_test.ids]).astype(np.int64)  # (total,)
    n_train = len(x_train)
    del x_train, x_test
    if start_char is not None or index_from:
        flat += index_from
    if start_char is not None:
        flat = np.insert(flat, np.cumsum(lengths) - lengths, start_char)
        lengths = lengths + 1
    keep = np.ones(len(lengths), dtype=bool)
    if maxlen:
        keep = lengths < maxlen
        if not keep[:n_train].any() or not keep[n_train:].any():
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, "
                "no sequence was kept. Increase maxlen."
            )
        flat, lengths = flat[np.repeat(keep, lengths)], lengths[keep]
    labels = np.concatenate([y_train[keep[:n_train]], y_test[keep[n_train:]]])
    n_train = int(keep[:n_train].sum())
    if not num_words:
        num_words = int(flat.max())
    in_vocab = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        flat = np.where(in_vocab, flat, oov_char)
    else:
        seq_id = np.repeat(np.arange(len(lengths)), lengths)
        lengths = np.bincount(seq_id[in_vocab], minlength=len(lengths))
        flat = flat[in_vocab]
    split = int(lengths[:n_train].sum())
    train = Ragged(flat[:split], lengths[:n_train])
    test = Ragged(flat[split:], lengths[n_train:])
    return (train, labels[:n_train]), (test, labels[n_train:])


def load_imdb_ragged(
    num_words: int | None = 10000,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = START_ID,
    oov_char: int | None = OOV_ID,
    index_from: int = INDEX_FROM,
    data_dir: str | Path | None = None,
) -> tuple[RaggedSplit, RaggedSplit]:
    """:func:`load_imdb`'s reviews as :class:`Ragged` arrays (a few MB, not Python lists)."""
    ddir = resolve_data_dir(data_dir)
    kw = dict(num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed)
    kw.update(start_char=start_char, oov_char=oov_char, index_from=index_from)

    def from_keras(keras: Any) -> tuple[RaggedSplit, RaggedSplit]:
        (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(**kw)
        return (Ragged.from_lists(x_train), y_train), (Ragged.from_lists(x_test), y_test)

    with _gc_paused():
        return load_file(IMDB_FILE, ddir, _imdb_arrays, from_keras, lambda r: _imdb_process(r, kw))


def load_imdb(*args: Any, **kwargs: Any) -> tuple[Split, Split]:
    """Load IMDB as `((x_train, y_train), (x_test, y_test))`, identical to Keras's `load_data`
    (its arguments, plus ``data_dir``, as :func:`load_imdb_ragged` takes them)."""
    (x_train, y_train), (x_test, y_test) = load_imdb_ragged(*args, **kwargs)
    with _gc_paused():
        return (x_train.to_lists(), y_train), (x_test.to_lists(), y_test)


def _read_text(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def _read_json(path: Path) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def get_word_index(data_dir: str | Path | None = None) -> dict[str, int]:
    """Return IMDB's word -> rank mapping (1 = 'the'); ids in the data are rank + index_from."""
    ddir = resolve_data_dir(data_dir)
    return load_file(WORD_INDEX_FILE, ddir, _read_json, lambda k: k.datasets.imdb.get_word_index())


def _mnist_arrays(path: Path) -> tuple[Split, Split]:
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_mnist(data_dir: str | Path | None = None, normalize: bool = True) -> tuple[Split, Split]:
    """Load MNIST: x as float32 in [0, 1] of shape (N, 28, 28) (rows = timesteps), y as int64."""
    ddir = resolve_data_dir(data_dir)
    data = load_file(
        MNIST_FILE, ddir, _mnist_arrays, lambda keras: keras.datasets.mnist.load_data()
    )
    if not normalize:
        return data
    out = [(scale_pixels(x), y.astype(np.int64)) for x, y in data]
    return out[0], out[1]


def scale_pixels(x: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1] (a new array), as :func:`load_mnist` scales them."""
    xf = x.astype(np.float32)  # (N, 28, 28)
    xf /= np.float32(255.0)
    return xf


def load_nietzsche(data_dir: str | Path | None = None) -> str:
    """Return the Nietzsche corpus (Keras's `lstm_text_generation` text) as a str."""
    ddir = resolve_data_dir(data_dir)
    return load_file(
        NIETZSCHE_FILE,
        ddir,
        _read_text,
        lambda keras: _read_text(keras.utils.get_file(NIETZSCHE_FILE, origin=NIETZSCHE_URL)),
    )


def subset_indices(
    y: np.ndarray,
    n: int | None,
    rng: np.random.Generator | int | None = None,
    stratify: bool = True,
) -> np.ndarray:
    """Sorted row indices of n examples (class-stratified by default); all rows if n is None."""
    total = len(y)
    if n is None or n >= total:
        return np.arange(total)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    gen = np.random.default_rng(rng)
    if not stratify:
        return np.sort(gen.choice(total, size=n, replace=False))
    classes, inverse = np.unique(np.asarray(y), return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse, minlength=len(classes))
    share = counts * n / total
    take = np.floor(share).astype(np.int64)
    extra = np.argsort(-(share - take), kind="stable")[: n - int(take.sum())]
    take[extra] += 1  # largest remainders first, so the sizes add up to n
    picked = [
        gen.choice(np.flatnonzero(inverse == c), size=k, replace=False) for c, k in enumerate(take)
    ]
    return np.sort(np.concatenate(picked))


def subset(
    x: np.ndarray,
    y: np.ndarray,
    n: int | None,
    rng: np.random.Generator | int | None = None,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Return copies of n examples (class-stratified by default), kept in original order."""
    picked = subset_indices(y, n, rng, stratify)
    xs = x[picked]  # fancy indexing: one copy of the selected rows only
    if xs.dtype == object:
        for i, item in enumerate(xs):
            xs[i] = list(item)
    return xs, np.asarray(y)[picked]
