"""Everything the stepper draws for one timestep, built in one call (the page renders it as is).

The page's fragment and ``benchmarks/bench_stepper.py`` both call :func:`step_view`, so the
benchmark times exactly the per-step work the page does on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import plotly.graph_objects as go

from rnn_core.charts import stepper as charts
from rnn_core.charts.palette import LIGHT, ChartTheme
from rnn_core.stepper.gradient_lens import compare_cells_with_gates, input_gradient_norms
from rnn_core.stepper.numpy_rnn import (
    BLOCKS,
    CellWeights,
    LayerTrace,
    StepTerms,
    forward,
    step_at,
    unit_terms,
)
from rnn_core.stepper.sources import PAD, StepperInput
from rnn_core.stepper.step_equation import unit_equation_latex

GATE_WINDOW = 100  # gate heatmaps show a page of this many timesteps holding t (h: all of them)
LENS_SEED = 0  # seed of the untrained comparison layers in "How far back does it remember?"


@dataclass(frozen=True)
class StepperCase:
    """An input on screen plus everything computed once for it (not per timestep)."""

    key: tuple  # identifies the input; a new key resets the scrubber
    inp: StepperInput  # the sequence and the weights that read it
    traces: list[LayerTrace]  # forward pass of every layer, all timesteps
    lens: dict[str, np.ndarray]  # line key -> (T,) gradient norm of the output per input step
    gate_means: dict[str, dict[str, float]]  # comparison cell -> gate name -> mean value
    own: str  # lens key of the weights on screen, e.g. "the trained model"
    explain: str = ""  # why the weights saturate or not (random weights)
    parity: float | None = None  # max |NumPy - Keras| over all h_t; None: Keras not involved
    keras_params: tuple[int, ...] = ()  # Keras's count_params per recurrent layer (trained)


def build_case(inp: StepperInput, key: tuple, own: str, **extra: object) -> StepperCase:
    """Forward pass and gradient lens of ``inp``: the stack on screen (lens key ``own``; a
    trained classifier's true logit gradient, ``inp.lens``) and untrained SimpleRNN / LSTM /
    GRU twins with Keras-default weights on the same input (readout: the mean of h_T)."""
    layers = list(inp.layers)
    rng = np.random.default_rng(LENS_SEED)
    norms, gates = compare_cells_with_gates(inp.x, layers[-1].units, rng, n_layers=len(layers))
    if inp.lens is not None:  # a trained classifier: its logit, through head and pooling
        mine = inp.lens.norms  # (T,)
    else:
        mine = input_gradient_norms(layers, inp.x, inp.readout)  # (T,)
    return StepperCase(
        key=key,
        inp=inp,
        traces=forward(layers, inp.x),
        lens={own: mine, **norms},
        gate_means=gates,
        own=own,
        **extra,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class StepView:
    """What one redraw of the stepper shows: captions, the equation, figures and HTML."""

    t: int  # the timestep on screen
    unit: int  # the unit whose equation is written out
    reads: str  # what the layer reads at t, e.g. "the word **great**"
    latex: str  # the unit's step with every number filled in (st.latex)
    terms_note: str  # what W·x_t, U·h_{t-1} and b are for this unit, with the weight shapes
    bars_note: str  # what each bar of terms_fig holds and which bars add up to the sum
    state_note: str  # the whole vector h_t in a sentence: range, saturated units
    terms: StepTerms  # every intermediate term of the step (all units)
    hidden_fig: go.Figure  # units × timesteps heatmap of h with t marked
    terms_fig: go.Figure  # bars of the unit's terms per gate block and its states
    gates_fig: go.Figure | None  # gates, candidate and c_t heatmaps (LSTM / GRU only)
    words_html: str | None  # IMDB: the review's words coloured by the unit's h
    words_vmax: float  # the colour scale of words_html runs from -words_vmax to +words_vmax
    digit_fig: go.Figure | None  # MNIST: the digit with the row read at t boxed


def _reads(inp: StepperInput, layer: int, t: int) -> str:
    """Markdown: what the layer reads at step t."""
    if layer > 0:
        return f"h_t of layer {layer} (the layer below) at t = {t}"
    label = inp.labels[t]
    if inp.label_kind in ("word", "words"):
        return "padding (no word)" if label == PAD else f"the {inp.label_kind} **{label}**"
    if inp.label_kind == "char":
        return f"the character **{label}**"
    if inp.label_kind == "row":
        blank = " (all its pixels are 0, so W·x_t = 0)" if not np.any(inp.x[t]) else ""
        return f"pixel **{label}** of the image{blank}"
    return f"input vector x_{t} ({inp.x.shape[1]} numbers)"


def _terms_note(inp: StepperInput, layer: int, unit: int) -> str:
    """Where each number of the equation comes from, tied to the weight shapes."""
    w = inp.layers[layer]
    f, hn, k = w.input_dim, w.units, len(BLOCKS[w.kind])
    src = "x_t" if layer == 0 else "h_t of the layer below"
    cols = f"column {unit}" if k == 1 else f"column {unit} of each of the {k} blocks"
    rec = " (GRU reset_after: b' is the second row of bias)" if w.recurrent_bias is not None else ""
    return (
        f"**W·x_t** = the {f} numbers of {src} times {cols} of the kernel W "
        f"{tuple(w.kernel.shape)}; **U·h_(t-1)** = the {hn} numbers of h_(t-1) times the same "
        f"columns of the recurrent kernel U {tuple(w.recurrent_kernel.shape)}; **b** = the "
        f"bias {tuple(w.bias.shape)} at those columns{rec}. The equation writes W·x_t as in "
        f"the textbooks; Keras computes the same numbers as x_t·W, the row vector x_t times "
        f"W of shape (F, {'H' if k == 1 else f'{k}·H'}) = {tuple(w.kernel.shape)} (and "
        f"h_(t-1)·U likewise)."
    )


def bars_note(w: CellWeights) -> str:
    """The caption of the unit's bar chart: what each bar is and which bars add up."""
    act = "act: σ for gates, tanh for the candidate" if w.kind != "simple_rnn" else "act: tanh"
    right = " Right: the unit's state before and after this step. Hover for values."
    if w.kind != "gru":
        return (
            f"Left: each gate block's three terms W·x, U·h and b, their sum (the "
            f"pre-activation) and the activation ({act}).{right}"
        )
    if w.recurrent_bias is not None:
        return (
            "Left, per gate block: W·x; U·h, the plain product of h_(t-1) and U; b′, the "
            "recurrent bias (second row of bias); b, the input bias. For z and r the sum is "
            "W·x + U·h + b′ + b. For the candidate h, U·h and b′ enter only through the bar "
            "r⊙(U·h+b′), the reset gate times their sum: its sum is W·x + r⊙(U·h+b′) + b "
            f"(reset_after=True, Keras's default). {act}.{right}"
        )
    return (
        "Left, per gate block: W·x, U·h (the plain product of h_(t-1) and U) and b, the "
        "input bias. For z and r the sum is W·x + U·h + b. The candidate h has no U·h bar: "
        "its recurrent term U·(r⊙h) multiplies U_h by the reset-gated state r ⊙ h_(t-1), so "
        f"its sum is W·x + U·(r⊙h) + b (reset_after=False). {act}.{right}"
    )


def _state_note(terms: StepTerms) -> str:
    """One sentence on the whole vector h_t at this step."""
    h = np.asarray(terms.h_t)  # (H,)
    sat = int(np.sum(np.abs(h) > 0.99))
    return (
        f"All {h.size} units at this step: h_t ranges from {h.min():+.3f} to {h.max():+.3f}; "
        f"{sat} of them have |h_t| > 0.99 (saturated)."
    )


def heat_scale(h: np.ndarray) -> float:
    """Colour scale of the h heatmap: ±1 (tanh's whole range) unless every |h| < 0.5, then
    ±max|h|, so the small activations of a barely trained model stay visible."""
    top = float(np.max(np.abs(h))) if np.size(h) else 0.0
    return 1.0 if top >= 0.5 else max(top, 1e-6)


def _window(t: int, t_len: int, size: int = GATE_WINDOW) -> tuple[int, int]:
    """[start, stop): the page of at most ``size`` timesteps that holds t (pages start at
    multiples of ``size``; the last one is shifted back to stay full)."""
    start = min((t // size) * size, max(0, t_len - size))
    return start, min(t_len, start + size)


def _marked(memo: dict | None, key: tuple, build: Callable[[], go.Figure], t: int) -> go.Figure:
    """A heavy figure built once per ``key`` (kept in ``memo``), its step markers moved to t.

    Building a Plotly heatmap costs far more than moving a line, so the page keeps one memo
    per input and a step only updates the markers. Without a memo the figure is built fresh.
    """
    if memo is None:
        fig = build()
    else:
        fig = memo.get(key)
        if fig is None:
            fig = memo[key] = build()
    # one assignment of plain dicts: about 5x cheaper than fig.update_shapes(x0=t, x1=t)
    fig.layout.shapes = [{**m.to_plotly_json(), "x0": t, "x1": t} for m in fig.layout.shapes]
    return fig


def step_view(
    inp: StepperInput,
    traces: list[LayerTrace],
    layer: int,
    t: int,
    unit: int,
    memo: dict | None = None,
    theme: ChartTheme = LIGHT,
) -> StepView:
    """All the stepper shows for ``layer`` at timestep ``t`` with ``unit`` written out.

    ``memo``: a dict the caller keeps for this input (same ``inp`` and ``traces``) across
    steps; the heatmaps are then built once and only their markers move. ``theme``: the
    colours of the page behind the figures (light or dark).
    """
    layers, tr = list(inp.layers), traces[layer]
    terms = step_at(layers, traces, inp.x, layer, t)
    blocks, states = unit_terms(terms, unit)
    gates_fig = None
    if tr.gates:
        a, b = _window(t, tr.h.shape[0])
        c = None if tr.c is None else tr.c[a:b]
        gates = {n: g[a:b] for n, g in tr.gates.items()}
        build = partial(charts.gates_heatmaps, gates, t, tr.candidate[a:b], c, a, theme)
        gates_fig = _marked(memo, ("gates", layer, a, theme), build, t)
    vmax = heat_scale(tr.h)
    title = f"Hidden state h of layer {layer + 1} (units × timesteps)"
    build = partial(charts.hidden_heatmap, tr.h, t, title, vmax, theme)
    hidden_fig = _marked(memo, ("hidden", layer, theme), build, t)
    words_html, words_vmax = None, 1.0
    if inp.label_kind in ("word", "words"):  # Karpathy-style: words coloured by the unit's h
        s0, s1 = inp.span
        pairs = charts.word_activations(inp.labels[s0:s1], tr.h[s0:s1], unit)
        words_vmax = max(max((abs(v) for _, v in pairs), default=0.0), 1e-6)
        current = t - s0 if s0 <= t < s1 else None
        words_html = charts.activation_spans_html(pairs, words_vmax, current, theme)
    digit_fig = None
    if inp.image is not None:
        digit_fig = charts.digit_figure(inp.image, t, theme, inp.rows_per_step)
    return StepView(
        t=t,
        unit=unit,
        reads=_reads(inp, layer, t),
        latex=unit_equation_latex(terms, unit),
        terms_note=_terms_note(inp, layer, unit),
        bars_note=bars_note(layers[layer]),
        state_note=_state_note(terms),
        terms=terms,
        hidden_fig=hidden_fig,
        terms_fig=charts.unit_terms_chart(blocks, states, unit, t, theme),
        gates_fig=gates_fig,
        words_html=words_html,
        words_vmax=words_vmax,
        digit_fig=digit_fig,
    )
