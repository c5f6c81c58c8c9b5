"""Gradient lens: how strongly the output depends on each earlier input, by manual BPTT in NumPy.

``logit_gradients(model, x)`` differentiates a trained Keras classifier's logit through its
Dense head, its pooling over time (last state, max, mean, or both) and every recurrent layer; it is
re-exported as ``rnn_core.logit_gradients`` and ``rnn_core.stepper.logit_gradients``.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.stepper.numpy_rnn import (
    BLOCKS,
    CELL_NAMES,
    CellKind,
    CellWeights,
    LayerTrace,
    forward,
    random_weights,
    weights_from_keras,
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


def backward(layers: list[CellWeights], traces: list[LayerTrace], dh_top: np.ndarray) -> np.ndarray:
    """dL/d x_t (T, F) of the bottom layer, given dL/dh_t (T, H) injected into the top layer."""
    dh = np.asarray(dh_top, np.float64)  # (T, H_top)
    for w, tr in zip(reversed(layers), reversed(traces), strict=True):
        dh = _layer_backward(w, tr, dh)  # (T, F_layer) becomes dL/dh of the layer below
    return dh


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
    return backward(layers, traces, dh)


POOLINGS = {
    "GlobalMaxPooling1D": "max",
    "GlobalAveragePooling1D": "mean",
}  # Keras pooling layer -> how the head reads the top layer's h_t over time
_PASS_THROUGH = ("InputLayer", "Dropout", "SpatialDropout1D")  # identity at inference


@dataclass(frozen=True)
class LogitLens:
    """The gradient of a classifier's logit w.r.t. what its first recurrent layer reads."""

    gradients: np.ndarray  # (T, F) d logit / d x_t (x = embedded words for an Embedding model)
    logit: float  # the differentiated logit (pre-sigmoid / pre-softmax)
    class_index: int  # which output unit: 0 for a binary head, the class for a multi-class one
    head: str  # "binary" (sigmoid, 1 unit), "multiclass" (softmax) or "linear" (no activation)
    pooling: str  # "last" (h_T), "max", "mean" or "max+mean" over time of the top layer's h_t
    readout: np.ndarray  # (P,) Dense kernel column: d logit / d pooled h (P = H, or 2H)
    pooled: np.ndarray  # (P,) what the head reads: h_T, max_t h_t, mean_t h_t, or max then mean
    peaks: np.ndarray | None  # (H,) max pooling: timestep of each unit's maximum; else None

    @property
    def max_half(self) -> tuple[np.ndarray, np.ndarray]:
        """(max_t h_t, the head's weights on it), each (H,): what max pooling feeds the head."""
        units = 0 if self.peaks is None else self.peaks.size
        return self.pooled[:units], self.readout[:units]

    @property
    def norms(self) -> np.ndarray:
        """||d logit / d x_t|| per timestep, shape (T,)."""
        return np.linalg.norm(self.gradients, axis=1)  # (T,)

    def target(self, class_name: str | None = None) -> str:
        """What is differentiated, in words, e.g. "the logit of P(positive) … max pooling …"."""
        name = class_name or (f"class {self.class_index}" if self.head != "binary" else "")
        if self.head == "binary":
            what = f"the logit of P({name or 'class 1'}) (the pre-sigmoid output)"
        elif self.head == "multiclass":
            what = f"the logit of {name} (its pre-softmax score)"
        else:
            what = f"output {self.class_index} of the Dense head (no activation)"
        reads = {
            "last": "the last hidden state h_T",
            "max": "each unit's maximum over time, max_t h_t (max pooling)",
            "mean": "the mean over time of h_t (mean pooling)",
            "max+mean": "each unit's maximum over time and its mean over time, side by side "
            "(max and mean pooling)",
        }[self.pooling]
        return f"{what}, which the Dense head computes from {reads}"

    @property
    def entry(self) -> str:
        """Where the gradient enters the top layer's states h_t, in one sentence."""
        if self.pooling == "max":
            return (
                "The gradient enters h only at the timestep where each unit reaches its "
                "maximum (shared equally if the maximum is reached at several steps), not at "
                "the last step."
            )
        if self.pooling == "mean":
            return "Every h_t receives 1/T of the gradient, since the head reads their mean."
        if self.pooling == "max+mean":
            return (
                "Every h_t receives 1/T of the mean's share of the gradient; the max's share "
                "enters only at the timestep where each unit reaches its maximum."
            )
        return "The gradient enters h only at the last step, h_T."

    def tip(self, labels: Sequence[str]) -> str:
        """One sentence on the unit with the largest head weight and how it reaches the logit."""
        k = int(np.argmax(np.abs(self.readout)))
        w = float(self.readout[k])
        if self.pooling == "max+mean" and self.peaks is not None:
            units = self.peaks.size
            if k >= units:  # the largest weight reads a unit's mean
                t_len = self.gradients.shape[0]
                return (
                    f"Tip: the Dense head reads each unit's maximum and its mean over time. Its "
                    f"largest weight ({w:+.3f}) is on the mean of unit {k - units}: each of that "
                    f"unit's h_t moves the logit by {w / t_len:+.4f} through it (the weight "
                    f"divided by T = {t_len})."
                )
            t = int(self.peaks[k])
            return (
                f"Tip: the Dense head reads each unit's maximum and its mean over time. Its "
                f"largest weight ({w:+.3f}) is on the maximum of unit {k}, "
                f"{self.pooled[k]:+.3f}, reached at t = {t} ({labels[t]}): through it, only "
                "that step's h feeds the logit."
            )
        if self.pooling == "max" and self.peaks is not None:
            t = int(self.peaks[k])
            return (
                f"Tip: the Dense head reads each unit's maximum over time (max pooling). Unit "
                f"{k} has the largest weight ({w:+.3f}); its maximum, {self.pooled[k]:+.3f}, "
                f"is reached at t = {t} ({labels[t]}), so only its h at that step feeds the "
                "logit directly; its h_T matters only if the maximum is there."
            )
        if self.pooling == "mean":
            t_len = self.gradients.shape[0]
            return (
                f"Tip: the Dense head reads the mean over time of h (mean pooling). Unit {k} "
                f"has the largest weight ({w:+.3f}): each of its h_t moves the logit by "
                f"{w / t_len:+.4f} per unit of h_t (the weight divided by T = {t_len})."
            )
        return (
            f"Tip: the Dense head reads the last state h_T. Unit {k} has the largest weight "
            f"({w:+.3f}): a change of its h_T moves the logit most, by {w:+.3f} per unit of h_T."
        )


def words_per_step(model: Any) -> int:
    """How many embedded tokens a classifier's RNN reads per timestep: the Reshape right
    after its Embedding sets them side by side (1 without one)."""
    emb = next((lay for lay in model.layers if type(lay).__name__ == "Embedding"), None)
    group = next((lay for lay in model.layers if type(lay).__name__ == "Reshape"), None)
    if emb is None or group is None:
        return 1
    return int(group.target_shape[-1]) // int(emb.output_dim)


def embedded(model: Any, ids: np.ndarray) -> np.ndarray:
    """What a classifier's first RNN layer reads for token ids (T,): the Embedding's vectors,
    ``words_per_step`` side by side. Returns (T / k, k * E) float64."""
    emb = next(lay for lay in model.layers if type(lay).__name__ == "Embedding")
    vectors = np.asarray(emb.get_weights()[0], np.float64)[np.asarray(ids, np.int64)]  # (T, E)
    k = words_per_step(model)
    if len(vectors) % k:
        raise ValueError(f"{len(vectors)} tokens do not split into steps of {k} words")
    return vectors.reshape(len(vectors) // k, k * vectors.shape[1])  # (T/k, k*E)


def _classifier_parts(model: Any) -> tuple[Any, list[Any], str, Any]:
    """(Embedding or None, recurrent layers, pooling, Dense head) of a sequence classifier.

    A Reshape right after the Embedding (words read per timestep) passes. Raises ValueError
    naming the layer for anything this lens cannot differentiate.
    """
    emb, rnn, pooling, head = None, [], "", None
    for lay in model.layers:
        name = type(lay).__name__
        if name in _PASS_THROUGH:
            continue
        if head is not None:
            raise ValueError(f"{lay.name} ({name}) follows the Dense head: not a classifier")
        if name == "Bidirectional":
            raise ValueError(
                f"{lay.name} is Bidirectional: the logit then also depends on a backward pass "
                "over the sequence, which this lens does not differentiate. Use a model without "
                "Bidirectional layers."
            )
        if name == "Embedding" and not rnn and emb is None:
            if getattr(lay, "mask_zero", False):
                raise ValueError(f"{lay.name} masks padding (mask_zero): not supported")
            emb = lay
        elif name == "Reshape" and emb is not None and not rnn:
            continue  # the Embedding's vectors, words_per_step of them per timestep
        elif name in ("SimpleRNN", "LSTM", "GRU") and not pooling:
            rnn.append(lay)
        elif name in POOLINGS and rnn and not pooling:
            pooling = POOLINGS[name]
        elif name in POOLINGS and {pooling, POOLINGS[name]} == {"max", "mean"}:
            pooling = "max, mean"  # both poolings: a Concatenate must join them next
        elif name == "Concatenate" and pooling == "max, mean":
            sources = [getattr(t, "_keras_history", (None,))[0] for t in lay.input]
            joined = [POOLINGS.get(type(op).__name__) for op in sources]  # the layers it joins
            if joined != ["max", "mean"]:
                raise ValueError(f"{lay.name} must join the max pooling, then the mean pooling")
            pooling = "max+mean"
        elif name == "Dense" and rnn and pooling != "max, mean":
            head = lay
        else:
            raise ValueError(f"{lay.name} ({name}) is not part of an Embedding → RNN → Dense model")
    if not rnn or head is None:
        raise ValueError("the model is not a recurrent classifier (RNN layers, then a Dense head)")
    for lay in rnn[:-1]:
        if not lay.return_sequences:
            raise ValueError(f"{lay.name} does not return sequences, yet a layer reads it")
    if not pooling:
        if rnn[-1].return_sequences:
            raise ValueError(f"{rnn[-1].name} returns sequences with no pooling before the head")
        pooling = "last"
    elif not rnn[-1].return_sequences:
        raise ValueError(f"{rnn[-1].name} must return sequences for pooling over time")
    return emb, rnn, pooling, head


_STATE_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> sub-model


def _model_states(model: Any, emb: Any, rnn: list[Any], x: np.ndarray) -> np.ndarray:
    """The top recurrent layer's h_t (T, H) as the Keras model computes it (its own dtype).

    Max pooling picks, per unit, the timestep(s) of the largest h_t; over a long run of padding
    the float32 states become exactly equal, so the model's own values decide the ties. A
    compiled sub-model (input -> top recurrent layer) is kept per model: after its first call
    it costs ~0.1 s, where an eager call of an LSTM over 400 steps costs seconds.
    """
    from keras import Model, ops  # lazy: only max pooling asks the model where its maxima are

    seq = np.asarray(x)[None]  # (1, T) ids or (1, T, F)
    try:
        sub = _STATE_MODELS.get(model)
        if sub is None:
            sub = _STATE_MODELS[model] = Model(model.inputs, rnn[-1].output)
        return np.asarray(sub.predict_on_batch(seq))[0]  # (T, H)
    except (AttributeError, TypeError, ValueError):  # not a functional model: call the layers
        if emb is not None:
            h = emb(seq)  # (1, T, E)
            k = words_per_step(model)
            h = ops.reshape(h, (1, -1, k * h.shape[-1]))  # (1, T/k, k*E)
        else:
            h = ops.convert_to_tensor(seq, rnn[0].compute_dtype)
        for lay in rnn:
            h = lay(h, training=False)  # (1, T, H)
        return np.asarray(ops.convert_to_numpy(h))[0]  # (T, H)


def logit_lens(model: Any, x: np.ndarray, class_index: int | None = None) -> LogitLens:
    """Manual BPTT (NumPy, float64) of a Keras classifier's logit for one input ``x``.

    ``x`` is one sequence as the model reads it: token ids (T,) for an Embedding model, else
    (T, F). The logit is the pre-sigmoid output of a binary head, or the pre-softmax logit of
    ``class_index`` (default: the predicted class) of a multi-class head. The gradient is taken
    through the Dense head, the pooling (last state; max over time, where the model's own
    forward pass says each maximum is and ties share the gradient equally as TensorFlow does;
    mean over time; or max and mean side by side) and every recurrent layer, with respect to
    what the first recurrent layer reads at each timestep: the embedded sequence (T, E) for an
    Embedding model ((T/k, k*E) when it reads k words per step), else x itself (T, F).
    """
    emb, rnn, pooling, head = _classifier_parts(model)
    x, ids = np.asarray(x), None
    if emb is not None:
        ids = x.reshape(-1).astype(np.int64)  # (T,)
        seq = embedded(model, ids)  # (T/k, k*E) embedded words, k per timestep
    else:
        seq = np.asarray(x, np.float64)
        seq = seq[0] if seq.ndim == 3 and seq.shape[0] == 1 else seq  # (T, F)
    if seq.ndim != 2:
        raise ValueError(f"x must be one sequence (T,) of ids or (T, F), got shape {x.shape}")
    layers = [w.astype(np.float64) for w in weights_from_keras(rnn)]
    traces = forward(layers, seq)
    h = traces[-1].h  # (T, H) top layer's states
    t_len = h.shape[0]
    ws = head.get_weights()
    kernel = np.asarray(ws[0], np.float64)  # (H, C)
    bias = np.asarray(ws[1], np.float64) if len(ws) > 1 else np.zeros(kernel.shape[1])  # (C,)
    act = getattr(head.activation, "__name__", "")
    if act == "sigmoid" and kernel.shape[1] == 1:
        kind = "binary"
    elif act == "softmax":
        kind = "multiclass"
    elif act == "linear":
        kind = "linear"
    else:
        raise ValueError(f"{head.name}: a {act} head over {kernel.shape[1]} units is not supported")
    dh = np.zeros_like(h)  # (T, H): d logit / d h_t of the top layer
    peaks = None
    if pooling == "last":
        pooled = h[-1]  # (H,)
    elif pooling in ("max", "max+mean"):
        own = _model_states(model, emb, rnn, ids if emb is not None else seq)  # (T, H) model dtype
        ties = own == own.max(axis=0)  # (T, H): every timestep holding a unit's maximum
        share = ties / ties.sum(axis=0)  # (T, H): the gradient split over tied timesteps
        peaks = ties.argmax(axis=0)  # (H,) first timestep of each unit's maximum
        pooled = h[peaks, np.arange(h.shape[1])]  # (H,) the float64 state at that step
        if pooling == "max+mean":
            pooled = np.concatenate([pooled, h.mean(axis=0)])  # (2H,) max, then mean
    else:
        pooled = h.mean(axis=0)  # (H,)
    logits = pooled @ kernel + bias  # (C,)
    if class_index is None:
        class_index = int(np.argmax(logits)) if kind == "multiclass" else 0
    if not 0 <= class_index < kernel.shape[1]:
        raise ValueError(f"class_index {class_index} outside 0..{kernel.shape[1] - 1}")
    w = kernel[:, class_index]  # (H,) d logit / d pooled
    if pooling == "last":
        dh[-1] = w
    elif pooling == "max":
        dh = share * w  # (T, H)
    elif pooling == "max+mean":
        units = h.shape[1]
        dh = share * w[:units] + w[units:] / t_len  # (T, H): the max's share, then the mean's
    else:
        dh[:] = w / t_len  # (T, H)
    return LogitLens(
        gradients=backward(layers, traces, dh),
        logit=float(logits[class_index]),
        class_index=class_index,
        head=kind,
        pooling=pooling,
        readout=w,
        pooled=pooled,
        peaks=peaks,
    )


def logit_gradients(model: Any, x: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """d logit / d (what the first recurrent layer reads at t), shape (T, F); see logit_lens."""
    return logit_lens(model, x, class_index).gradients


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
    targets: Mapping[str, str] | None = None,
) -> str:
    """Plain-English reading of the horizons in ``norms``, claiming only what they show.

    ``targets`` says what is differentiated for a line (e.g. a trained classifier's logit
    through its pooling); lines without one differentiate the mean of their last state h_T.
    """
    if not norms:
        return ""
    t_len = len(next(iter(norms.values())))
    hz = {k: memory_horizon(v, threshold) for k, v in norms.items()}
    dead = [_NAMES.get(k, k) for k, v in norms.items() if not np.max(v) > 0]
    live = [f"{_steps(n)} with {_NAMES.get(k, k)}" for k, n in hz.items() if np.max(norms[k]) > 0]
    targets = dict(targets or {})
    parts = [f"for {_NAMES.get(k, k)}, {targets[k]}" for k in norms if k in targets]
    rest = [_NAMES.get(k, k) for k in norms if k not in targets]
    if rest:
        what = "the mean of the last hidden state h_T"
        parts.append(f"for {', '.join(rest)}, {what}" if parts else what)
    text = f"What is differentiated: {'; '.join(parts)}. "
    lead = f"Counting back from the last step (t = {t_len - 1}), "
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
