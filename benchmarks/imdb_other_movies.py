"""IMDB validation reviews of other movies than the training reviews, for choosing settings.

``imdb.npz`` stores each class's training reviews grouped by movie (IMDB keeps at most 30
reviews per movie), and the test set's movies are not among the training movies. A random
validation split shares most of its movies with training, so it rewards what a model learns
about one movie's names. This split holds out every ``every``-th chunk of ``chunk``
neighbouring reviews of each class, leaves the ``guard`` reviews on either side of a held-out
chunk out of training (a movie's reviews straddling the chunk's edge), and leaves out every
training review that shares ``link`` or more rare words with a held-out review (the same
movie's reviews in the other class).

Usage: python benchmarks/imdb_other_movies.py [--offset 0] [--data-dir ../shared/data]
prints the split's sizes and how many rare words its validation reviews share with training,
beside a random split and the test set. ``explore_preset.py imdb-fast --other-movies`` trains
on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data"
RARE_FROM = 5_000  # word ranks above this count as rare: mostly names and places
KERAS_SEED = 113  # keras.datasets.imdb.load_data shuffles the training reviews with this seed


def rare_words(review: Sequence[int]) -> set[int]:
    """The distinct word ranks of a review above RARE_FROM."""
    return {int(w) for w in review if w > RARE_FROM}


def shared_counts(held: Sequence[set[int]], pool: Sequence[set[int]]) -> Iterator[np.ndarray]:
    """Per held-out review: how many of its rare words each review of ``pool`` also has
    (indexed by pool position; shorter than ``pool`` when the last ones share none)."""
    postings: dict[int, list[int]] = {}
    for i, words in enumerate(pool):
        for w in words:
            postings.setdefault(w, []).append(i)
    for words in held:
        hits = [postings[w] for w in words if w in postings]
        yield np.bincount(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.int64)


def most_shared(held: Sequence[set[int]], pool: Sequence[set[int]]) -> np.ndarray:
    """For each held-out review, the most rare words it shares with any one review of ``pool``."""
    return np.array([c.max(initial=0) for c in shared_counts(held, pool)], dtype=np.int64)


def other_movies_split(
    reviews: Sequence[Sequence[int]],
    labels: np.ndarray,
    offset: int = 0,
    chunk: int = 250,
    every: int = 5,
    guard: int = 30,
    link: int = 4,
    shuffle: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers (train, val) of reviews in the file's order; see the module docstring.

    Chunk ``offset % every`` of every ``every`` is held out, in each class's reviews (the
    classes in the order they first appear). ``shuffle``: both lists in a random order of
    this seed instead of the file's.
    """
    train, val = [], []
    _, first = np.unique(labels, return_index=True)
    for label in labels[np.sort(first)]:
        rows = np.flatnonzero(labels == label)  # this class, in the file's order
        place = np.arange(len(rows))
        held = (place // chunk) % every == offset % every
        held &= place // chunk < len(rows) // chunk  # whole chunks only
        near = np.zeros(len(rows), dtype=bool)
        for start in np.flatnonzero(held & (place % chunk == 0)):
            near[max(0, start - guard) : start + chunk + guard] = True
        val.append(rows[held])
        train.append(rows[~near])
    train_rows, val_rows = np.concatenate(train), np.concatenate(val)
    if shuffle is not None:
        rng = np.random.RandomState(shuffle)
        train_rows = train_rows[rng.permutation(len(train_rows))]
        val_rows = val_rows[rng.permutation(len(val_rows))]
    words = [rare_words(r) for r in reviews]
    counts = shared_counts([words[i] for i in val_rows], [words[i] for i in train_rows])
    linked = np.zeros(len(train_rows), dtype=bool)  # shares `link` rare words with a held one
    for c in counts:
        linked[: len(c)] |= c >= link
    return train_rows[~linked], val_rows


def file_order(data_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The training reviews (word ranks) and labels of ``imdb.npz`` in the file's order."""
    with np.load(Path(data_dir) / "imdb.npz", allow_pickle=True) as f:
        return f["x_train"], f["y_train"]


def loader(offset: int, data_dir: str | Path) -> Any:
    """A ``start_run`` data loader: the run's IMDB data with this split instead of its own
    (chunk ``offset % 5`` held out, the rows shuffled with seed ``offset``)."""
    reviews, labels = file_order(data_dir)
    train_rows, val_rows = other_movies_split(reviews, labels, offset, shuffle=offset)
    order = np.random.RandomState(KERAS_SEED).permutation(len(labels))  # loader row -> file row
    keras_row = np.argsort(order)  # file row -> loader row

    def load(task: Any, cfg: Any) -> Any:
        from rnn_core.tasks.imdb import id_words, load_imdb_source, make_imdb_data

        source = load_imdb_source(cfg)
        data = make_imdb_data(replace(cfg, val_fraction=0.0, train_size=None), source)
        t, v = keras_row[train_rows], keras_row[val_rows]  # rows of the loader's order
        texts = tuple(" ".join(id_words(r, source.index_word)) for r in source.x_train[v[:5]])
        return replace(
            data,
            config=cfg,
            x_train=source.x_train[t],
            y_train=source.y_train[t],
            x_val=source.x_train[v],
            y_val=source.y_train[v],
            train_lengths=source.train_lengths[t],
            sample_texts=texts,
            note=f"{len(t):,} training reviews, {len(v):,} validation reviews of other movies.",
        )

    return load


def main() -> None:
    """Print the split's sizes and its rare-word sharing beside a random split and the test set."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--sample", type=int, default=1_000, help="held-out reviews measured")
    a = p.parse_args()
    with np.load(Path(a.data_dir) / "imdb.npz", allow_pickle=True) as f:
        reviews, labels, test = f["x_train"], f["y_train"], f["x_test"]
    rng = np.random.default_rng(0)
    words = [rare_words(r) for r in reviews]
    train_rows, val_rows = other_movies_split(reviews, labels, a.offset)
    shuffled = rng.permutation(len(labels))
    cut = len(labels) - len(val_rows)
    cases = {
        "other movies": (rng.choice(val_rows, a.sample, replace=False), train_rows),
        "random": (shuffled[cut : cut + a.sample], shuffled[:cut]),
    }
    print(f"other movies: {len(train_rows):,} training, {len(val_rows):,} validation reviews")
    for name, (held, pool) in cases.items():
        best = most_shared([words[i] for i in held], [words[i] for i in pool])
        print(f"{name:13s} mean {best.mean():.2f}  sharing 5 or more: {(best >= 5).mean():.1%}")
    held = [rare_words(test[i]) for i in rng.choice(len(test), a.sample, replace=False)]
    best = most_shared(held, words)
    print(f"{'test':13s} mean {best.mean():.2f}  sharing 5 or more: {(best >= 5).mean():.1%}")


if __name__ == "__main__":
    main()
