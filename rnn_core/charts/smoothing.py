"""TensorBoard's smoothing of a noisy curve: a debiased exponential moving average."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ema(values: Sequence[float] | np.ndarray, weight: float) -> np.ndarray:
    """Debiased exponential moving average of ``values`` with smoothing ``weight`` in [0, 1).

    As TensorBoard smooths scalars: ``last = weight·last + (1 − weight)·v`` starting from 0,
    divided by ``1 − weight^n`` (n finite points so far) so the start is not pulled to 0.
    Weight 0 returns the values; NaN and ±inf stay where they are and are skipped by the
    average; a constant series is returned as it is (no rounding wobble).
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    v = np.asarray(values, dtype=np.float64)  # (N,)
    out = v.copy()  # (N,)
    finite = np.isfinite(v)  # (N,)
    if v.size == 0 or np.all(v == v[0]):
        return out
    last = 0.0
    for n, i in enumerate(np.flatnonzero(finite), start=1):
        last = last * weight + (1.0 - weight) * v[i]
        out[i] = last / (1.0 - weight**n)
    return out
