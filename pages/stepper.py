"""Inside the RNN: walk SimpleRNN / LSTM / GRU one timestep at a time, with the real numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from pages import common
from pages._form import Form, follow_in_address_bar, read_link, share_box
from pages._plot import chart, page_theme
from pages._session import import_model
from pages._stepper_sections import show_lens, show_params, show_parity
from pages.common import runs, show_code
from rnn_core.links import is_stepper_key, stepper_from_query, stepper_query
from rnn_core.stepper import numpy_rnn
from rnn_core.stepper.numpy_rnn import CELL_KINDS, parity_max_abs_diff
from rnn_core.stepper.saturation import saturation_summary
from rnn_core.stepper.settings import StepperSettings
from rnn_core.stepper.sources import (
    SCHEMES,
    random_input,
    recurrent_stack,
    test_choices,
    trained_input,
)
from rnn_core.stepper.view import StepperCase, build_case, heat_scale, step_view
from rnn_core.tasks import get_task

KINDS = CELL_KINDS  # "SimpleRNN" -> "simple_rnn"
SOURCES = ("Random weights (seed 001's demo)", "A model trained this session")
LINK_SOURCES = dict(zip(("random", "trained"), SOURCES, strict=True))  # a link's source -> label
PLAY_SECONDS = 0.6  # one frame of ▶ Play
UNIT_BOX_WIDTH = 120  # pixels: the Unit box beside the timestep slider
# the timestep slider is never narrower than this: below it, it wraps to a row of its own
CONTROLS_CSS = (
    "<style>.st-key-stp_controls .stElementContainer:has(.stSlider) { min-width: 16rem; }</style>"
)
CHOICES = 40  # test inputs offered for a trained run
FORM = Form("stp_")  # the stepper's controls: kept across pages for the whole session


@st.cache_data(max_entries=24, show_spinner="Running the RNN over the sequence…")
def random_case(
    kind: str, scheme: str, reset_after: bool, timesteps: int, seed: int
) -> StepperCase:
    """Random-weights input, forward pass, saturation account and gradient lens (NumPy only)."""
    inp = random_input(kind, scheme, timesteps, 64, seed, 32, reset_after)
    key = ("random", kind, scheme, reset_after, timesteps, seed)
    explain = saturation_summary(inp.layers[0], inp.x)
    return build_case(inp, key, "the layer on screen", explain=explain)


def trained_case(record: Any, data: Any, index: int) -> StepperCase:
    """A trained run's test input with parity against Keras; kept per session, latest only."""
    snap = record.job.snapshot()
    key = ("trained", id(record), index, snap.epoch, snap.batch, snap.state)
    kept = st.session_state.get("stp_trained_case")
    if kept is not None and kept.key == key:
        return kept
    model, task = record.job.model, record.spec.task
    with st.spinner("Reading the weights and running the test input…"):
        inp = trained_input(model, task, data, index, f"{record.name} trained on {task}")
        stack = recurrent_stack(model)
        case = build_case(
            inp,
            key,
            "the trained model",
            parity=parity_max_abs_diff(list(inp.layers), inp.x, stack),
            keras_params=tuple(int(lay.count_params()) for lay in stack),
        )
    st.session_state.stp_trained_case = case
    return case


def run_data(record: Any) -> Any:
    """The data a run was trained on: kept in the run, else loaded through the shared cache."""
    data = record.data
    return data if data is not None else common.cached_data(record.task, record.spec.data)


# ---------------------------------------------------------------- choosing what to look at


def random_controls() -> StepperCase:
    """Cell, initial weights, GRU variant, length and seed of the random-weights input."""
    a, b, c, d = st.columns([1, 2, 1, 1])
    FORM.start({"reset_after": True, "timesteps": 100, "seed": 1})
    cell = FORM(a.selectbox, "Cell", "cell", list(KINDS))
    scheme = FORM(
        b.radio,
        "Initial weights",
        "scheme",
        list(SCHEMES),
        format_func=lambda s: SCHEMES[s],
        help="Seed 001 draws every weight from [0, 1). Keras's defaults are zero-centred: "
        "glorot_uniform input weights, orthogonal recurrent weights, zero bias (LSTM: forget "
        "bias 1).",
    )
    if cell == "GRU":
        reset_after = FORM(
            c.checkbox,
            "GRU reset_after",
            "reset_after",
            help="Keras's default (True) applies the reset gate after U·h and keeps two bias "
            "vectors; False is the original GRU of Cho et al. (2014): r multiplies h before U.",
        )
    else:  # unticked and disabled: the other cells have no reset gate (GRU keeps its choice)
        c.checkbox(
            "GRU reset_after", False, disabled=True, key="stp_reset_after_not_gru",
            help="Only a GRU has a reset gate.",
        )  # fmt: skip
        reset_after = FORM.get("reset_after", True)  # unused by these cells
    timesteps = FORM(
        c.number_input, "Timesteps", "timesteps", 10, 500, step=10,
        help="Seed 001 uses 100. Up to 500 to see how far back gradients reach.",
    )  # fmt: skip
    seed = FORM(d.number_input, "Seed", "seed", 0, 10_000, help="Input and weights.")
    return random_case(KINDS[cell], scheme, bool(reset_after), int(timesteps), int(seed))


def stepper_accepts(task: str) -> str:
    """Why the stepper cannot open a model of ``task`` (for an import); "" when it can."""
    if get_task(task).steppable:
        return ""
    return (
        f"a model of the {task} task cannot be stepped through (the Text generation page opens it)"
    )


def trained_controls() -> StepperCase | None:
    """Pick a run of this session and one of its test inputs; None (with a pointer) if none."""
    import_model(
        "stp", stepper_accepts, "Import a model exported by RNN Lab (.keras) to step through it"
    )
    usable = [r for r in runs() if r.task.steppable and r.spec.model.cell in KINDS]
    if not usable:
        st.info(
            "No recurrent model has been trained in this session yet. Train one on the Train "
            "page (an IMDB review classifier or an MNIST digit reader; addition works too), "
            "then come back here to step through it on a real test input."
        )
        st.page_link(
            "pages/train.py", label="Go to the Train page", icon=":material/model_training:"
        )
        return None
    a, b = st.columns([1, 2])
    if st.session_state.get("stp_runs_seen") != [id(r) for r in usable]:  # a new run: show it
        st.session_state.stp_runs_seen = [id(r) for r in usable]
        FORM.fill({"run": len(usable) - 1})
    pick = FORM(
        a.selectbox,
        "Trained run",
        "run",
        range(len(usable)),
        format_func=lambda i: f"{usable[i].name} · {usable[i].spec.task}",
    )
    record = usable[pick]
    data = run_data(record)
    try:
        choices = test_choices(record.spec.task, data, CHOICES)
    except ValueError as exc:
        st.warning(str(exc))
        return None
    if not 0 <= FORM.get("example", 0) < len(choices):
        FORM.fill({"example": 0})
    index = FORM(
        b.selectbox,
        "Test input (never seen in training)",
        "example",
        range(len(choices)),
        format_func=lambda i: choices[i],
    )
    snap = record.job.snapshot()
    if snap.active:
        st.warning(
            f"This run is still training (epoch {snap.epoch}, batch {snap.batch}): the stepper "
            "shows its weights as they are now. Change any setting to read them again."
        )
    try:
        return trained_case(record, data, int(index))
    except ValueError as exc:
        st.warning(str(exc))
        return None


# ---------------------------------------------------------------- the stepper (a fragment)


def _move(delta: int, t_len: int) -> None:
    """on_click of Previous / Next: move the scrubber by ``delta`` timesteps."""
    st.session_state.stp_t = int(np.clip(st.session_state.stp_t + delta, 0, t_len - 1))


def _set_playing(playing: bool) -> None:
    """on_click of Play (True) / Pause (False): sets, never toggles, so a press Streamlit
    delivers twice (it replays a trigger whose run a rerun cut short) acts once."""
    st.session_state.stp_playing = playing


def stepper(case: StepperCase) -> None:
    """Scrubber, Previous / Play / Next and every per-step view; only this part reruns."""
    inp, t_len = case.inp, case.inp.timesteps
    stride = max(1, t_len // 100)  # ▶ Play crosses any sequence in about 100 frames
    playing = bool(st.session_state.get("stp_playing", False))

    @st.fragment(run_every=PLAY_SECONDS if playing else None)
    def body() -> None:
        s = st.session_state
        if bool(s.get("stp_playing")) != playing:  # Play / Pause: restart with(out) the timer
            st.rerun(scope="app")
        if playing and s.get("stp_tick_ready"):
            if s.stp_t + stride <= t_len - 1:
                s.stp_t += stride
            else:
                s.stp_playing = False
                st.rerun(scope="app")  # the end: stop the timer
        s.stp_tick_ready = True
        layer = 0
        if len(inp.layers) > 1:
            if not 0 <= FORM.get("layer", 0) < len(inp.layers):
                FORM.fill({"layer": 0})
            layer = FORM(
                st.radio,
                "Layer",
                "layer",
                range(len(inp.layers)),
                format_func=lambda i: f"layer {i + 1} ({inp.layers[i].units} units)",
                horizontal=True,
            )
        units = inp.layers[layer].units
        s.stp_unit = min(int(s.get("stp_unit", 0)), units - 1)
        # one row that wraps on a narrow screen; the buttons as wide as their labels and keys
        row = st.container(horizontal=True, vertical_alignment="bottom", key="stp_controls")
        st.html(CONTROLS_CSS)
        row.button(
            "Previous",
            icon=":material/skip_previous:",
            on_click=_move,
            args=(-1, t_len),
            disabled=s.stp_t == 0,
            help="One timestep back (key: Left arrow).",
            shortcut="Left",
        )
        row.button(
            "Pause" if playing else "Play",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            on_click=_set_playing,
            args=(not playing,),
            key=f"stp_{'pause' if playing else 'play'}",  # one widget per action: see above
            help=f"Step forward automatically, {stride} timestep(s) per frame (key: Space).",
            shortcut="Space",
        )
        row.button(
            "Next", icon=":material/skip_next:", on_click=_move, args=(1, t_len),
            disabled=s.stp_t == t_len - 1, help="One timestep forward (key: Right arrow).",
            shortcut="Right",
        )  # fmt: skip
        FORM(row.slider, "Timestep t", "t", 0, t_len - 1, width="stretch")
        FORM(
            row.number_input,
            "Unit",
            "unit",
            0,
            units - 1,
            help="The unit written out below.",
            width=UNIT_BOX_WIDTH,  # pixels
        )
        memo = s.stp_memo  # heatmaps built once per input; a step only moves their markers
        theme = page_theme()
        view = step_view(inp, case.traces, layer, int(s.stp_t), int(s.stp_unit), memo, theme)
        st.markdown(
            f"**t = {view.t}** (step {view.t + 1} of {t_len}): layer {layer + 1} reads "
            f"{view.reads}. Unit **{view.unit}**, with the numbers of this step:"
        )
        if inp.lens is not None and layer == len(inp.layers) - 1:
            st.caption(inp.lens.tip(inp.labels))
        st.latex(view.latex)
        st.caption(view.terms_note)
        digit = view.digit_fig is not None
        cols = st.columns([2.6, 1.3, 2.1] if digit else [3, 2])
        with cols[0]:
            chart(view.hidden_fig, "stp_hidden", "hidden-state")
            vmax = heat_scale(case.traces[layer].h)
            st.caption(
                f"{view.state_note} Each column is the vector h_t after reading step t "
                "(dotted line: the t on screen); "
                f"blue −{vmax:.3g}, {theme.neutral_word} 0, red +{vmax:.3g}"
                + (" (all |h| < 0.5 here, so the scale is stretched)." if vmax < 1 else ".")
            )
        if digit:
            with cols[1]:
                chart(view.digit_fig, "stp_digit", "digit")
                st.caption(
                    f"The digit. The box marks {inp.labels[view.t]}: the {inp.x.shape[1]} "
                    "pixels read at t."
                )
        with cols[-1]:
            chart(view.terms_fig, "stp_terms", "unit-terms")
            st.caption(view.bars_note)
        if view.words_html is not None:
            s0, s1 = inp.span
            one = inp.label_kind == "word"  # else each timestep reads a few words at once
            what = "each word" if one else "the words of each timestep"
            count = f"{s1 - s0} words" if one else f"{s1 - s0} timesteps"
            st.markdown(
                f"**The review, {what} coloured by unit {view.unit}'s h_t after reading "
                f"it** (blue −{view.words_vmax:.3f}, white 0, red +{view.words_vmax:.3f}: the "
                f"largest |h| of this unit in this review; hover for the value; the box is t). "
                f"{count}, from t = {s0} to {s1 - 1}."
            )
            st.html(f'<div style="line-height:2.1">{view.words_html}</div>')
        if view.gates_fig is not None:
            shown = view.gates_fig.data[0].x
            st.markdown(
                f"**Gates and states over time** (t = {shown[0]} to {shown[-1]}): gates in "
                "[0, 1] (0 = closed, 1 = open)."
            )
            chart(view.gates_fig, "stp_gates", "gates")
        follow_and_share(playing)

    body()


# ---------------------------------------------------------------- links


def load_from_link() -> None:
    """Once per link: a shared ``?cell=LSTM&t=42…`` sets the controls (timestep and unit once
    the input is built)."""
    settings = read_link("stepper", is_stepper_key, stepper_from_query)
    if settings is None:
        return
    FORM.fill(
        {
            "source": LINK_SOURCES[settings.source],
            "cell": settings.cell,
            "scheme": settings.scheme,
            "reset_after": settings.reset_after,
            "timesteps": settings.timesteps,
            "seed": settings.seed,
            "example": settings.example,
            "layer": settings.layer,
        }
    )
    st.session_state.stp_link_place = (settings.t, settings.unit)


def settings_now() -> StepperSettings:
    """The stepper's settings as they are on screen (a trained run's other fields default)."""
    place = {
        "layer": int(FORM.get("layer", 0)),
        "t": int(st.session_state.get("stp_t", 0)),
        "unit": int(st.session_state.get("stp_unit", 0)),
    }
    if FORM.get("source") != SOURCES[0]:
        return StepperSettings(source="trained", example=int(FORM.get("example", 0)), **place)
    return StepperSettings(
        cell=FORM.get("cell"),
        scheme=FORM.get("scheme"),
        reset_after=bool(FORM.get("reset_after", True)),
        timesteps=int(FORM.get("timesteps")),
        seed=int(FORM.get("seed")),
        **place,
    )


def follow_and_share(playing: bool) -> None:
    """The address bar follows the stepper (not while playing); its share link, folded."""
    try:
        settings = settings_now()
    except (TypeError, ValueError):  # a control out of range: nothing to share yet
        return
    query = stepper_query(settings)
    if not playing:
        follow_in_address_bar("stepper", query)
    with st.expander("Share this step", icon=":material/share:"):
        what = (
            "the viewer's own latest trained run (a link never carries trained weights)"
            if settings.source == "trained"
            else "the same random weights"
        )
        share_box(
            query,
            f"This link opens the stepper at t = {settings.t}, unit {settings.unit}, on {what}.",
        )


# ---------------------------------------------------------------- the page

st.title("Inside the RNN")
st.caption(
    "Seed 001 writes the RNN as a loop: output_t = tanh(W·input_t + U·state_t + b). Walk that "
    "loop one timestep at a time with the real numbers, on random weights or on a model you "
    "trained. Every number comes from a NumPy copy of Keras's SimpleRNN, LSTM and GRU cells."
)
load_from_link()
source = FORM(st.radio, "Weights", "source", SOURCES, horizontal=True)
case = random_controls() if source == SOURCES[0] else trained_controls()
if case is None:  # nothing to step through (no trained run): a link's place is not kept
    st.session_state.pop("stp_link_place", None)

if case is not None:
    inp = case.inp
    # a new input starts at its first word; new weights of the same input keep the position
    input_id = case.key[:3] if case.key[0] == "trained" else case.key
    if st.session_state.get("stp_input_id") != input_id:
        st.session_state.stp_input_id = input_id
        st.session_state.stp_t = inp.span[0] if inp.span[1] > inp.span[0] else 0
        st.session_state.stp_playing = False
    if st.session_state.get("stp_memo_key") != case.key:  # figures of other weights
        st.session_state.stp_memo_key, st.session_state.stp_memo = case.key, {}
    place = st.session_state.pop("stp_link_place", None)
    if place is not None:  # a link's timestep and unit, on the input it describes
        st.session_state.stp_t, st.session_state.stp_unit = place
    st.session_state.stp_t = min(int(st.session_state.get("stp_t", 0)), inp.timesteps - 1)
    st.session_state.stp_tick_ready = False  # ▶ Play moves on from the next frame

    st.subheader(inp.title)
    st.caption(inp.note)
    if case.explain:
        title = "Why every unit saturates" if "exactly 1.0" in case.explain else "What you see"
        st.info(f"**{title}.** {case.explain}")
    if inp.prediction:
        st.markdown(f"**The model's final prediction:** {inp.prediction}")
    else:
        st.caption(
            "Random weights have no trained output layer: the last hidden state h_T (the last "
            "column of the heatmap) is what a classifier head would read."
        )
    show_parity(case)
    stepper(case)
    show_lens(case)
    show_params(case)

show_code(numpy_rnn.step, numpy_rnn._core, label="Show the step function (NumPy, Keras layout)")
