"""Train page form: one control per config field, shown when the chosen task's config has it.

Each task's values live in its own :class:`pages._form.Form` (keys ``"<task>.<field>"``), so
they survive leaving the page, switching to another task and back, presets and links.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import fields, replace
from types import ModuleType
from typing import Any

import streamlit as st

from pages._form import START_SHORTCUT, Form, follow_in_address_bar, spec_from_link
from pages._stop_form import patience_control, until_control, until_text, until_values
from rnn_core.config import (
    OPTIMIZERS,
    POOLINGS,
    SCHEDULES,
    WORDS_PER_STEP,
    ModelConfig,
    RunSpec,
    TrainConfig,
)
from rnn_core.data.loaders import ENV_VAR, data_status
from rnn_core.engine.budgets import hosted
from rnn_core.presets import PRESETS
from rnn_core.tasks import get_task

ALL = 0  # widget value for a None ("all") config value: Streamlit reads None as "no choice"
SUBSETS = (2_000, 5_000, ALL)  # training-subset choices for the big datasets
DEMO_SUBSET = 5_000  # a fresh IMDB/MNIST form starts here: an epoch takes seconds
Control = Callable[[Any, Any, Form], None]  # draws one widget: (column, task, form) -> None
PAGE = Form("")  # page-wide fields: the task selector and the data directory
BASE = "_base"  # per-task key of the spec last loaded (preset, link): its fields with no control


def _nullable(task: Any, name: str) -> bool:
    """True when the task's data config allows None for a field (e.g. train_size = all)."""
    return any(f.name == name and "None" in str(f.type) for f in fields(task.data_config))


def _train_size(col: Any, task: Any, form: Form) -> None:
    """Training subset 2k/5k/all for loaded datasets; a free number for generated ones."""
    if not _nullable(task, "train_size"):
        form(col.number_input, "Training questions", "train_size", 10, 1_000_000, step=1000)
        return
    now = form.get("train_size")
    sizes = sorted({v for v in (*SUBSETS, now) if v})
    form(
        col.selectbox, "Training subset", "train_size", [*sizes, ALL],
        format_func=lambda v: "all" if v == ALL else f"{v:,}",
        help="Examples drawn (class-balanced) from the training set; 20% or 10% of them are "
        "held out for validation. Small subsets make an epoch take seconds.",
    )  # fmt: skip


def steps_per_execution_control(col: Any, form: Form) -> None:
    """Batches per call into TensorFlow (``TrainConfig.steps_per_execution``), 1-64."""
    form(
        col.number_input, "Batches per call", "steps_per_execution", 1, 64,
        help="TensorFlow runs this many batches before Python sees the model again: small "
        "models train faster (less Python between batches). The live curves and Stop then "
        "act every this many batches.",
    )  # fmt: skip


def xla_control(col: Any, form: Form) -> None:
    """Compile each training step with XLA (``TrainConfig.jit_compile``)."""
    form(
        col.checkbox, "Compile with XLA", "jit_compile",
        help="XLA turns each training step into one compiled program, fusing the cell's "
        "small operations: faster for batches of one fixed length (MNIST, text), slower "
        "for long IMDB reviews. Not with batching by length: each new length is compiled "
        "again.",
    )  # fmt: skip


def _pre_post(label: str, key: str, what: str) -> Control:
    """A pre/post radio for padding or truncating."""
    return lambda c, t, f: f(c.radio, label, key, ("pre", "post"), horizontal=True, help=what)


# (section, field) -> (form column, control). Which ones appear: data controls for the fields
# of the chosen task's data config; model controls for every task unless NEEDS says otherwise.
CONTROLS: dict[tuple[str, str], tuple[int, Control]] = {
    ("model", "cell"): (0, lambda c, t, f: f(
        c.selectbox, "Cell", "cell", t.cells,
        help="Dense: the non-recurrent baseline (Flatten, then Dense layers).")),
    ("model", "bidirectional"): (0, lambda c, t, f: f(
        c.checkbox, "Bidirectional", "bidirectional",
        help="RNN cells: read the sequence both ways (2× weights).")),
    ("model", "unroll"): (0, lambda c, t, f: f(
        c.checkbox, "Unroll the loop", "unroll",
        help="Build one copy of the cell per timestep instead of a loop: faster for short "
        "sequences of one length (addition, MNIST), at most 100 timesteps.")),
    ("model", "units"): (0, lambda c, t, f: f(
        c.number_input, "Units", "units", 1, 1024, help="Hidden units in each recurrent layer.")),
    ("model", "layers"): (0, lambda c, t, f: f(
        c.number_input, "Layers", "layers", 1, 4, help="Stacked recurrent layers.")),
    ("model", "embedding_dim"): (0, lambda c, t, f: f(
        c.number_input, "Embedding dim", "embedding_dim", 2, 512,
        help="Length of each word's vector.")),
    ("model", "dropout"): (0, lambda c, t, f: f(
        c.slider, "Dropout", "dropout", 0.0, 0.8, step=0.05)),
    ("model", "pooling"): (0, lambda c, t, f: f(
        c.selectbox, "Pooling over time", "pooling", POOLINGS,
        help="What the classifier reads: the RNN's last state, or the max or mean of its "
        "outputs at every timestep (often better on long reviews), or the max and the mean side "
        "by side.")),
    ("data", "digits"): (1, lambda c, t, f: f(c.slider, "Digits per number", "digits", 1, 5)),
    ("data", "reverse"): (1, lambda c, t, f: f(
        c.checkbox, "Reverse the question", "reverse", help="Feed '61+535' backwards: helps.")),
    ("data", "num_words"): (1, lambda c, t, f: f(
        c.number_input, "Vocabulary (num_words)", "num_words", 10, 90_000, step=1000,
        help="Keep the most frequent words; rarer ones all read as <OOV>.")),
    ("data", "maxlen"): (1, lambda c, t, f: f(
        c.number_input, "maxlen (tokens)", "maxlen", 5, 2000, step=50,
        help="Every review is padded or cut to this many tokens.")),
    ("data", "padding"): (1, _pre_post(
        "Padding", "padding", "Zeros before or after a short review.")),
    ("data", "truncating"): (1, _pre_post(
        "Truncating", "truncating", "Cut the start (pre) or the end (post) of a long review.")),
    ("data", "train_size"): (1, _train_size),
    ("data", "words_per_step"): (1, lambda c, t, f: f(
        c.selectbox, "Words per timestep", "words_per_step", WORDS_PER_STEP,
        help="1: the RNN reads the review word by word. 4: four word vectors side by side "
        "per timestep: a quarter of the steps, so an epoch takes much less time, and each "
        "step sees a short phrase. A maxlen that is not a multiple of it gets a few more "
        "padding zeros.")),
    ("data", "rows_per_step"): (1, lambda c, t, f: f(
        c.selectbox, "Pixel rows per timestep", "rows_per_step", [1, 2, 4, 7],
        help="1: the RNN reads the digit row by row, 28 timesteps of 28 pixels. 2: two rows "
        "side by side per timestep, 14 timesteps of 56 pixels: half the steps, so an epoch "
        "takes a little over half the time.")),
    ("train", "epochs"): (2, lambda c, t, f: f(c.number_input, "Epochs", "epochs", 1, 500)),
    ("train", "batch_size"): (2, lambda c, t, f: f(
        c.selectbox, "Batch size", "batch_size", [16, 32, 64, 128, 256, 512])),
    ("train", "batch_by_length"): (2, lambda c, t, f: f(
        c.checkbox, "Batch reviews by length", "batch_by_length",
        help="Each batch holds reviews of similar length and is cut to the longest of them, "
        "so the RNN reads less padding (an epoch takes about half the time at maxlen 400). "
        "Validation and test still read maxlen words.")),
    ("train", "steps_per_execution"): (2, lambda c, t, f: steps_per_execution_control(c, f)),
    ("train", "jit_compile"): (2, lambda c, t, f: xla_control(c, f)),
    ("train", "seed"): (2, lambda c, t, f: f(c.number_input, "Seed", "seed", 0, 2**31 - 1)),
    ("train", "optimizer"): (3, lambda c, t, f: f(
        c.selectbox, "Optimizer", "optimizer", OPTIMIZERS)),
    ("train", "learning_rate"): (3, lambda c, t, f: f(
        c.number_input, "Learning rate", "learning_rate", 1e-5, 1.0, format="%.4f", step=1e-3)),
    ("train", "schedule"): (3, lambda c, t, f: f(
        c.selectbox, "Learning-rate schedule", "schedule", SCHEDULES,
        help="cosine: the rate falls smoothly from the learning rate to 0 by the last "
        "epoch, so the last steps make small, careful changes.")),
    ("train", "until"): (3, lambda c, t, f: until_control(c, f, t.val_metrics())),
    ("train", "patience"): (3, lambda c, t, f: patience_control(c, f)),
}  # fmt: skip
# A model control shown only with this data field (data_dir: the loaded-dataset classifiers).
NEEDS = {("model", "embedding_dim"): "num_words", ("model", "pooling"): "data_dir"}


def view_module(task_name: str) -> ModuleType | None:
    """The task's Train-page view, ``pages/_train_<task>.py``; None if it has none."""
    name = f"pages._train_{task_name}"
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def on_train_page(task_name: str) -> bool:
    """True for a task the Train page trains and shows (it has a view); the others (the text
    task) live on the Text generation page."""
    return view_module(task_name) is not None


def page_of(task_name: str) -> str:
    """The page file that trains and shows runs of this task."""
    return "pages/train.py" if on_train_page(task_name) else "pages/text.py"


def current_key(task_name: str) -> str:
    """The session-state key of that page's current run."""
    return "current" if on_train_page(task_name) else "tx_current"


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
        if (sec != "data" or name in data)
        and NEEDS.get((sec, name), name) in data | {name}
        and (name != "batch_by_length" or task.length_batches)
    ]


def default_spec(task: Any) -> RunSpec:
    """A task's starting spec; loaded datasets start on a small subset."""
    spec = task.default_spec()
    if _nullable(task, "train_size"):
        spec = replace(spec, data=replace(spec.data, train_size=DEMO_SUBSET))
    return spec


def task_form(task_name: str) -> Form:
    """The form holding one task's values (its own keys: other tasks keep theirs)."""
    return Form(f"{task_name}.")


def spec_values(spec: RunSpec) -> dict[str, Any]:
    """A spec as form values: one per control the task shows (None reads as ALL)."""
    values, task = {}, get_task(spec.task)
    for sec, name in shown(task):
        value = getattr(getattr(spec, sec), name)
        if (sec, name) == ("train", "until"):  # two fields: the metric and its threshold
            values |= until_values(value, task.val_metrics())
            continue
        values[name] = ALL if value is None else value
    return values


def put_spec_in_widgets(spec: RunSpec) -> None:
    """Write a spec's values into its task's form (shown from the next time it is drawn).

    The spec itself is kept too: the fields the form has no control for (a preset's
    validation share, say) come from it when the form is read back.
    """
    task_form(spec.task).fill({**spec_values(spec), BASE: spec})


def apply_preset(task_name: str) -> None:
    """on_change of the preset picker: load the preset into the task's form."""
    name = task_form(task_name).get("preset")
    if name in PRESETS:
        put_spec_in_widgets(PRESETS[name].spec)


def spec_from_widgets(task_name: str) -> RunSpec:
    """Read the task's form back into a frozen RunSpec."""
    form, task = task_form(task_name), get_task(task_name)
    values: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
    for sec, name in shown(task):
        if (sec, name) == ("train", "until"):
            metric, threshold = form.get("until_metric"), form.get("until_value")
            values[sec][name] = until_text(metric, threshold, task.val_metrics())
            continue
        nullable = sec == "data" and _nullable(task, name)
        value = form.get(name)
        values[sec][name] = None if nullable and value == ALL else value
    seed = int(form.get("seed"))
    base = form.get(BASE) or RunSpec(task_name, task.data_config(), ModelConfig(), TrainConfig())
    data = replace(base.data, **values["data"], seed=seed)
    if "data_dir" in {f.name for f in fields(task.data_config)}:
        data = replace(data, data_dir=PAGE.get("data_dir") or None)
    return RunSpec(
        task=task_name,
        data=data,
        model=replace(base.model, **values["model"], seed=seed),
        train=replace(base.train, **values["train"]),
    )


def data_dir_setting(task: Any) -> None:
    """The data-directory setting and which of the task's files are present.

    A hosted server shows no box (visitors must not point it at arbitrary paths): it reads the
    host's ``$RNN_LAB_DATA_DIR`` and Keras's cache only.
    """
    if not hosted():
        PAGE(
            st.text_input, "Data directory", "data_dir",
            placeholder="(none: Keras's cache, then download)",
            help=f"Folder with the Keras-format files; default: ${ENV_VAR}. Fill it offline "
            "with `python -m rnn_core fetch --data-dir DIR`.",
        )  # fmt: skip
    status = data_status(PAGE.get("data_dir") or None)
    where = status["data_dir"] or "no data directory"
    if hosted():
        where = "this server's data directory" if status["data_dir"] else "no data directory"
    files = " · ".join(f"`{f}` {'✓ found' if status[f] else '✗ missing'}" for f in task.files)
    missing = "" if all(status[f] for f in task.files) else (
        " — missing files are downloaded by Keras when you press Start (needs internet)."
    )  # fmt: skip
    st.caption(f"In `{where}` or Keras's cache `{status['keras_cache']}`: {files}{missing}")


def start_form(task_name: str) -> None:
    """A task's first visit in this session: its defaults (later visits keep the student's)."""
    PAGE.start({"data_dir": os.environ.get(ENV_VAR, "")})
    form = task_form(task_name)
    form.start({**spec_values(default_spec(get_task(task_name))), "preset": "(custom)"})


def load_from_link(tasks: list[str]) -> None:
    """Once per link: a ``?preset=NAME`` or a shared ``?task=…&m.units=…`` fills the form."""
    found = spec_from_link("train")
    if found is None:
        return
    spec, name = found
    if spec.task not in tasks:
        st.warning(f"This link is for the {spec.task!r} task, which this page does not train.")
        return
    start_form(spec.task)
    put_spec_in_widgets(spec)
    task_form(spec.task).fill({"preset": name or "(custom)"})
    PAGE.fill({"task": spec.task})


def follow_form(task_name: str) -> None:
    """The address bar shows the form's configuration as it changes (share it, reload it)."""
    from rnn_core.links import to_query

    try:
        spec = spec_from_widgets(task_name)
    except (TypeError, ValueError):  # a value the config refuses: Start will say why
        return
    follow_in_address_bar("train", to_query(spec))


def share_link(spec: RunSpec) -> None:
    """Put a started run's configuration in the address bar, so the URL can be shared."""
    from rnn_core.links import to_query

    follow_in_address_bar("train", to_query(spec))


def task_picker(names: list[str]) -> str:
    """The task selector; it stays on the task last used when the student comes back."""
    return PAGE(
        st.selectbox, "Task", "task", names, format_func=lambda n: get_task(n).info.label
    )  # fmt: skip


def preset_picker(task_name: str) -> None:
    """The chosen task's presets; picking one loads it into the form."""
    form = task_form(task_name)
    names = [n for n, p in PRESETS.items() if p.spec.task == task_name]
    form(
        st.selectbox, "Preset", "preset", ["(custom)", *names],
        on_change=apply_preset, args=(task_name,),
        format_func=lambda n: n if n == "(custom)" else f"{n} — {PRESETS[n].title}",
        help="Loads a ready-made configuration into the form below.",
    )  # fmt: skip
    name = form.get("preset")
    if name in PRESETS:
        changed = edited_fields(PRESETS[name].spec, form)
        if changed:
            st.caption(
                f"Edited from {name} ({', '.join(changed)} changed): the preset's figures are "
                "for its own settings, not these."
            )
        else:
            st.caption(PRESETS[name].results_line())


def edited_fields(spec: RunSpec, form: Form) -> list[str]:
    """The form's values that differ from ``spec``'s (another seed is still the same setup)."""
    return [k for k, v in spec_values(spec).items() if k != "seed" and form.get(k) != v]


def config_form(task_name: str, busy: bool) -> bool:
    """The task's controls, then Start; True when Start was pressed.

    Not an ``st.form``: each change reaches the server at once, so it is kept when the
    student leaves the page and the address bar can follow it.
    """
    task, form = get_task(task_name), task_form(task_name)
    with st.container(border=True):
        cols = st.columns(4)
        drawn = controls(task)
        for key in shown(task):
            col, draw = drawn[key]
            draw(cols[col], task, form)
        return st.button(
            "▶ Start training", type="primary", disabled=busy, key="train_start",
            shortcut=START_SHORTCUT,
        )  # fmt: skip
