"""Variable-length integer sequences stored flat, so a corpus of reviews is two arrays, not
millions of Python ints."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _within(lengths: np.ndarray) -> np.ndarray:
    """(sum of lengths,) each token's place in its own sequence, the sequences back to back."""
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


@dataclass(frozen=True)
class Ragged:
    """Sequence ``i`` is ``ids[starts[i] : starts[i] + lengths[i]]``."""

    ids: np.ndarray  # (sum of lengths,) integer tokens of every sequence, back to back
    lengths: np.ndarray  # (N,) int64 tokens per sequence

    @classmethod
    def from_lists(cls, seqs: Sequence[Sequence[int]], dtype: type = np.int32) -> Ragged:
        """Flatten a list (or object array) of integer lists."""
        lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))  # (N,)
        ids = np.fromiter(
            itertools.chain.from_iterable(seqs), dtype=dtype, count=int(lengths.sum())
        )  # (total,)
        return cls(ids, lengths)

    def __len__(self) -> int:
        """How many sequences."""
        return len(self.lengths)

    @property
    def starts(self) -> np.ndarray:
        """(N,) where each sequence begins in :attr:`ids`."""
        return np.cumsum(self.lengths) - self.lengths

    def take(self, index: np.ndarray) -> Ragged:
        """The sequences at ``index`` (integer positions or a boolean mask), in that order."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        lengths = self.lengths[index]  # (M,)
        positions = np.repeat(self.starts[index], lengths) + _within(lengths)  # (total,)
        return Ragged(self.ids[positions], lengths)

    def to_lists(self) -> np.ndarray:
        """An object array of Python int lists, the form ``keras.datasets.imdb`` returns."""
        values = self.ids.tolist()
        out = np.empty(len(self), dtype=object)
        for i, (a, n) in enumerate(zip(self.starts.tolist(), self.lengths.tolist(), strict=True)):
            out[i] = values[a : a + n]
        return out

    def padded(
        self,
        maxlen: int | None,
        padding: str = "pre",
        truncating: str = "pre",
        value: int = 0,
    ) -> np.ndarray:
        """An (N, maxlen) int32 array, as ``keras.utils.pad_sequences`` pads and cuts."""
        if padding not in ("pre", "post") or truncating not in ("pre", "post"):
            raise ValueError(
                f"padding/truncating must be 'pre' or 'post', got {padding}/{truncating}"
            )
        if maxlen is None:
            maxlen = int(self.lengths.max(initial=0))
        if maxlen < 1 and self.lengths.any():
            raise ValueError(f"maxlen must be >= 1, got {maxlen}")
        out = np.full((len(self), max(0, maxlen)), value, dtype=np.int32)  # (N, T)
        kept = np.minimum(self.lengths, max(0, maxlen))  # (N,) tokens that stay
        src = self.starts + (self.lengths - kept if truncating == "pre" else 0)  # (N,)
        col = (maxlen - kept) if padding == "pre" else np.zeros_like(kept)  # (N,) first column
        rows = np.repeat(np.arange(len(self)), kept)  # (K,)
        within = _within(kept)  # (K,)
        out[rows, np.repeat(col, kept) + within] = self.ids[np.repeat(src, kept) + within]
        return out
