"""Per-layer parameter formulas, written out as a student would, checked against Keras."""

from __future__ import annotations

from typing import Any

# Gates per cell: SimpleRNN has one tanh, LSTM four (i, f, c, o), GRU three (z, r, h).
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def recurrent_params(cell: str, input_dim: int, units: int, reset_after: bool = True) -> int:
    """Weights of one recurrent layer: gates x (input + units + biases) x units."""
    biases = 2 if cell == "GRU" and reset_after else 1
    return GATES[cell] * (input_dim + units + biases) * units


def recurrent_formula(cell: str, input_dim: int, units: int, reset_after: bool = True) -> str:
    """The formula with the numbers filled in, e.g. ``4·(12+128+1)·128 = 72,192``."""
    g = GATES[cell]
    b = 2 if cell == "GRU" and reset_after else 1
    prefix = f"{g}·" if g > 1 else ""
    total = recurrent_params(cell, input_dim, units, reset_after)
    return f"{prefix}({input_dim}+{units}+{b})·{units} = {total:,}"


def _input_dim(layer: Any) -> int:
    """Size of the last axis of a layer's input."""
    return int(layer.input.shape[-1])


def layer_formula(layer: Any) -> tuple[int, str]:
    """(parameters by formula, formula text) for one Keras layer."""
    kind = type(layer).__name__
    if kind in GATES:
        reset_after = bool(getattr(layer, "reset_after", True))
        f, h = _input_dim(layer), layer.units
        return recurrent_params(kind, f, h, reset_after), recurrent_formula(kind, f, h, reset_after)
    if kind == "Bidirectional":
        inner = layer.forward_layer
        reset_after = bool(getattr(inner, "reset_after", True))
        f, h = _input_dim(layer), inner.units
        n = recurrent_params(type(inner).__name__, f, h, reset_after)
        text = recurrent_formula(type(inner).__name__, f, h, reset_after).split(" = ")[0]
        return 2 * n, f"2·[{text}] = {2 * n:,}"
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
