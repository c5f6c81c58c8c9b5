"""Per-layer parameter formulas, written out as a student would, checked against Keras."""

from __future__ import annotations

from typing import Any

# Gates per cell: SimpleRNN has one tanh, LSTM four (i, f, c, o), GRU three (z, r, h).
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def _biases(cell: str, reset_after: bool, use_bias: bool) -> int:
    """Bias vectors per gate: 0 without bias, 2 for GRU reset_after (b and b'), else 1."""
    if not use_bias:
        return 0
    return 2 if cell == "GRU" and reset_after else 1


def recurrent_params(
    cell: str, input_dim: int, units: int, reset_after: bool = True, use_bias: bool = True
) -> int:
    """Weights of one recurrent layer: gates x (input + units + biases) x units."""
    return GATES[cell] * (input_dim + units + _biases(cell, reset_after, use_bias)) * units


def recurrent_formula(
    cell: str, input_dim: int, units: int, reset_after: bool = True, use_bias: bool = True
) -> str:
    """The formula with the numbers filled in, e.g. ``4·(12+128+1)·128 = 72,192``."""
    g = GATES[cell]
    b = _biases(cell, reset_after, use_bias)
    prefix = f"{g}·" if g > 1 else ""
    total = recurrent_params(cell, input_dim, units, reset_after, use_bias)
    inner = f"{input_dim}+{units}" + (f"+{b}" if b else "")
    return f"{prefix}({inner})·{units} = {total:,}"


def _rnn_formula(layer: Any, input_dim: int) -> tuple[int, str]:
    """(parameters, formula text) of one SimpleRNN/LSTM/GRU layer reading ``input_dim``."""
    kind = type(layer).__name__
    reset_after = bool(getattr(layer, "reset_after", True))
    use_bias = bool(getattr(layer, "use_bias", True))
    n = recurrent_params(kind, input_dim, layer.units, reset_after, use_bias)
    return n, recurrent_formula(kind, input_dim, layer.units, reset_after, use_bias)


def _input_dim(layer: Any) -> int:
    """Size of the last axis of a layer's input."""
    return int(layer.input.shape[-1])


def layer_formula(layer: Any) -> tuple[int, str]:
    """(parameters by formula, formula text) for one Keras layer."""
    kind = type(layer).__name__
    if kind in GATES:
        return _rnn_formula(layer, _input_dim(layer))
    if kind == "Bidirectional":
        f, pair = _input_dim(layer), (layer.forward_layer, layer.backward_layer)
        for lay in pair:
            if type(lay).__name__ not in GATES:
                raise ValueError(f"{layer.name} wraps a {type(lay).__name__}: no formula for it")
        (nf, tf), (nb, tb) = (_rnn_formula(lay, f) for lay in pair)
        if tf == tb:  # the backward layer is a mirror of the forward one
            return 2 * nf, f"2·[{tf.split(' = ')[0]}] = {2 * nf:,}"
        left, right = tf.split(" = ")[0], tb.split(" = ")[0]
        return nf + nb, f"[{left}] + [{right}] = {nf + nb:,}"
    if kind == "TimeDistributed":
        return layer_formula(layer.layer) if layer.layer.built else (0, "")
    if kind == "Dense":
        f, u = int(layer.kernel.shape[0]), layer.units
        return (f + 1) * u, f"({f}+1)·{u} = {(f + 1) * u:,}"
    if kind == "Embedding":
        v, d = layer.input_dim, layer.output_dim
        return v * d, f"{v:,}·{d} = {v * d:,}"
    return 0, "0 (no weights)"


def summary_rows(model: Any) -> list[dict[str, Any]]:
    """One row per layer: name, type, output shape, Keras's count, formula and its value."""
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        by_formula, text = layer_formula(layer)
        shape = tuple(layer.output.shape) if hasattr(layer, "output") else ()
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": str(shape).replace("None", "batch"),
                "params": int(layer.count_params()),
                "formula": text,
                "formula params": by_formula,
            }
        )
    return rows
