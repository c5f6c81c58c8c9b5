"""Train: pick a task and a model, train it live, watch the curves, compare runs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages.common import add_run, live_panel, load_training, runs, show_code
from rnn_core import charts
from rnn_core.config import CELLS, OPTIMIZERS, AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.presets import PRESETS
from rnn_core.tasks import get_task, run_name

DEFAULTS = RunSpec()  # the fast addition defaults
FORM_KEYS = {  # widget key -> (config section, field)
    "cell": ("model", "cell"),
    "units": ("model", "units"),
    "layers": ("model", "layers"),
    "dropout": ("model", "dropout"),
    "digits": ("data", "digits"),
    "reverse": ("data", "reverse"),
    "train_size": ("data", "train_size"),
    "epochs": ("train", "epochs"),
    "batch_size": ("train", "batch_size"),
    "optimizer": ("train", "optimizer"),
    "learning_rate": ("train", "learning_rate"),
    "seed": ("train", "seed"),
}


def put_spec_in_widgets(spec: RunSpec) -> None:
    """Write a spec's values into the form's widget state."""
    for key, (section, name) in FORM_KEYS.items():
        st.session_state[key] = getattr(getattr(spec, section), name)


def apply_preset() -> None:
    """on_change of the preset picker: load the preset into the form."""
    name = st.session_state.get("preset")
    if name in PRESETS:
        put_spec_in_widgets(PRESETS[name].spec)


def spec_from_widgets() -> RunSpec:
    """Read the form back into a frozen RunSpec."""
    s = st.session_state
    seed = int(s.seed)
    return RunSpec(
        task="addition",
        data=AdditionConfig(
            digits=int(s.digits), train_size=int(s.train_size), reverse=bool(s.reverse), seed=seed
        ),
        model=ModelConfig(
            cell=s.cell, units=int(s.units), layers=int(s.layers), dropout=float(s.dropout),
            seed=seed,
        ),
        train=TrainConfig(
            epochs=int(s.epochs), batch_size=int(s.batch_size), optimizer=s.optimizer,
            learning_rate=float(s.learning_rate), seed=seed,
        ),
    )  # fmt: skip


@st.cache_data(max_entries=4, show_spinner="Generating questions…")
def addition_data(cfg: AdditionConfig) -> Any:
    """Question sets for a data config, shared by reruns (each caller gets its own copy)."""
    return get_task("addition").make_data(cfg)


def start_run(spec: RunSpec) -> None:
    """Build data, model and job for a spec; start training and make it the current run."""
    training = load_training()
    task = get_task(spec.task)
    data = addition_data(spec.data)
    with st.spinner("Building the model…"):
        model = task.build(spec, data)
    train, val = task.splits(data)
    job = training.TrainingJob(model, train, val, spec.train, on_epoch=task.epoch_report(data))
    record = training.RunRecord(run_name(spec), spec, job, int(model.count_params()))
    record.info["data"] = data
    add_run(record)
    st.session_state.current = record
    job.start()
    st.rerun()  # redraw the whole page with the new run (Stop enabled, Start disabled)


def question_table(snap: Any) -> None:
    """After each epoch: ten held-out questions with the model's guesses."""
    extra = snap.epoch_extras[-1] if snap.epoch_extras else None
    if extra:
        st.markdown(f"**Ten held-out questions after epoch {snap.epoch}** (never seen in training)")
        table = pd.DataFrame(extra["table"])
        table["ok"] = table["ok"].map({True: "☑", False: "☒"})
        st.dataframe(table, hide_index=True, width="content")


st.title("Train a recurrent network")
task = get_task("addition")
st.caption(f"**{task.info.label}** — {task.info.rnn_type}. {task.info.description}")

if "cell" not in st.session_state:
    put_spec_in_widgets(DEFAULTS)

st.selectbox(
    "Preset",
    ["(custom)", *PRESETS],
    key="preset",
    on_change=apply_preset,
    format_func=lambda n: n if n == "(custom)" else f"{n} — {PRESETS[n].title}",
    help="Loads a ready-made configuration into the form below.",
)
if st.session_state.preset in PRESETS:
    st.caption(f"Source reports: {PRESETS[st.session_state.preset].source_result}")

current = st.session_state.get("current")
busy = current is not None and current.job.snapshot().active

with st.form("config"):
    a, b, c, d = st.columns(4)
    a.selectbox("Cell", CELLS, key="cell")
    a.number_input("Units", 1, 1024, key="units", help="Hidden units in each recurrent layer.")
    a.number_input("Layers", 1, 4, key="layers", help="Stacked layers in encoder and decoder.")
    b.slider("Digits per number", 1, 5, key="digits")
    b.checkbox("Reverse the question", key="reverse", help="Feed '61+535' backwards: helps.")
    b.number_input("Training questions", 10, 1_000_000, step=1000, key="train_size")
    c.number_input("Epochs", 1, 500, key="epochs")
    c.selectbox("Batch size", [16, 32, 64, 128, 256, 512], key="batch_size")
    c.slider("Dropout", 0.0, 0.8, step=0.05, key="dropout")
    d.selectbox("Optimizer", OPTIMIZERS, key="optimizer")
    d.number_input("Learning rate", 1e-5, 1.0, format="%.4f", step=1e-3, key="learning_rate")
    d.number_input("Seed", 0, 2**31 - 1, key="seed")
    started = st.form_submit_button("▶ Start training", type="primary", disabled=busy)

if started:
    try:
        start_run(spec_from_widgets())
    except ValueError as exc:
        st.error(str(exc))
    current = st.session_state.get("current")

if current is not None:
    job = current.job
    st.subheader(f"Run: {current.name} · {current.params:,} parameters")
    note = current.info["data"].note
    if note:
        st.info(note)
    live_panel(
        current,
        metric="accuracy",
        metric_label="val accuracy (per char)",
        extra_key="exact_match",
        extra_label="held-out exact match",
        after_epoch=question_table,
    )

    with st.expander("Model summary: parameters per layer, by formula and by Keras"):
        from rnn_core.params import summary_rows

        rows = pd.DataFrame(summary_rows(job.model))
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(
            "LSTM: 4·(inputs+units+1)·units — four gates, each with input weights, recurrent "
            "weights and a bias. GRU (Keras default reset_after): 3·(inputs+units+2)·units."
        )

    with st.form("ask"):
        q = st.text_input("Ask your own sum", placeholder="e.g. 123+45")
        if st.form_submit_button("Ask the model") and q:
            try:
                ans = task.answer(job.model, q, current.spec.data)
                mark = "☑ right" if ans["ok"] else f"☒ wrong (true answer {ans['true']})"
                st.success(f"{ans['question']} = **{ans['guess'] or '(blank)'}**  {mark}")
            except ValueError as exc:
                st.warning(str(exc))

past = runs()
if len(past) > 1:
    st.subheader("Compare runs")
    names = [f"{i + 1}. {r.name}" for i, r in enumerate(past)]
    chosen = st.multiselect("Runs", names, default=names)
    picked = [past[names.index(n)] for n in chosen]
    series = [(n, r.job.snapshot().epoch_logs) for n, r in zip(chosen, picked, strict=True)]
    st.plotly_chart(charts.compare_curves(series, "val_accuracy"), key="compare")
    rows = []
    for n, r in zip(chosen, picked, strict=True):
        s = r.job.snapshot()
        val = [log.get("val_accuracy", 0.0) for log in s.epoch_logs]
        em = [e["exact_match"] for e in s.epoch_extras if e]
        rows.append(
            {
                "run": n,
                "cell": r.spec.model.cell,
                "params": r.params,
                "epochs": s.epoch,
                "s/epoch": round(s.train_seconds / s.epoch, 2) if s.epoch else None,
                "best val accuracy": round(max(val), 4) if val else None,
                "best exact match": round(max(em), 4) if em else None,
                "state": s.state,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

if current is not None:
    from rnn_core.models import build_seq2seq

    show_code(build_seq2seq, type(current.job)._run)
