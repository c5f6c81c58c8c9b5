"""Why a recurrent layer saturates (or not): measured, plain-English accounts for the stepper."""

from __future__ import annotations

import numpy as np

from rnn_core.stepper.numpy_rnn import CellWeights, forward


def saturation_explanation(w: CellWeights, x: np.ndarray) -> str:
    """Plain-English reason, with the measured numbers, why every unit of the demo saturates."""
    h = forward([w], x)[0].h  # (T, H)
    h_prev = np.vstack([np.zeros((1, w.units)), h[:-1]])  # (T, H)
    wx, uh = x @ w.kernel, h_prev[1:] @ w.recurrent_kernel  # (T, H), (T-1, H)
    pre = (wx + w.bias)[1:] + uh  # (T-1, H) pre-activations once h is already ~1
    f, hn, lo = w.input_dim, w.units, float(pre.min())
    exact = int(np.sum(h[1:] == 1.0))
    return (
        f"Every input and every weight is drawn from [0, 1), so no term is ever negative. "
        f"Each unit sums {f} products x·w of about 0.5 × 0.5 = 0.25, so W·x ≈ {f * 0.25:.1f} "
        f"(measured {wx.mean():.2f}), plus a bias of about 0.5 (measured {w.bias.mean():.2f}). "
        f"After the first step h is already close to 1, so U·h adds about {hn} × 0.5 = "
        f"{hn * 0.5:.0f} more (measured {uh.mean():.2f}). The pre-activation therefore averages "
        f"{pre.mean():.1f} and is never below {lo:.1f}; tanh({lo:.1f}) = {np.tanh(lo):.12f}, "
        f"which is 1.0 to machine precision (in float64, tanh(x) is exactly 1 above x ≈ 19). "
        f"From t = 1 on, {exact:,} of {h[1:].size:,} values of h are exactly 1.0: every unit is "
        f"saturated, the slope of tanh there is 0, so no gradient can flow and the state carries "
        f"no information about the input. Zero-centred weights (Keras glorot_uniform / "
        f"orthogonal, zero bias) avoid this."
    )


def _nonnegative(w: CellWeights, x: np.ndarray) -> bool:
    """True when the input and every weight are >= 0 (seed 001's uniform [0, 1) setting)."""
    return min(float(a.min()) for a in (x, w.kernel, w.recurrent_kernel, w.bias)) >= 0.0


def saturation_summary(w: CellWeights, x: np.ndarray) -> str:
    """Measured account of how saturated h and the gates are, for any cell and weight scheme."""
    x = np.asarray(x)  # (T, F)
    if w.kind == "simple_rnn" and _nonnegative(w, x):
        return saturation_explanation(w, x)
    tr = forward([w], x)[0]
    h = tr.h  # (T, H)
    sat = float(np.mean(np.abs(h) > 0.99))
    gates = ", ".join(f"{n} = {g.mean():.3f}" for n, g in tr.gates.items())
    head = (
        f"Measured over all {h.size:,} values: {sat:.1%} of h have |h| > 0.99; h ranges "
        f"from {h.min():+.3f} to {h.max():+.3f} (mean {h.mean():+.3f})"
        + (f"; mean gates: {gates}." if gates else ".")
    )
    if not _nonnegative(w, x):
        bias = ", forget-gate bias 1" if w.kind == "lstm" else ""
        slope = "tanh" if w.kind == "simple_rnn" else "tanh and the gates' sigmoid"
        return (
            f"{head} Zero-centred weights (glorot_uniform input weights, orthogonal recurrent "
            f"weights, zero bias{bias}) keep the pre-activations near 0, where {slope} still "
            f"have slope: h follows the input and gradients can flow."
        )
    if w.kind == "lstm":
        c_end = float(tr.c[-1].mean())
        lowest = min(float(g.min()) for g in tr.gates.values())
        return (
            f"{head} Every input and weight is in [0, 1), so every pre-activation is large and "
            f"positive and every gate sits near 1 (lowest gate value {lowest:.4f}). The forget "
            f"gate keeps all of c and the input gate adds a candidate of about 1 each step, so "
            f"c grows by about 1 per step (mean c = {c_end:.1f} at the last step) and "
            f"h = o·tanh(c) sits at 1. Saturated gates have almost no slope, so almost no "
            f"gradient flows."
        )
    z = tr.gates["z"]  # (T, H) GRU update gate
    move = float(np.max(np.abs(np.diff(h, axis=0, prepend=0.0))))
    return (
        f"{head} Every input and weight is in [0, 1), so the update gate z sits near 1 "
        f"(mean {z.mean():.4f}, lowest {z.min():.4f}). GRU computes "
        f"h_t = z·h_(t-1) + (1-z)·candidate, so with z ≈ 1 it keeps almost all of its old "
        f"state, which starts at 0: h creeps up slowly (largest change in one step "
        f"{move:.4f}) instead of saturating at 1, and the input hardly affects it."
    )
