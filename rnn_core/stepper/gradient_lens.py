"""Gradient lens: how strongly h_T depends on each earlier input, by manual BPTT in NumPy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rnn_core.stepper.numpy_rnn import (
    BLOCKS,
    CELL_NAMES,
    CellKind,
    CellWeights,
    LayerTrace,
    forward,
    random_weights,
)


def _layer_backward(w: CellWeights, tr: LayerTrace, dh_out: np.ndarray) -> np.ndarray:
    """Backprop one layer through time: dL/dh_t injected per step (T, H) -> dL/dinput (T, F)."""
    t_len, hn = tr.h.shape
    u = w.recurrent_kernel  # (H, k*H)
    h_prev = np.vstack([np.zeros((1, hn)), tr.h[:-1]])  # (T, H)
    dpre = np.zeros((t_len, len(BLOCKS[w.kind]) * hn))  # (T, k*H): dL/d pre-activation
    dh_next, dc_next = np.zeros(hn), np.zeros(hn)  # (H,) gradients flowing back from t+1
    for t in range(t_len - 1, -1, -1):
        dh = dh_out[t] + dh_next  # (H,)
        hp = h_prev[t]  # (H,)
        if w.kind == "simple_rnn":
            da = dh * (1.0 - tr.h[t] ** 2)  # (H,)
            dh_next = da @ u.T  # (H,)
        elif w.kind == "lstm":
            i, f, o, g = tr.gates["i"][t], tr.gates["f"][t], tr.gates["o"][t], tr.candidate[t]
            c_prev = tr.c[t - 1] if t > 0 else np.zeros(hn)  # (H,)
            tc = np.tanh(tr.c[t])  # (H,)
            dc = dc_next + dh * o * (1.0 - tc**2)  # (H,)
            da = np.concatenate(
                [
                    dc * g * i * (1 - i),
                    dc * c_prev * f * (1 - f),
                    dc * i * (1 - g**2),
                    dh * tc * o * (1 - o),
                ]
            )  # (4H,) in i, f, c, o order
            dc_next = dc * f  # (H,)
            dh_next = da @ u.T  # (H,)
        else:
            z, r, hh = tr.gates["z"][t], tr.gates["r"][t], tr.candidate[t]
            dah = dh * (1 - z) * (1 - hh**2)  # (H,) d pre_h
            daz = dh * (hp - hh) * z * (1 - z)  # (H,) d pre_z
            if w.reset_after:
                rh = hp @ u[:, 2 * hn :] + w.recurrent_bias[2 * hn :]  # (H,) U_h·h + b_rec_h
                dar = dah * rh * r * (1 - r)  # (H,)
                dh_next = dh * z + np.concatenate([daz, dar, dah * r]) @ u.T  # (H,)
            else:
                d_rh = dah @ u[:, 2 * hn :].T  # (H,) d (r * h_prev)
                dar = d_rh * hp * r * (1 - r)  # (H,)
                dh_next = dh * z + d_rh * r + np.concatenate([daz, dar]) @ u[:, : 2 * hn].T
            da = np.concatenate([daz, dar, dah])  # (3H,)
        dpre[t] = da
    return dpre @ w.kernel.T  # (T, F): all input gradients in one matmul


def input_gradients(
    layers: list[CellWeights], x: np.ndarray, readout: np.ndarray | None = None
) -> np.ndarray:
    """d(readout·h_T of the top layer)/d x_t for every t, shape (T, F); default readout = mean."""
    layers = [w.astype(np.float64) for w in layers]
    x = np.asarray(x, np.float64)  # (T, F)
    if x.ndim != 2:
        raise ValueError(f"x must be (T, F), got {x.shape}")
    traces = forward(layers, x)
    hn = layers[-1].units
    dh = np.zeros((x.shape[0], hn))  # (T, H): loss only reads the last top-layer state
    dh[-1] = np.full(hn, 1.0 / hn) if readout is None else np.asarray(readout, np.float64)
    for w, tr in zip(reversed(layers), reversed(traces), strict=True):
        dh = _layer_backward(w, tr, dh)  # (T, F_layer) becomes dL/dh of the layer below
    return dh


def input_gradient_norms(
    layers: list[CellWeights], x: np.ndarray, readout: np.ndarray | None = None
) -> np.ndarray:
    """||d(readout·h_T)/d x_t|| for every timestep t, shape (T,)."""
    return np.linalg.norm(input_gradients(layers, x, readout), axis=1)  # (T,)


def memory_horizon(norms: np.ndarray, threshold: float = 0.01) -> int:
    """How many steps back the gradient norm stays above ``threshold`` × its maximum."""
    norms = np.asarray(norms)  # (T,)
    if norms.size == 0 or not norms.max() > 0:
        return 0  # no gradient at all: nothing is remembered
    above = np.nonzero(norms >= threshold * norms.max())[0]
    return int(len(norms) - 1 - above.min()) if above.size else 0


def compare_cells_with_gates(
    x: np.ndarray,
    units: int,
    rng: np.random.Generator,
    kinds: Sequence[CellKind] = ("simple_rnn", "lstm", "gru"),
    n_layers: int = 1,
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """Gradient norms per timestep per cell (Keras-default weights), plus top-layer gate means."""
    x = np.asarray(x)  # (T, F)
    norms, gate_means = {}, {}
    for kind in kinds:
        dims = [x.shape[1]] + [units] * (n_layers - 1)
        layers = [
            random_weights(kind, d, units, "keras_default", rng, dtype=np.float64) for d in dims
        ]
        norms[kind] = input_gradient_norms(layers, x)  # (T,)
        top = forward(layers, x)[-1]
        gate_means[kind] = {n: float(g.mean()) for n, g in top.gates.items()}
    return norms, gate_means


def compare_cells(
    x: np.ndarray,
    units: int,
    rng: np.random.Generator,
    kinds: Sequence[CellKind] = ("simple_rnn", "lstm", "gru"),
    n_layers: int = 1,
) -> dict[str, np.ndarray]:
    """Gradient norms per timestep for each cell kind with Keras-default random weights."""
    return compare_cells_with_gates(x, units, rng, kinds, n_layers)[0]


def decay_per_step(norms: np.ndarray, window: int = 100) -> float | None:
    """Average factor the gradient is multiplied by per step back, over the last ``window``
    timesteps (least-squares fit of log10 ‖∂ output / ∂ x_t‖ against t); None without at
    least two non-zero values."""
    v = np.asarray(norms, np.float64)[-window:]  # (W,)
    t = np.nonzero(v > 0)[0]
    if t.size < 2:
        return None
    slope = np.polyfit(t, np.log10(v[t]), 1)[0]  # log10 growth per step towards the readout
    return float(10.0 ** (-slope))


_NAMES = CELL_NAMES


def _steps(n: int) -> str:
    """'1 step' / 'n steps'."""
    return f"{n} step" if n == 1 else f"{n} steps"


def memory_summary(
    norms: Mapping[str, np.ndarray],
    gate_means: Mapping[str, Mapping[str, float]] | None = None,
    threshold: float = 0.01,
) -> str:
    """Plain-English reading of the horizons in ``norms``, claiming only what they show."""
    if not norms:
        return ""
    t_len = len(next(iter(norms.values())))
    hz = {k: memory_horizon(v, threshold) for k, v in norms.items()}
    dead = [_NAMES.get(k, k) for k, v in norms.items() if not np.max(v) > 0]
    live = [f"{_steps(n)} with {_NAMES.get(k, k)}" for k, n in hz.items() if np.max(norms[k]) > 0]
    lead = f"Reading out at the last step (t = {t_len - 1}), "
    text = ""
    if live:
        text += (
            f"{lead}inputs still get at least {threshold:.0%} of the largest gradient as far "
            f"back as {', '.join(live[:-1]) + ' and ' if len(live) > 1 else ''}{live[-1]}. "
        )
    if dead:
        text += (
            f"{lead + 'the' if not live else 'The'} gradient of {' and '.join(dead)} is exactly 0 "
            f"at every timestep: small changes to any input do not change the output at all. "
        )
    hz = {k: n for k, n in hz.items() if np.max(norms[k]) > 0}
    order = sorted(hz, key=hz.get)
    if len(hz) > 1 and hz[order[0]] != hz[order[-1]]:
        text += (
            f"Longest horizon here: {_NAMES.get(order[-1], order[-1])}; shortest: "
            f"{_NAMES.get(order[0], order[0])}. "
        )
    elif len(hz) > 1:
        text += "All horizons are equal here. "
    window = min(t_len, 100)
    rates = {k: decay_per_step(norms[k], window) for k in hz}
    rates = {k: r for k, r in rates.items() if r is not None}
    if rates:
        parts = [f"×{r:.2f} with {_NAMES.get(k, k)}" for k, r in rates.items()]
        text += (
            f"Each step further back multiplies the gradient on average by "
            f"{', '.join(parts[:-1]) + ' and ' if len(parts) > 1 else ''}{parts[-1]} (fitted "
            f"over the last {window} steps); the factors compound, e.g. 0.9 per step leaves "
            f"0.9^50 ≈ 0.005 after 50 steps. "
        )
    gm = gate_means or {}
    if "f" in gm.get("lstm", {}):
        f = gm["lstm"]["f"]
        text += (
            f"LSTM's forget gate averages {f:.2f} (its bias starts at 1), so the cell state "
            f"keeps about {f:.0%} of itself per step. "
        )
    if "z" in gm.get("gru", {}):
        z = gm["gru"]["z"]
        text += (
            f"GRU's update gate averages {z:.2f} (zero bias), so each step keeps only about "
            f"{z:.0%} of the old state and takes the rest from the new candidate. "
        )
    if gm:
        text += (
            "The SimpleRNN, LSTM and GRU lines are untrained layers with Keras's default "
            "initialisers; training changes the gates, and with them how far back each cell "
            "remembers."
        )
    return text.strip()
