"""Train page form: one control per config field, shown when the chosen task's config has it."""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import fields, replace
from types import ModuleType
from typing import Any

import streamlit as st

from rnn_core.config import OPTIMIZERS, POOLINGS, ModelConfig, RunSpec, TrainConfig
from rnn_core.data.loaders import ENV_VAR, data_status
from rnn_core.presets import PRESETS
from rnn_core.tasks import get_task

ALL = 0  # widget value for a None ("all") config value: Streamlit reads None as "no choice"
SUBSETS = (2_000, 5_000, ALL)  # training-subset choices for the big datasets
DEMO_SUBSET = 5_000  # a fresh IMDB/MNIST form starts here: an epoch takes seconds
Control = Callable[[Any, Any], None]  # draws one widget: (column, task) -> None


def _nullable(task: Any, name: str) -> bool:
    """True when the task's data config allows None for a field (e.g. train_size = all)."""
    return any(f.name == name and "None" in str(f.type) for f in fields(task.data_config))


def _train_size(col: Any, task: Any) -> None:
    """Training subset 2k/5k/all for loaded datasets; a free number for generated ones."""
    if not _nullable(task, "train_size"):
        col.number_input("Training questions", 10, 1_000_000, step=1000, key="train_size")
        return
    now = st.session_state.get("train_size")
    sizes = sorted({v for v in (*SUBSETS, now) if v})
    col.selectbox(
        "Training subset", [*sizes, ALL], key="train_size",
        format_func=lambda v: "all" if v == ALL else f"{v:,}",
        help="Examples drawn (class-balanced) from the training set; 20% or 10% of them are "
        "held out for validation. Small subsets make an epoch take seconds.",
    )  # fmt: skip


def _pre_post(label: str, key: str, what: str) -> Control:
    """A pre/post radio for padding or truncating."""
    return lambda c, t: c.radio(label, ("pre", "post"), key=key, horizontal=True, help=what)


# (section, field) -> (form column, control). Which ones appear: data controls for the fields
# of the chosen task's data config; model controls for every task unless NEEDS says otherwise.
CONTROLS: dict[tuple[str, str], tuple[int, Control]] = {
    ("model", "cell"): (0, lambda c, t: c.selectbox(
        "Cell", t.cells, key="cell",
        help="Dense: the non-recurrent baseline (Flatten, then Dense layers).")),
    ("model", "bidirectional"): (0, lambda c, t: c.checkbox(
        "Bidirectional", key="bidirectional",
        help="RNN cells: read the sequence both ways (2× weights).")),
    ("model", "units"): (0, lambda c, t: c.number_input(
        "Units", 1, 1024, key="units", help="Hidden units in each recurrent layer.")),
    ("model", "layers"): (0, lambda c, t: c.number_input(
        "Layers", 1, 4, key="layers", help="Stacked recurrent layers.")),
    ("model", "embedding_dim"): (0, lambda c, t: c.number_input(
        "Embedding dim", 2, 512, key="embedding_dim", help="Length of each word's vector.")),
    ("model", "dropout"): (0, lambda c, t: c.slider(
        "Dropout", 0.0, 0.8, step=0.05, key="dropout")),
    ("model", "pooling"): (0, lambda c, t: c.selectbox(
        "Pooling over time", POOLINGS, key="pooling",
        help="What the classifier reads: the RNN's last state, or the max or mean of its "
        "outputs at every timestep (often better on long reviews).")),
    ("data", "digits"): (1, lambda c, t: c.slider("Digits per number", 1, 5, key="digits")),
    ("data", "reverse"): (1, lambda c, t: c.checkbox(
        "Reverse the question", key="reverse", help="Feed '61+535' backwards: helps.")),
    ("data", "num_words"): (1, lambda c, t: c.number_input(
        "Vocabulary (num_words)", 10, 90_000, step=1000, key="num_words",
        help="Keep the most frequent words; rarer ones all read as <OOV>.")),
    ("data", "maxlen"): (1, lambda c, t: c.number_input(
        "maxlen (tokens)", 5, 2000, step=50, key="maxlen",
        help="Every review is padded or cut to this many tokens.")),
    ("data", "padding"): (1, _pre_post(
        "Padding", "padding", "Zeros before or after a short review.")),
    ("data", "truncating"): (1, _pre_post(
        "Truncating", "truncating", "Cut the start (pre) or the end (post) of a long review.")),
    ("data", "train_size"): (1, _train_size),
    ("train", "epochs"): (2, lambda c, t: c.number_input("Epochs", 1, 500, key="epochs")),
    ("train", "batch_size"): (2, lambda c, t: c.selectbox(
        "Batch size", [16, 32, 64, 128, 256, 512], key="batch_size")),
    ("train", "seed"): (2, lambda c, t: c.number_input("Seed", 0, 2**31 - 1, key="seed")),
    ("train", "optimizer"): (3, lambda c, t: c.selectbox("Optimizer", OPTIMIZERS, key="optimizer")),
    ("train", "learning_rate"): (3, lambda c, t: c.number_input(
        "Learning rate", 1e-5, 1.0, format="%.4f", step=1e-3, key="learning_rate")),
}  # fmt: skip
# A model control shown only with this data field (data_dir: the loaded-dataset classifiers).
NEEDS = {("model", "embedding_dim"): "num_words", ("model", "pooling"): "data_dir"}


def view_module(task_name: str) -> ModuleType | None:
    """The task's Train-page view, ``pages/_train_<task>.py``; None if it has none."""
    name = f"pages._train_{task_name}"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def controls(task: Any) -> dict[tuple[str, str], tuple[int, Control]]:
    """:data:`CONTROLS` plus those the task's view draws for its own data fields (DATA_CONTROLS)."""
    view = view_module(task.info.name)
    extra = getattr(view, "DATA_CONTROLS", {})  # a view module, not the task: optional extras
    return {**CONTROLS, **{("data", name): control for name, control in extra.items()}}


def shown(task: Any) -> list[tuple[str, str]]:
    """The (section, field) controls the task's configs call for, in form order."""
    data = {f.name for f in fields(task.data_config)}
    return [
        (sec, name)
        for sec, name in controls(task)
        if (sec != "data" or name in data) and NEEDS.get((sec, name), name) in data | {name}
    ]


def default_spec(task: Any) -> RunSpec:
    """A task's starting spec; loaded datasets start on a small subset."""
    spec = task.default_spec()
    if _nullable(task, "train_size"):
        spec = replace(spec, data=replace(spec.data, train_size=DEMO_SUBSET))
    return spec


def put_spec_in_widgets(spec: RunSpec) -> None:
    """Write a spec's values into the form's widget state."""
    for sec, name in shown(get_task(spec.task)):
        value = getattr(getattr(spec, sec), name)
        st.session_state[name] = ALL if value is None else value


def apply_preset() -> None:
    """on_change of the preset picker: load the preset into the form."""
    name = st.session_state.get("preset")
    if name in PRESETS:
        put_spec_in_widgets(PRESETS[name].spec)


def spec_from_widgets(task_name: str) -> RunSpec:
    """Read the form back into a frozen RunSpec."""
    s, task = st.session_state, get_task(task_name)
    values: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
    for sec, name in shown(task):
        nullable = sec == "data" and _nullable(task, name)
        values[sec][name] = None if nullable and s[name] == ALL else s[name]
    seed = int(s.seed)
    data = task.data_config(**values["data"], seed=seed)
    if "data_dir" in {f.name for f in fields(task.data_config)}:
        data = replace(data, data_dir=s.get("data_dir") or None)
    return RunSpec(
        task=task_name,
        data=data,
        model=ModelConfig(**values["model"], seed=seed),
        train=TrainConfig(**values["train"]),
    )


def data_dir_setting(task: Any) -> None:
    """The data-directory setting and which of the task's files are present."""
    st.text_input(
        "Data directory",
        key="data_dir",
        placeholder="(none: Keras's cache, then download)",
        help=f"Folder with the Keras-format files; default: ${ENV_VAR}. Fill it offline with "
        "`python -m rnn_core fetch --data-dir DIR`.",
    )
    status = data_status(st.session_state.data_dir or None)
    where = status["data_dir"] or "no data directory"
    files = " · ".join(f"`{f}` {'✓ found' if status[f] else '✗ missing'}" for f in task.files)
    missing = "" if all(status[f] for f in task.files) else (
        " — missing files are downloaded by Keras when you press Start (needs internet)."
    )  # fmt: skip
    st.caption(f"In `{where}` or Keras's cache `{status['keras_cache']}`: {files}{missing}")


def load_task_defaults(task_name: str) -> None:
    """On the first visit and whenever the task changes: that task's defaults in the form."""
    if "data_dir" not in st.session_state:
        st.session_state.data_dir = os.environ.get(ENV_VAR, "")
    if st.session_state.get("form_task") != task_name:
        put_spec_in_widgets(default_spec(get_task(task_name)))
        st.session_state.form_task, st.session_state.preset = task_name, "(custom)"


def load_from_link() -> None:
    """Once per link: a ``?preset=NAME`` or a shared ``?task=…&m.units=…`` fills the form."""
    from rnn_core.links import from_query

    params = st.query_params.to_dict()
    if not params or st.session_state.get("link_loaded") == params:
        return
    st.session_state.link_loaded = params
    name = params.get("preset")
    try:
        spec = PRESETS[name].spec if name in PRESETS else from_query(params)
    except ValueError as exc:
        st.warning(f"This link's configuration could not be used: {exc}")
        return
    if name is not None and name not in PRESETS:
        st.warning(f"Unknown preset {name!r} in the link; see `python -m rnn_core presets`.")
        return
    put_spec_in_widgets(spec)
    st.session_state.task = st.session_state.form_task = spec.task
    st.session_state.preset = name if name in PRESETS else "(custom)"


def share_link(spec: RunSpec) -> None:
    """Put a started run's configuration in the address bar, so the URL can be shared."""
    from rnn_core.links import to_query

    query = to_query(spec)
    st.query_params.from_dict(query)
    st.session_state.link_loaded = query  # our own link: do not reload it into the form


def preset_picker(task_name: str) -> None:
    """The chosen task's presets; picking one loads it into the form."""
    names = [n for n, p in PRESETS.items() if p.spec.task == task_name]
    st.selectbox(
        "Preset",
        ["(custom)", *names],
        key="preset",
        on_change=apply_preset,
        format_func=lambda n: n if n == "(custom)" else f"{n} — {PRESETS[n].title}",
        help="Loads a ready-made configuration into the form below.",
    )
    if st.session_state.preset in PRESETS:
        st.caption(PRESETS[st.session_state.preset].results_line())


def config_form(task: Any, busy: bool) -> bool:
    """The form with the task's controls; True when Start was pressed."""
    with st.form("config"):
        cols = st.columns(4)
        drawn = controls(task)
        for key in shown(task):
            col, draw = drawn[key]
            draw(cols[col], task)
        return st.form_submit_button("▶ Start training", type="primary", disabled=busy)
