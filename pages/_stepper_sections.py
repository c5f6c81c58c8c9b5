"""Inside the RNN, the sections about the whole input: memory lens, parameters, parity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from pages._plot import chart, page_theme
from rnn_core.charts import stepper as charts
from rnn_core.stepper import numpy_rnn
from rnn_core.stepper.gradient_lens import memory_summary
from rnn_core.stepper.numpy_rnn import BLOCKS, param_formula, parity_max_abs_diff
from rnn_core.stepper.sources import NAMES, keras_twin
from rnn_core.stepper.view import LENS_SEED, StepperCase

LENS_THRESHOLD = 0.01  # a timestep is "remembered" while its gradient is >= 1% of the largest
BLOCK_MEANING = {
    "simple_rnn": "h, the tanh layer itself",
    "lstm": "input gate i, forget gate f, candidate c, output gate o",
    "gru": "update gate z, reset gate r, candidate h",
}


def show_lens(case: StepperCase) -> None:
    """'How far back does it remember?': gradient norm per input timestep, several cells."""
    inp = case.inp
    st.subheader("How far back does it remember?")
    labels = {k: f"{NAMES[k]} (untrained)" for k in NAMES} | {case.own: case.own}
    fig = charts.gradient_lens_chart(case.lens, title="", labels=labels, theme=page_theme())
    chart(fig, "stp_lens", "gradient-lens")
    if inp.lens is not None:
        what = (
            f"For {case.own}: how much {inp.readout_text} changes when x_t changes. "
            f"{inp.lens.entry} This is the true gradient of the model's own output through its "
            "Dense head, its pooling and every recurrent layer (logit_gradients, "
            "backpropagation through time in NumPy; the tests check it against "
            "tf.GradientTape)."
        )
    else:
        what = (
            f"For each input timestep t: how much {inp.readout_text} at the last step "
            f"(t = {inp.timesteps - 1}) changes when x_t changes, by backpropagation through "
            "time in NumPy (the tests check it against tf.GradientTape)."
        )
    st.caption(
        f"{what} Plotted: the norm ‖∂ output / ∂ x_t‖ per input timestep t. Log scale: 10^-6 "
        "is a millionth of 1. The coloured lines are untrained layers with Keras's default "
        f"initialisers and {inp.layers[-1].units} units, reading the same input "
        f"(seed {LENS_SEED}; what they differentiate is the mean of their last state h_T); "
        f"the dashed {page_theme().ink_word} line is {case.own}. A gap in a line means a "
        "gradient of exactly 0."
    )
    lens = inp.lens
    if lens is not None and lens.peaks is not None:
        top, weights = lens.max_half
        fig = charts.max_pool_strip(inp.labels, lens.peaks, top, weights, inp.span, page_theme())
        chart(fig, "stp_maxpool", "max-pool")
        before = int(np.sum(lens.peaks < inp.timesteps - 1))
        if lens.pooling == "max+mean":
            last = "their h_T gets only its 1/T share, through the mean"
            reads = "its largest h_t over the whole review and, beside it, its mean h_t"
        else:
            last = "where their h_T gets no gradient from the head at all"
            reads = "its largest h_t over the whole review"
        st.caption(
            f"{lens.pooling.capitalize()} pooling: the Dense head reads, for each unit, {reads}, "
            f"so the gradient of the maximum enters at the word where it is (one dot per unit; "
            f"colour: what the unit's maximum adds to the logit, weight × maximum). {before} of "
            f"the {lens.peaks.size} units reach their maximum before the last step, {last}. "
            "Grey: padding."
        )
    st.caption(
        "Why the lines fall: each step back multiplies the gradient by that step's Jacobian "
        "∂h_t/∂h_(t-1). For SimpleRNN that is (1 − h_t²)·U: it shrinks the gradient when units "
        "saturate (1 − h² ≈ 0; exactly 0 in seed 001's demo) and keeps its size when h is "
        "small and U is orthogonal (Keras's default). An LSTM's cell state is multiplied by "
        "its forget gate f each step, a GRU's state by its update gate z."
    )
    targets = {case.own: inp.readout_text} if inp.lens is not None else None
    st.markdown(memory_summary(case.lens, case.gate_means, LENS_THRESHOLD, targets))


def _weight_rows(w: numpy_rnn.CellWeights) -> list[dict[str, Any]]:
    """One table row per weight array: name, shape, size and what its entries connect."""
    k, nb = len(BLOCKS[w.kind]), 2 if w.recurrent_bias is not None else 1
    kh, each = ("H", "") if k == 1 else (f"{k}·H", " of each block")
    bias = (
        f"2 × {kh}: input bias b and recurrent bias b' (GRU reset_after)"
        if nb == 2
        else f"{kh}: one number per unit{' per block' if k > 1 else ''}"
    )
    what = {
        "kernel": ("kernel W", f"F × {kh}: each input to each unit{each}"),
        "recurrent_kernel": ("recurrent_kernel U", f"H × {kh}: each h_(t-1) to each unit{each}"),
        "bias": ("bias b", bias),
    }
    return [
        {"weight": name, "shape": str(getattr(w, attr).shape),
         "size": int(getattr(w, attr).size), "what it is": text}
        for attr, (name, text) in what.items()
    ]  # fmt: skip


def show_params(case: StepperCase) -> None:
    """The parameter formula of each layer, tied to the weight shapes on screen."""
    st.subheader("Parameters: the formula and the weight shapes")
    for i, w in enumerate(case.inp.layers):
        text, count, _ = param_formula(w)
        k, nb = len(BLOCKS[w.kind]), 2 if w.recurrent_bias is not None else 1
        src = "its input" if i == 0 else f"layer {i}'s {w.input_dim} units"
        keras_count = (
            f" Keras's count_params() for this layer: {case.keras_params[i]:,}."
            if case.keras_params
            else ""
        )
        st.markdown(
            f"**Layer {i + 1}: {NAMES[w.kind]}, F = {w.input_dim} inputs ({src}), "
            f"H = {w.units} units.** Parameters = {text}.{keras_count}"
        )
        st.dataframe(pd.DataFrame(_weight_rows(w)), hide_index=True, width="stretch")
        blocks = "One block" if k == 1 else f"{k} blocks in Keras's column order"
        st.caption(
            f"{blocks}: {BLOCK_MEANING[w.kind]}. Each block has F·H + H·H + {nb}·H = "
            f"({w.input_dim}+{w.units}+{nb})·{w.units} weights, so the layer has {count:,}."
        )


def show_parity(case: StepperCase) -> None:
    """NumPy vs Keras on the input on screen: computed for trained runs, on request otherwise."""
    inp = case.inp
    if case.parity is None:
        key = f"stp_parity_{hash(case.key)}"
        if st.button(
            "Check these NumPy numbers against Keras",
            help="Builds the same layer in Keras with these exact weights and runs it on this "
            "input (loads TensorFlow the first time: a few seconds).",
        ):
            with st.spinner("Loading TensorFlow and running Keras…"):
                st.session_state[key] = parity_max_abs_diff(
                    list(inp.layers), inp.x, keras_twin(inp.layers)
                )
        diff = st.session_state.get(key)
    else:
        diff = case.parity
    if diff is not None:
        dtype = inp.layers[0].kernel.dtype
        st.success(
            f"NumPy vs Keras on this input: the largest difference over every h_t of every "
            f"layer is **{diff:.1e}** ({dtype}; the tests require ≤ 1e-5 in float32). The "
            "numbers on this page are what Keras computes."
        )
