"""A smoothed character n-gram model in NumPy: the counting baseline a character RNN must beat.

Interpolated absolute discounting (Ney, Essen and Kneser 1994), optionally with Kneser-Ney
continuation counts for the lower orders. With ``c(h, x)`` the count of context ``h``
followed by ``x`` in the training ids, ``c(h) = sum_x c(h, x)``, ``n(h)`` the number of
distinct ``x`` after ``h`` and ``h'`` the context without its oldest character::

    P_k(x | h) = max(c(h, x) - D, 0) / c(h) + D * n(h) / c(h) * P_{k-1}(x | h')   if c(h) > 0
    P_k(x | h) = P_{k-1}(x | h')                                                  otherwise
    P_0(x) = 1 / V

Every P_k sums to 1 over the alphabet for 0 <= D <= 1. Counts are kept as sorted integer keys
(a k-gram of ids in base V), so fitting and scoring are a few ``np.unique`` and
``np.searchsorted`` calls: seconds on Nietzsche's 540k training characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ORDER = 7  # longest n-gram (six characters of context)
LN2 = float(np.log(2.0))


@dataclass(frozen=True)
class CountTable:
    """The counts of one order k: every k-gram seen, and every (k-1)-character context."""

    keys: np.ndarray  # (G,) sorted int64 keys of the distinct k-grams (base V)
    counts: np.ndarray  # (G,) their counts (continuation counts for Kneser-Ney lower orders)
    ctx_keys: np.ndarray  # (C,) sorted int64 keys of the distinct contexts (the first k-1 ids)
    ctx_total: np.ndarray  # (C,) c(h): the counts summed over what follows the context
    ctx_types: np.ndarray  # (C,) n(h): how many distinct characters follow the context


@dataclass(frozen=True)
class NGramModel:
    """A fitted character n-gram model; ``probs`` and ``log2_probs`` score text with it."""

    order: int  # n: the longest n-gram used (context of n - 1 characters)
    vocab_size: int  # V: the alphabet size (ids are 0 .. V-1)
    discount: float  # D in [0, 1], subtracted from every seen count
    kneser_ney: bool  # lower orders count distinct left neighbours instead of occurrences
    tables: tuple[CountTable, ...]  # one per order 1 .. n

    def probs(self, history: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """P(target | history) for each row. history (M, n-1) ids, -1 = none; returns (M,).

        The last column of ``history`` is the character just before the target; a row whose
        history is cut short (-1 entries at the left) uses the longest context it has.
        """
        m = len(targets)
        hist = np.asarray(history, np.int64).reshape(m, self.order - 1)  # (M, n-1)
        y = np.asarray(targets, np.int64)  # (M,)
        v = self.vocab_size
        p = np.full(m, 1.0 / v)  # (M,) P_0
        for k, table in enumerate(self.tables, start=1):
            ctx = hist[:, hist.shape[1] - (k - 1) :]  # (M, k-1) the last k-1 characters
            have = np.all(ctx >= 0, axis=1)  # (M,) rows whose context is that long
            ctx_key = _keys(np.maximum(ctx, 0), v)  # (M,)
            total, types = _lookup(table.ctx_keys, ctx_key, table.ctx_total, table.ctx_types)
            (count,) = _lookup(table.keys, ctx_key * v + y, table.counts)
            seen = have & (total > 0)  # (M,)
            safe = np.where(seen, total, 1)  # (M,)
            mixed = (
                np.maximum(count - self.discount, 0.0) / safe + self.discount * types / safe * p
            )  # (M,)
            p = np.where(seen, mixed, p)
        return p

    def log2_probs(self, history: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """log2 P(target | history) for each row, as :meth:`probs`. (M,)"""
        return np.log2(self.probs(history, targets))

    def distribution(self, history: np.ndarray) -> np.ndarray:
        """The whole next-character distribution after one history (n-1,). Returns (V,)."""
        v = self.vocab_size
        hist = np.broadcast_to(np.asarray(history, np.int64), (v, self.order - 1))  # (V, n-1)
        return self.probs(hist, np.arange(v))

    def text_bits(self, ids: np.ndarray) -> float:
        """Mean bits per character over ids (L,), each predicted from the ids before it in ids.

        The first character is predicted with no context, the second with one, and so on
        up to n - 1.
        """
        ids = np.asarray(ids, np.int64)  # (L,)
        return float(-self.log2_probs(histories(ids, self.order - 1), ids).mean())

    def window_bits(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean bits per target of next-character windows, context cut at the window start.

        ``x`` (N, T) are windows of ids and ``y`` their targets: (N, T) after every prefix or
        (N,) after the whole window, as :func:`rnn_core.data.corpus.make_windows` makes them.
        Each target is predicted from at most the n-1 ids before it inside its own window,
        i.e. never from more than a recurrent model reading that window from a zero state.
        """
        x = np.asarray(x, np.int64)  # (N, T)
        y = np.asarray(y, np.int64)  # (N, T) or (N,)
        w = self.order - 1
        if y.ndim == 1:  # the character after the window: its history is the window's end
            hist = histories(np.concatenate([x, y[:, None]], axis=1), w)[:, -1]  # (N, w)
            return float(-self.log2_probs(hist, y).mean())
        rows = np.concatenate([x[:, :1], y], axis=1)  # (N, T+1): the window and its last target
        hist = histories(rows, w)[:, 1:]  # (N, T, w)
        return float(-self.log2_probs(hist.reshape(y.size, w), y.ravel()).mean())


def _keys(ids: np.ndarray, v: int) -> np.ndarray:
    """Integer key of each row of ids (M, k) in base v (0 for k = 0). Returns (M,)."""
    key = np.zeros(len(ids), np.int64)  # (M,)
    for j in range(ids.shape[1]):
        key = key * v + ids[:, j]
    return key


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray, *values: np.ndarray) -> list[np.ndarray]:
    """The values stored at each of keys (M,) in a sorted key table, 0 where a key is absent."""
    at = np.searchsorted(sorted_keys, keys)  # (M,)
    at_safe = np.minimum(at, max(len(sorted_keys) - 1, 0))
    found = (
        (at < len(sorted_keys)) & (sorted_keys[at_safe] == keys)
        if len(sorted_keys)
        else (np.zeros(len(keys), bool))
    )
    return [np.where(found, val[at_safe], 0).astype(np.float64) for val in values]


def histories(ids: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` ids before each position of ids (..., L), -1 before the start: (..., L, w)."""
    ids = np.asarray(ids, np.int64)  # (..., L)
    pad = np.full((*ids.shape[:-1], width), -1, np.int64)  # (..., width)
    padded = np.concatenate([pad, ids], axis=-1)  # (..., width + L)
    view = np.lib.stride_tricks.sliding_window_view(padded, width + 1, axis=-1)  # (..., L, w+1)
    return np.ascontiguousarray(view[..., :width])  # (..., L, width)


def fit_ngram(
    ids: np.ndarray,
    vocab_size: int,
    order: int = 5,
    discount: float = 0.75,
    kneser_ney: bool = False,
) -> NGramModel:
    """Count the 1- to ``order``-grams of training ids (L,) over an alphabet of vocab_size."""
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be 1-{MAX_ORDER}, got {order}")
    if not 0.0 <= discount <= 1.0:
        raise ValueError(f"discount must be in [0, 1], got {discount}")
    ids = np.asarray(ids, np.int64)  # (L,)
    if len(ids) < order or ids.min(initial=0) < 0 or ids.max(initial=0) >= vocab_size:
        raise ValueError(f"need at least {order} ids in 0..{vocab_size - 1}")
    grams = [
        np.unique(_keys(np.lib.stride_tricks.sliding_window_view(ids, k), vocab_size),
                  return_counts=True)
        for k in range(1, order + 1)
    ]  # fmt: skip
    tables = []
    for k, (keys, counts) in enumerate(grams, start=1):
        if kneser_ney and k < order:  # how many distinct characters precede the k-gram
            longer = grams[k][0] % vocab_size**k  # (G',) the k-gram ending each (k+1)-gram
            keys, counts = np.unique(longer, return_counts=True)
        ctx_keys, start, types = np.unique(keys // vocab_size, return_index=True,
                                           return_counts=True)  # fmt: skip
        total = np.add.reduceat(counts, start)  # (C,) keys are sorted, so contexts are runs
        tables.append(CountTable(keys, counts, ctx_keys, total, types))
    return NGramModel(order, vocab_size, float(discount), kneser_ney, tuple(tables))


def bits_from_probs(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean bits per character of predicted distributions (..., V) at the targets (...)."""
    p = np.asarray(probs, np.float64)
    picked = np.take_along_axis(p, np.asarray(targets, np.int64)[..., None], axis=-1)[..., 0]
    return float(-np.log2(np.maximum(picked, 1e-300)).mean())
