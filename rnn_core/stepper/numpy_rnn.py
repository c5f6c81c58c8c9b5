"""NumPy SimpleRNN / LSTM / GRU cells in Keras 3 weight layout, exposing every intermediate term."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

CellKind = Literal["simple_rnn", "lstm", "gru"]
# Gate blocks in Keras column order inside kernel / recurrent_kernel / bias.
BLOCKS: dict[str, tuple[str, ...]] = {
    "simple_rnn": ("h",),
    "lstm": ("i", "f", "c", "o"),
    "gru": ("z", "r", "h"),
}
# A cell kind and the Keras layer class that implements it, both ways.
CELL_NAMES: dict[str, str] = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
CELL_KINDS: dict[str, CellKind] = {v: k for k, v in CELL_NAMES.items()}


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Plain logistic sigmoid 1/(1+e^-x) (Keras 3 recurrent_activation), overflow-free."""
    return np.exp(-np.logaddexp(0.0, -x))


def _frozen(a: Any) -> np.ndarray:
    """Read-only copy of an array, so cached weights cannot be mutated by accident."""
    out = np.array(a)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class CellWeights:
    """Weights of one recurrent layer, laid out exactly like Keras 3 ``get_weights()``."""

    kind: CellKind  # "simple_rnn" | "lstm" | "gru"
    kernel: np.ndarray  # (F, k*H) input weights W, gate blocks side by side
    recurrent_kernel: np.ndarray  # (H, k*H) recurrent weights U, same block order
    bias: np.ndarray  # (k*H,); GRU reset_after=True: (2, 3H) = [input bias, recurrent bias]
    reset_after: bool = True  # GRU only: reset gate multiplies (U·h + b_rec) (Keras default)

    def __post_init__(self) -> None:
        """Validate shapes against the cell kind and freeze the arrays."""
        if self.kind not in BLOCKS:
            raise ValueError(f"unknown cell kind {self.kind!r}")
        for name in ("kernel", "recurrent_kernel", "bias"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        k, h = len(BLOCKS[self.kind]), self.recurrent_kernel.shape[0]
        two_bias = self.kind == "gru" and self.reset_after
        expected = {
            "kernel": (self.kernel.shape[0], k * h),
            "recurrent_kernel": (h, k * h),
            "bias": (2, k * h) if two_bias else (k * h,),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                got = getattr(self, name).shape
                raise ValueError(f"{self.kind} {name} has shape {got}, expected {shape}")

    @property
    def units(self) -> int:
        """Number of hidden units H."""
        return int(self.recurrent_kernel.shape[0])

    @property
    def input_dim(self) -> int:
        """Number of input features F."""
        return int(self.kernel.shape[0])

    @property
    def input_bias(self) -> np.ndarray:
        """Bias added to W·x, shape (k*H,)."""
        return self.bias[0] if self.bias.ndim == 2 else self.bias

    @property
    def recurrent_bias(self) -> np.ndarray | None:
        """GRU reset_after recurrent bias added to U·h, shape (3H,); None otherwise."""
        return self.bias[1] if self.bias.ndim == 2 else None

    def astype(self, dtype: Any) -> CellWeights:
        """Same weights cast to ``dtype``."""
        return CellWeights(
            self.kind,
            self.kernel.astype(dtype),
            self.recurrent_kernel.astype(dtype),
            self.bias.astype(dtype),
            self.reset_after,
        )


@dataclass(frozen=True)
class StepTerms:
    """Every intermediate term of one cell step; ``pre = (wx + b) + rec`` holds exactly."""

    kind: CellKind  # which cell produced these terms
    x_t: np.ndarray  # (..., F) input at this step
    h_prev: np.ndarray  # (..., H) hidden state h_{t-1}
    c_prev: np.ndarray | None  # (..., H) LSTM carry c_{t-1}; None for SimpleRNN / GRU
    b: np.ndarray  # (k*H,) input bias b
    b_rec: np.ndarray | None  # (k*H,) GRU reset_after recurrent bias; None otherwise
    wx: np.ndarray  # (..., k*H) W·x_t for every gate block
    uh: np.ndarray  # (..., k*H) U·h_{t-1} for every gate block (plain matmul)
    rec: np.ndarray  # (..., k*H) recurrent term added to each block (GRU: b_rec and r folded in)
    pre: np.ndarray  # (..., k*H) pre-activations, blocks in BLOCKS[kind] order
    gates: dict[str, np.ndarray]  # (..., H) sigmoid gates: LSTM i,f,o; GRU z,r; SimpleRNN none
    candidate: np.ndarray  # (..., H) tanh of the candidate block (SimpleRNN: equals h_t)
    c_t: np.ndarray | None  # (..., H) LSTM new carry c_t; None otherwise
    h_t: np.ndarray  # (..., H) new hidden state h_t

    def block(self, name: str, term: str = "pre") -> np.ndarray:
        """Slice gate block ``name`` (e.g. "f") out of a (..., k*H) term such as "wx" or "pre"."""
        j, arr = BLOCKS[self.kind].index(name), getattr(self, term)
        h = self.h_t.shape[-1]
        return arr[..., j * h : (j + 1) * h]


@dataclass(frozen=True)
class LayerTrace:
    """Everything one layer computed over a sequence, as returned by ``forward``."""

    kind: CellKind  # which cell produced this trace
    h: np.ndarray  # ([B,] T, H) hidden states h_0..h_{T-1} (after each step)
    c: np.ndarray | None  # ([B,] T, H) LSTM carries; None otherwise
    gates: dict[str, np.ndarray]  # name -> ([B,] T, H) sigmoid gate values per step
    candidate: np.ndarray  # ([B,] T, H) tanh candidate per step


def _core(w: CellWeights, xwb: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray | None):
    """One cell step from xwb = W·x + b; returns (uh, rec, pre, gates, candidate, c, h)."""
    hn = w.units
    uh = h_prev @ w.recurrent_kernel  # (B, k*H)
    if w.kind == "simple_rnn":
        pre = xwb + uh  # (B, H)
        h = np.tanh(pre)  # (B, H)
        return uh, uh, pre, {}, h, None, h
    if w.kind == "lstm":
        pre = xwb + uh  # (B, 4H)
        sg = sigmoid(pre)  # (B, 4H); the c block is unused
        i, f, o = sg[..., :hn], sg[..., hn : 2 * hn], sg[..., 3 * hn :]  # (B, H) each
        g = np.tanh(pre[..., 2 * hn : 3 * hn])  # (B, H)
        c = f * c_prev + i * g  # (B, H)
        h = o * np.tanh(c)  # (B, H)
        return uh, uh, pre, {"i": i, "f": f, "o": o}, g, c, h
    b_rec = w.recurrent_bias
    rec_zr = uh[..., : 2 * hn] if b_rec is None else uh[..., : 2 * hn] + b_rec[: 2 * hn]  # (B, 2H)
    pre_zr = xwb[..., : 2 * hn] + rec_zr  # (B, 2H)
    z, r = sigmoid(pre_zr[..., :hn]), sigmoid(pre_zr[..., hn:])  # (B, H) each
    if b_rec is not None:  # reset_after=True: r * (U_h·h + b_rec_h)
        rec_h = r * (uh[..., 2 * hn :] + b_rec[2 * hn :])  # (B, H)
    else:  # reset_after=False: U_h·(r * h)
        rec_h = (r * h_prev) @ w.recurrent_kernel[:, 2 * hn :]  # (B, H)
    pre_h = xwb[..., 2 * hn :] + rec_h  # (B, H)
    hh = np.tanh(pre_h)  # (B, H)
    h = z * h_prev + (1 - z) * hh  # (B, H)
    rec = np.concatenate([rec_zr, rec_h], axis=-1)  # (B, 3H)
    pre = np.concatenate([pre_zr, pre_h], axis=-1)  # (B, 3H)
    return uh, rec, pre, {"z": z, "r": r}, hh, None, h


def step(
    w: CellWeights,
    x_t: np.ndarray,
    h_prev: np.ndarray | None = None,
    c_prev: np.ndarray | None = None,
) -> StepTerms:
    """Run one cell step on x_t (..., F) from h_{t-1} (and c_{t-1}), returning every term."""
    x_t = np.asarray(x_t)
    dtype = np.result_type(x_t, w.kernel)
    lead = x_t.shape[:-1]
    h_prev = np.zeros((*lead, w.units), dtype) if h_prev is None else np.asarray(h_prev)
    if w.kind == "lstm" and c_prev is None:
        c_prev = np.zeros((*lead, w.units), dtype)  # (..., H)
    c_prev = c_prev if w.kind == "lstm" else None
    wx = x_t @ w.kernel  # (..., k*H)
    core = _core(w, wx + w.input_bias, h_prev, c_prev)  # uh, rec, pre, gates, cand, c, h
    return StepTerms(w.kind, x_t, h_prev, c_prev, w.input_bias, w.recurrent_bias, wx, *core)


def _run_layer(w: CellWeights, seq: np.ndarray) -> LayerTrace:
    """Run one layer over seq ([B,] T, F); every array keeps the optional batch axis."""
    dtype = np.result_type(seq, w.kernel)
    xwb = seq @ w.kernel + w.input_bias  # ([B,] T, k*H): input projection for all t at once
    h = np.zeros((*seq.shape[:-2], w.units), dtype)  # ([B,] H)
    c = np.zeros_like(h) if w.kind == "lstm" else None  # ([B,] H)
    hs = np.empty((*seq.shape[:-1], w.units), dtype)  # ([B,] T, H)
    cands = np.empty_like(hs)  # ([B,] T, H)
    cs = np.empty_like(hs) if c is not None else None  # ([B,] T, H)
    names = {"lstm": ("i", "f", "o"), "gru": ("z", "r")}.get(w.kind, ())
    gates = {n: np.empty_like(hs) for n in names}  # name -> ([B,] T, H)
    for t in range(seq.shape[-2]):
        _, _, _, g, cand, c, h = _core(w, xwb[..., t, :], h, c)
        hs[..., t, :], cands[..., t, :] = h, cand
        if cs is not None:
            cs[..., t, :] = c
        for n in names:
            gates[n][..., t, :] = g[n]
    return LayerTrace(w.kind, hs, cs, gates, cands)


def forward(layers: list[CellWeights], x: np.ndarray) -> list[LayerTrace]:
    """Run stacked layers over x (T, F) or (B, T, F); one LayerTrace per layer, same batch axes."""
    seq = np.asarray(x)  # ([B,] T, F)
    traces = []
    for w in layers:
        traces.append(_run_layer(w, seq))
        seq = traces[-1].h  # ([B,] T, H) feeds the next layer
    return traces


def step_at(
    layers: list[CellWeights], traces: list[LayerTrace], x: np.ndarray, layer: int, t: int
) -> StepTerms:
    """Recompute step t of ``layer`` with all terms, reusing cached ``forward`` states."""
    inp = np.asarray(x) if layer == 0 else traces[layer - 1].h  # ([B,] T, F_layer)
    tr = traces[layer]
    h_prev = tr.h[..., t - 1, :] if t > 0 else None  # ([B,] H)
    c_prev = tr.c[..., t - 1, :] if t > 0 and tr.c is not None else None  # ([B,] H)
    return step(layers[layer], inp[..., t, :], h_prev, c_prev)


B_REC = "b'"  # GRU reset_after: the recurrent bias b' (second row of bias)
R_AFTER = "r⊙(U·h+b')"  # GRU reset_after candidate: the reset gate times (U_h·h + b'_h)
R_BEFORE = "U·(r⊙h)"  # GRU reset_after=False candidate: U_h times the reset-gated state


def block_sum_keys(terms: dict[str, float]) -> tuple[str, ...]:
    """The terms of one block (from ``unit_terms``) that add up to its pre-activation.

    The GRU reset_after candidate adds r⊙(U·h+b') (its U·h and b' enter only through it).
    """
    if R_AFTER in terms:
        return ("W·x", R_AFTER, "b")
    return tuple(k for k in ("W·x", "U·h", R_BEFORE, B_REC, "b") if k in terms)


def unit_terms(terms: StepTerms, unit: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Scalar terms of one unit (single sequence) per block, then its states.

    Every block has W·x (input times kernel column), b (input bias), pre-activation and
    activation. U·h is always the plain product h_(t-1)·U. GRU reset_after adds b' (the
    recurrent bias) and, for the candidate, r⊙(U·h+b'); GRU reset_after=False gives the
    candidate U·(r⊙h) instead of U·h. ``block_sum_keys`` names the terms that add up.
    """
    blocks = {}
    gru, after = terms.kind == "gru", terms.b_rec is not None
    for name in BLOCKS[terms.kind]:
        act = terms.gates.get(name, terms.candidate)
        j = BLOCKS[terms.kind].index(name) * terms.h_t.shape[-1] + unit  # column in (k*H,)
        vals = {"W·x": float(terms.wx[j])}
        if gru and name == "h" and not after:
            vals[R_BEFORE] = float(terms.rec[j])  # U_h·(r ⊙ h_(t-1))
        else:
            vals["U·h"] = float(terms.uh[j])
        if after:
            vals[B_REC] = float(terms.b_rec[j])
            if name == "h":
                vals[R_AFTER] = float(terms.rec[j])  # r ⊙ (U_h·h + b'_h)
        vals |= {
            "b": float(terms.b[j]),
            "pre-activation": float(terms.pre[j]),
            "activation": float(act[unit]),
        }
        blocks[name] = vals
    states = {"h_{t-1}": float(terms.h_prev[unit])}
    if terms.c_t is not None:
        states |= {"c_{t-1}": float(terms.c_prev[unit]), "c_t": float(terms.c_t[unit])}
    states["h_t"] = float(terms.h_t[unit])
    return blocks, states


def _recurrent_layers(obj: Any) -> list[Any]:
    """Keras SimpleRNN/LSTM/GRU layers in a layer, layer list or (nested) model, in order."""
    if type(obj).__name__ in CELL_KINDS:
        return [obj]
    if type(obj).__name__ == "Bidirectional":
        raise ValueError(f"{obj.name} is Bidirectional: it reads the sequence both ways at once")
    subs = obj if isinstance(obj, list | tuple) else getattr(obj, "layers", [])
    return [r for sub in subs for r in _recurrent_layers(sub)]


def weights_from_keras(layer_or_model: Any) -> list[CellWeights]:
    """CellWeights of every SimpleRNN/LSTM/GRU layer in a Keras layer, layer list or model."""
    layers = _recurrent_layers(layer_or_model)
    if not layers:
        raise ValueError(f"no SimpleRNN/LSTM/GRU layer in {type(layer_or_model).__name__}")
    out = []
    for lay in layers:
        kind = CELL_KINDS[type(lay).__name__]
        acts = [getattr(lay, "activation", None), getattr(lay, "recurrent_activation", None)]
        names = [getattr(a, "__name__", None) for a in acts if a is not None]
        if names != ["tanh", "sigmoid"][: len(names)] or getattr(lay, "go_backwards", False):
            raise ValueError(f"{lay.name}: only tanh/sigmoid forward-running layers are supported")
        ws = lay.get_weights()
        if len(ws) < 2:
            raise ValueError(f"{lay.name} is not built yet (call it on an input first)")
        reset_after = bool(getattr(lay, "reset_after", True)) if kind == "gru" else False
        k, h = len(BLOCKS[kind]), ws[1].shape[0]
        bias_shape = (2, k * h) if reset_after else (k * h,)
        bias = ws[2] if len(ws) > 2 else np.zeros(bias_shape, ws[0].dtype)
        out.append(CellWeights(kind, ws[0], ws[1], bias, reset_after))
    return out


def random_weights(
    kind: CellKind,
    input_dim: int,
    units: int,
    scheme: Literal["uniform01", "keras_default"],
    rng: np.random.Generator,
    reset_after: bool = True,
    dtype: Any = np.float32,
) -> CellWeights:
    """Random weights: "uniform01" (all in [0, 1), seed 001's demo) or NumPy Keras defaults."""
    k = len(BLOCKS[kind])
    reset_after = reset_after and kind == "gru"
    bias_shape = (2, k * units) if reset_after else (k * units,)
    if scheme == "uniform01":
        kernel = rng.random((input_dim, k * units))  # (F, k*H)
        rec = rng.random((units, k * units))  # (H, k*H)
        bias = rng.random(bias_shape)  # (k*H,) or (2, 3H)
    elif scheme == "keras_default":
        limit = np.sqrt(6.0 / (input_dim + k * units))  # glorot_uniform on (F, k*H)
        kernel = rng.uniform(-limit, limit, (input_dim, k * units))  # (F, k*H)
        q, r = np.linalg.qr(rng.standard_normal((k * units, units)))  # (k*H, H), (H, H)
        q = q * np.sign(np.diag(r))  # (k*H, H): sign fix makes Q uniformly distributed
        rec = q.T if k > 1 else q  # (H, k*H): orthonormal rows, as Keras Orthogonal
        bias = np.zeros(bias_shape)  # (k*H,) or (2, 3H)
        if kind == "lstm":
            bias[units : 2 * units] = 1.0  # unit_forget_bias
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    return CellWeights(kind, kernel, rec, bias, reset_after).astype(dtype)


def param_formula(w: CellWeights) -> tuple[str, int, dict[str, tuple[int, ...]]]:
    """Parameter formula filled in from the weight shapes, the count, and the weight shapes."""
    k, f, h = len(BLOCKS[w.kind]), w.input_dim, w.units
    nb = w.bias.shape[0] if w.bias.ndim == 2 else 1
    count = w.kernel.size + w.recurrent_kernel.size + w.bias.size
    assert count == k * (f + h + nb) * h
    pre = f"{k}·" if k > 1 else ""
    text = f"{pre}(F+H+{nb})·H = {pre}({f}+{h}+{nb})·{h} = {count:,}"
    shapes = {n: tuple(getattr(w, n).shape) for n in ("kernel", "recurrent_kernel", "bias")}
    return text, int(count), shapes


def seed001_demo(
    rng: np.random.Generator, timesteps: int = 100, features: int = 32, units: int = 64
) -> tuple[np.ndarray, CellWeights]:
    """Seed 001's demo: SimpleRNN with inputs and all weights uniform in [0, 1), float64."""
    w = random_weights("simple_rnn", features, units, "uniform01", rng, dtype=np.float64)
    return rng.random((timesteps, features)), w  # (T, F)


def parity_max_abs_diff(layers: list[CellWeights], x: np.ndarray, keras_model: Any) -> float:
    """Max |NumPy h - Keras output| over the recurrent layers of ``keras_model`` run on x."""
    from keras import ops  # lazy: only the parity check needs Keras

    rnn = _recurrent_layers(keras_model)
    if len(rnn) != len(layers):
        raise ValueError(f"{len(layers)} NumPy layers but {len(rnn)} Keras recurrent layers")
    x = np.asarray(x)
    traces = forward(layers, x[None] if x.ndim == 2 else x)
    seq, worst = x[None] if x.ndim == 2 else x, 0.0  # (B, T, F)
    for lay, tr in zip(rnn, traces, strict=True):
        seq = ops.convert_to_numpy(lay(seq))  # (B, T, H) or (B, H) if not return_sequences
        ref = tr.h if seq.ndim == 3 else tr.h[:, -1]  # same shape as seq
        worst = max(worst, float(np.max(np.abs(seq.astype(np.float64) - ref))))
    return worst
