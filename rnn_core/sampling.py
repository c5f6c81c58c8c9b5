"""Temperature sampling and fast stateful character generation, in NumPy.

Generation carries each recurrent layer's state from one character to the next (the NumPy
cells of :mod:`rnn_core.stepper.numpy_rnn`) instead of re-reading the whole window with
``model.predict`` for every character, as the Keras example does. Two modes:

* carry (``window=None``): one state per sample, never reset: each new character costs one
  cell step. The distribution equals the full-window model's while the text is at most the
  training window long; beyond it the state keeps the older context too (as char-rnn does).
* window (``window=W``): exactly what re-reading the last W characters would give, at the
  cost of W states per sample: stream j restarts from a zero state at every position p with
  p % W == j, so at each position one stream has read precisely the last W characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.stepper.numpy_rnn import CellWeights, step, weights_from_keras

State = list[tuple[np.ndarray, np.ndarray | None]]  # per layer: h (R, H) and LSTM c (R, H)
# OpenBLAS spreads a matmul over threads above 2**18 multiply-adds. Next to TensorFlow training
# (and other users) those threads wait for a core: a 40-row GRU-128 step took ~15 ms instead of
# ~0.5 ms (measured), so generation keeps every matmul under the limit by splitting the rows.
SERIAL_MACS = 2**18


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Reweight probabilities to p^(1/T), renormalised; T=0 gives a one-hot argmax. (..., V)

    Computed in log space with the maximum subtracted, so T down to 0.05 (and below) cannot
    overflow; zero probabilities stay zero.
    """
    p = np.asarray(probs, np.float64)  # (..., V)
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("the model's probabilities are not finite: training has diverged")
    if temperature < 0 or not np.isfinite(temperature):
        raise ValueError(f"temperature must be 0 or positive, got {temperature}")
    if temperature == 0:
        out = np.zeros_like(p)  # (..., V)
        np.put_along_axis(out, p.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return out
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature  # (..., V); log 0 = -inf stays -inf
    logits -= logits.max(axis=-1, keepdims=True)  # largest is exactly 0: exp cannot overflow
    w = np.exp(logits)  # (..., V)
    return w / w.sum(axis=-1, keepdims=True)


def sample_ids(
    probs: np.ndarray, temperatures: float | Sequence[float], rng: np.random.Generator
) -> np.ndarray:
    """One id per row of probs (K, V), each row at its own temperature. Returns (K,).

    Pure: the only randomness is ``rng``. Rows at temperature 0 take the argmax and ignore
    their random number, so they are deterministic.
    """
    p = np.atleast_2d(probs)  # (K, V)
    temps = np.broadcast_to(np.asarray(temperatures, np.float64), (p.shape[0],))  # (K,)
    out = np.empty(p.shape[0], np.int64)  # (K,)
    u = rng.random(p.shape[0])  # (K,) one uniform per row, drawn whatever the temperatures
    for k, (row, t) in enumerate(zip(p, temps, strict=True)):
        q = apply_temperature(row, float(t))  # (V,)
        if t == 0:
            out[k] = int(q.argmax())
        else:  # inverse CDF, side="right": an id whose probability is 0 is never picked
            cdf = np.cumsum(q)  # (V,)
            pick = int(np.searchsorted(cdf, u[k] * cdf[-1], side="right"))
            out[k] = min(pick, len(q) - 1)
    return out


def entropy_bits(probs: np.ndarray) -> float:
    """Shannon entropy of one distribution in bits, never -0.0 (a certain choice reads 0.00)."""
    q = np.asarray(probs, np.float64).ravel()  # (V,)
    nz = q[q > 0]  # (K,)
    return max(0.0, float(-(nz * np.log2(nz)).sum()))


def top_next(probs: np.ndarray, temperature: float, k: int = 12) -> list[tuple[int, float, float]]:
    """The k most likely next ids at a temperature: (id, p at T, p at T=1), most likely first."""
    p = np.asarray(probs, np.float64).ravel()  # (V,)
    q = apply_temperature(p, temperature)  # (V,)
    order = np.lexsort((-p, -q))[:k]  # by p at T, ties (T=0) broken by p at T=1
    return [(int(i), float(q[i]), float(p[i])) for i in order]


def _as_rows(ids: Any, rows: int | None = None) -> np.ndarray:
    """Seed ids as (K, S): a 1-D seed is repeated for ``rows`` rows (default 1)."""
    arr = np.asarray(ids)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (rows or 1, arr.size))  # (K, S)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError("the seed text is empty: type at least one character")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{arr.shape[0]} seeds for {rows} temperatures")
    return arr


def _serial_step(
    w: CellWeights, x: np.ndarray, h: np.ndarray, c: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """One cell step of rows x (R, F) in row blocks whose matmuls stay single-threaded."""
    rows = max(1, SERIAL_MACS // (max(w.input_dim, w.units) * w.kernel.shape[1]))
    if len(x) <= rows:
        t = step(w, x, h, c)
        return t.h_t, t.c_t  # (R, H) each
    parts = [
        step(w, x[i : i + rows], h[i : i + rows], None if c is None else c[i : i + rows])
        for i in range(0, len(x), rows)
    ]
    h_new = np.concatenate([t.h_t for t in parts])  # (R, H)
    return h_new, None if c is None else np.concatenate([t.c_t for t in parts])


@dataclass(frozen=True)
class CharGenerator:
    """A trained Embedding -> RNN layers -> softmax model, run one character at a time."""

    embedding: np.ndarray  # (V, E) input table (the identity matrix for one-hot input)
    cells: tuple[CellWeights, ...]  # recurrent layers in Keras weight layout
    out_kernel: np.ndarray  # (H, V) softmax layer weights
    out_bias: np.ndarray  # (V,)

    @classmethod
    def from_keras(cls, model: Any) -> CharGenerator:
        """Copy the weights of a text model: an Embedding, recurrent layers, a Dense softmax."""
        emb = [la for la in model.layers if type(la).__name__ == "Embedding"]
        dense = [la for la in model.layers if type(la).__name__ == "Dense"]
        if len(emb) != 1 or len(dense) != 1:
            raise ValueError("a text model has one Embedding (or one-hot) and one Dense layer")
        kernel, bias = dense[0].get_weights()  # (H, V), (V,)
        return cls(emb[0].get_weights()[0], tuple(weights_from_keras(model)), kernel, bias)

    @property
    def vocab_size(self) -> int:
        """Number of characters V."""
        return int(self.out_bias.shape[0])

    def _probs(self, h: np.ndarray) -> np.ndarray:
        """Softmax over characters from the last layer's state h (K, H). Returns (K, V)."""
        logits = (h @ self.out_kernel + self.out_bias).astype(np.float64)  # (K, V)
        logits -= logits.max(axis=-1, keepdims=True)
        e = np.exp(logits)  # (K, V)
        return e / e.sum(axis=-1, keepdims=True)

    def _zero_state(self, rows: int) -> State:
        """Every layer's state at the start of a text. (R, H) each."""
        dt = self.out_kernel.dtype
        zeros = [np.zeros((rows, w.units), dt) for w in self.cells]  # (R, H) each
        return [
            (z, z.copy() if w.kind == "lstm" else None)
            for z, w in zip(zeros, self.cells, strict=True)
        ]

    def _advance(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Read one id per row (R,): the last layer's new h (R, H) and the new state."""
        x = self.embedding[ids]  # (R, E)
        new: State = []
        for w, (h, c) in zip(self.cells, state, strict=True):
            new.append(_serial_step(w, x, h, c))  # (R, H) each
            x = new[-1][0]  # (R, H) feeds the next layer
        return x, new

    def _read(
        self, ids: np.ndarray, state: State, p: int, window: int | None
    ) -> tuple[np.ndarray, State]:
        """Read the ids (K,) at text position p into every stream: next-id probs (K, V), state."""
        if window is None:
            h, state = self._advance(ids, state)  # (K, H)
            return self._probs(h), state
        k = len(ids)
        fresh = np.arange(k) * window + p % window  # (K,) the stream of each block starting at p
        for h, c in state:
            h[fresh] = 0.0
            if c is not None:
                c[fresh] = 0.0
        h, state = self._advance(np.repeat(ids, window), state)  # (K*W, H)
        full = np.arange(k) * window + max(p + 1 - window, 0) % window  # (K,) read the last W
        return self._probs(h[full]), state

    def _start(self, seeds: np.ndarray, window: int | None) -> tuple[np.ndarray, State]:
        """Read the seeds (K, S) from a zero state: next-id probs (K, V) and the state."""
        state = self._zero_state(len(seeds) * (window or 1))
        probs = np.empty((len(seeds), self.vocab_size))
        for p in range(seeds.shape[1]):
            probs, state = self._read(seeds[:, p], state, p, window)
        return probs, state

    def next_probs(self, ids: Any, window: int | None = None) -> np.ndarray:
        """Next-id distribution after reading ids (S,) or (K, S). Returns (K, V)."""
        return self._start(_as_rows(ids), window)[0]

    def prefix_probs(self, ids: Any, window: int | None = None) -> np.ndarray:
        """Next-id distribution after every prefix of one text ids (S,). Returns (S, V)."""
        seq = _as_rows(ids)[0]  # (S,)
        state = self._zero_state(window or 1)
        out = np.empty((len(seq), self.vocab_size))  # (S, V)
        for p in range(len(seq)):
            probs, state = self._read(seq[p : p + 1], state, p, window)
            out[p] = probs[0]
        return out

    def generate(
        self,
        seed_ids: Any,
        length: int,
        temperatures: Sequence[float],
        rng: np.random.Generator,
        window: int | None = None,
    ) -> np.ndarray:
        """Continue a seed (S,) or one seed per temperature (K, S). Returns ids (K, length).

        ``window=None`` carries the state; ``window=W`` samples exactly as re-reading the
        last W characters would (see the module docstring).
        """
        temps = np.asarray(temperatures, np.float64).ravel()  # (K,)
        seeds = _as_rows(seed_ids, len(temps))  # (K, S)
        probs, state = self._start(seeds, window)  # (K, V)
        out = np.empty((len(temps), length), np.int64)  # (K, length)
        for t in range(length):
            out[:, t] = sample_ids(probs, temps, rng)  # (K,)
            if t + 1 < length:
                probs, state = self._read(out[:, t], state, seeds.shape[1] + t, window)
        return out


def generate_text(
    gen: CharGenerator,
    vocab: Any,
    seed: str,
    length: int,
    temperatures: Sequence[float],
    rng: np.random.Generator,
    window: int | None = None,
) -> list[str]:
    """The continuation of ``seed`` at each temperature (seed not included)."""
    ids = gen.generate(vocab.encode(seed), length, temperatures, rng, window)  # (K, length)
    return [vocab.decode(row) for row in ids]
