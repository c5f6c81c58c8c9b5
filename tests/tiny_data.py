"""Tiny dataset files in Keras's own formats, written by tests into a temporary data dir."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

VOCAB = 60  # words in the tiny word index: "the"=1, ..., then w5 .. w60
WORDS = ["the", "good", "bad", "movie"] + [f"w{r}" for r in range(5, VOCAB + 1)]
GOOD, BAD = 2, 3  # ranks of "good" and "bad": positive reviews use good, negative ones bad


def _review(rng: np.random.Generator, positive: bool, length: int) -> list[int]:
    """Raw ranks (1 = "the"), no start char and no offset, as stored in imdb.npz."""
    words = rng.integers(4, VOCAB + 1, size=length).tolist()
    for i in range(0, length, 3):  # the sentiment word every third token: easy to learn
        words[i] = GOOD if positive else BAD
    return [int(w) for w in words]


def _split(rng: np.random.Generator, n: int, shortest: int) -> tuple[np.ndarray, np.ndarray]:
    """n reviews sorted positive-then-negative (like the real file), as an object array."""
    labels = np.array([1] * (n // 2) + [0] * (n - n // 2), dtype=np.int64)
    x = np.empty(n, dtype=object)
    for i, y in enumerate(labels):
        x[i] = _review(rng, bool(y), int(rng.integers(shortest, 40)))
    return x, labels


def write_imdb(data_dir: Path, n_train: int = 80, n_test: int = 40, seed: int = 0) -> Path:
    """Write imdb.npz and imdb_word_index.json into data_dir; return data_dir."""
    rng = np.random.default_rng(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    x_train, y_train = _split(rng, n_train, 5)
    x_test, y_test = _split(rng, n_test, 12)  # every test review is longer than 11 words
    x_train[0] = [1] * 70  # one long training review (71 tokens with the start mark)
    np.savez(data_dir / "imdb.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    index = {w: r for r, w in enumerate(WORDS, start=1)}
    (data_dir / "imdb_word_index.json").write_text(json.dumps(index), encoding="utf-8")
    return data_dir


def write_mnist(data_dir: Path, per_class: int = 8, test_per_class: int = 3) -> Path:
    """Write mnist.npz (uint8 images): digit d has a bright horizontal bar at rows 2d, 2d+1."""
    rng = np.random.default_rng(1)
    data_dir.mkdir(parents=True, exist_ok=True)

    def split(k: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.repeat(np.arange(10, dtype=np.uint8), k)
        rng.shuffle(y)
        x = rng.integers(0, 40, size=(len(y), 28, 28)).astype(np.uint8)
        for i, d in enumerate(y):
            x[i, 2 * d + 4 : 2 * d + 6, 4:24] = 255
        return x, y

    (x_train, y_train), (x_test, y_test) = split(per_class), split(test_per_class)
    np.savez_compressed(
        data_dir / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    return data_dir
