"""The written-out equation: its numbers are the step's real terms and they add up."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnn_core.stepper import numpy_rnn as nr
from rnn_core.stepper.saturation import saturation_summary
from rnn_core.stepper.sources import random_input
from rnn_core.stepper.step_equation import unit_equation_latex

NUM = r"-?\d+\.\d+"
GATE = re.compile(  # fn\left(numbers\right) = fn(pre) = act, numbers may hold r · (inner)
    rf"(\\sigma|\\tanh)\\left\(((?:[-\d. +()]|\\cdot)+?)\\right\) = "
    rf"(?:\\sigma|\\tanh)\(({NUM})\) = ({NUM})"
)
FN = {r"\sigma": lambda v: 1 / (1 + np.exp(-v)), r"\tanh": np.tanh}


def _signed_sum(text: str) -> float:
    """Evaluate ``0.310 - 0.120 + 0.500 \\cdot (0.2)`` as written (products allowed)."""
    expr = text.replace(r"\cdot", "*")
    assert re.fullmatch(r"[-\d. +*()]+", expr), expr  # only numbers and arithmetic
    return float(eval(expr))


@pytest.mark.parametrize(
    ("kind", "reset_after"),
    [("simple_rnn", True), ("lstm", True), ("gru", True), ("gru", False)],
    ids=["simple_rnn", "lstm", "gru_reset_after", "gru_reset_before"],
)
def test_equation_numbers_are_the_terms_and_add_up(kind, reset_after):
    rng = np.random.default_rng(2)
    w = nr.random_weights(kind, 6, 5, "keras_default", rng, reset_after, dtype=np.float64)
    x = rng.uniform(-2, 2, (8, 6))  # (T, F)
    traces = nr.forward([w], x)
    for t, unit in ((0, 0), (5, 3), (7, 4)):
        terms = nr.step_at([w], traces, x, 0, t)
        tex = unit_equation_latex(terms, unit)
        assert tex.startswith(r"\begin{aligned}") and tex.endswith(r"\end{aligned}")
        gates = GATE.findall(tex)
        assert len(gates) == {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind]
        for fn, parts, pre, act in gates:
            assert _signed_sum(parts) == pytest.approx(float(pre), abs=2e-3)
            assert FN[fn](float(pre)) == pytest.approx(float(act), abs=1.1e-3)  # both rounded
        # the last line ends with this unit's h_t, and the blocks' pre-activations are shown
        assert tex.removesuffix(r"\end{aligned}").endswith(f"= {terms.h_t[unit]:.3f}")
        blocks, states = nr.unit_terms(terms, unit)
        for b in blocks.values():
            assert f"({b['pre-activation']:.3f})" in tex
        if kind == "lstm":  # c_t[j] &= f_t c_{t-1} + i_t c~_t = f · c + i · g = c_t
            body = tex.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}")
            line = next(ln for ln in body.split(r" \\ ") if ln.startswith("c_t["))
            _, numbers, result = line.split(" = ")
            assert _signed_sum(numbers) == pytest.approx(states["c_t"], abs=3e-3)
            assert float(result) == pytest.approx(states["c_t"], abs=6e-4)
        if kind == "gru":
            assert ("b'_z" in tex) == reset_after


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_saturation_summary_states_measured_numbers(kind):
    demo = random_input(kind, "uniform01")
    text = saturation_summary(demo.layers[0], demo.x)
    tr = nr.forward(list(demo.layers), demo.x)[0]
    sat = float(np.mean(np.abs(tr.h) > 0.99))
    assert f"{sat:.1%} of h have |h| > 0.99" in text
    assert "[0, 1)" in text
    if kind == "lstm":
        assert f"mean c = {tr.c[-1].mean():.1f} at the last step" in text
    else:
        assert f"(mean {tr.gates['z'].mean():.4f}" in text
    calm = random_input(kind, "keras_default")
    text = saturation_summary(calm.layers[0], calm.x)
    h = nr.forward(list(calm.layers), calm.x)[0].h
    assert f"{float(np.mean(np.abs(h) > 0.99)):.1%} of h" in text and "Zero-centred" in text
    assert "gates' sigmoid" in text


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_terms_note_says_keras_computes_x_times_w(kind):
    from rnn_core.stepper.view import step_view

    inp = random_input(kind, "keras_default", timesteps=6)
    view = step_view(inp, nr.forward(list(inp.layers), inp.x), 0, 3, 1)
    k, w = len(nr.BLOCKS[kind]), inp.layers[0]
    kh = "H" if k == 1 else f"{k}·H"
    assert "Keras computes the same numbers as x_t·W" in view.terms_note
    assert f"W of shape (F, {kh}) = {tuple(w.kernel.shape)}" in view.terms_note
