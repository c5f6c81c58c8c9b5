"""Train: pick a task and a model, train it live, watch the curves, compare runs."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import streamlit as st

from pages import _snapshots, _train_form
from pages._board_db import hand_in_form
from pages._compare import best_column, compare_by_metric
from pages._export import export_buttons
from pages._form import share_box
from pages._tabs import KEY
from pages.common import (
    add_run,
    budget,
    cached_data,
    live_panel,
    load_training,
    prime_training,
    runs,
    score_test_set,
    shared_runs,
    show_code,
)
from rnn_core.compare import metric_label as compare_label
from rnn_core.config import RunSpec
from rnn_core.links import to_query
from rnn_core.tasks import TASKS, get_task

VIEWS = {n: v for n in TASKS if (v := _train_form.view_module(n))}  # pages/_train_<task>.py


def start_run(spec: RunSpec) -> None:
    """Start a run of the spec through the one run flow and make it the current run."""
    from rnn_core.engine.budgets import check_spec
    from rnn_core.run import start_run as start

    check_spec(spec, budget())  # BudgetError is a ValueError: shown under the form, before TF
    load_training()
    with st.spinner("Building the model…"):  # an identical run on this server is watched
        share, owner = shared_runs(), st.session_state.get(KEY)
        run = start(spec, budget(), cached_data, share=share, owner=owner)
    add_run(run)
    st.session_state.current = run
    _train_form.share_link(spec)
    run.job.start()
    st.rerun()  # redraw the whole page with the new run (Stop enabled, Start disabled)


def no_data_line(run: Any) -> None:
    """A run without its data here: its test figure and where it comes from."""
    line = ""
    if run.results is not None:
        label, value = run.results.headline
        where = (
            "as recorded in the file it was opened from"
            if run.origin == "imported"
            else f"measured after epoch {run.results_epoch}"
        )
        line = f"{label}: {value:.4f}, {where}. "
    st.caption(line + "Its dataset is not loaded here, so the per-example views are not shown.")


st.title("Train a recurrent network")
_train_form.load_from_link([n for n in TASKS if n in VIEWS])
task_name = _train_form.task_picker([n for n in TASKS if n in VIEWS])
task = get_task(task_name)
st.caption(f"**{task.info.label}** — {task.info.rnn_type}. {task.info.description}")
_train_form.start_form(task_name)
if task.files:
    _train_form.data_dir_setting(task)
_train_form.preset_picker(task_name)
_snapshots.train_page(task_name)  # start from a pretrained model

current = st.session_state.get("current")
if current is not None and current.spec.task != task_name:  # show this task's latest run
    current = next((r for r in reversed(runs()) if r.spec.task == task_name), None)
busy = current is not None and current.job.snapshot().active
started = _train_form.config_form(task_name, busy)
_train_form.follow_form(task_name)  # the address bar shows the form as it is now

if started:
    try:
        start_run(_train_form.spec_from_widgets(task_name))
    except ValueError as exc:
        st.error(str(exc))
elif not busy:
    with contextlib.suppress(ValueError):  # a form that cannot make a spec is not primed
        prime_training(_train_form.spec_from_widgets(task_name))  # its Start then finds it traced

if current is not None:
    view, job = VIEWS[current.spec.task], current.job
    active = job.snapshot().active
    st.subheader(f"Run: {current.name} · {current.params:,} parameters")
    share_box(
        to_query(current.spec),
        "Share this run's link to let someone else train that setup (it carries the settings, "
        "not the trained weights).",
    )
    if current.note:
        st.info(current.note)
    if not active:
        view.evaluate(current)  # whole-test-set scores, once per set of trained weights
    st.caption(view.EXTRA_HELP)
    no_data = current.data is None  # released, or opened where its dataset is not
    live_panel(
        current,
        metric=get_task(current.spec.task).info.metric,
        metric_label=view.METRIC_LABEL,
        extra_label=view.extra_label(current),
        after_epoch=None if no_data else view.after_epoch(current),
    )

    with st.expander("Model summary: parameters per layer, by formula and by Keras"):
        from rnn_core.params import summary_rows

        rows = pd.DataFrame(summary_rows(job.model) if job.model is not None else [])
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(
            "LSTM: 4·(inputs+units+1)·units — four gates, each with input weights, recurrent "
            "weights and a bias. GRU (Keras default reset_after): 3·(inputs+units+2)·units. "
            "SimpleRNN: (inputs+units+1)·units. Bidirectional: 2× the wrapped layer (one copy "
            "reads forwards, one backwards). Embedding: vocabulary·dimension (one vector per "
            "word). Dense: (inputs+1)·units."
        )
    if no_data:
        no_data_line(current)
    else:
        view.results(current, active)
    export_buttons(current)
    hand_in_form(current)

past = [r for r in runs() if r.spec.task == task_name]
if len(past) > 1:
    view, metric = VIEWS[task_name], task.info.metric
    st.subheader("Compare runs")
    names = [f"{i + 1}. {r.name}" for i, r in enumerate(past)]
    chosen = st.multiselect("Runs", names, default=names)
    picked = [past[names.index(n)] for n in chosen]
    training = current is not None and current.job.snapshot().active
    for r in picked:  # a finished run's weights, once; not while a run trains: the page would
        if not training and not r.job.snapshot().active:  # not draw its progress meanwhile
            score_test_set(r, "examples")
    named = list(zip(chosen, picked, strict=True))
    by, values, order = compare_by_metric(named, f"val_{metric}", "compare_metric")
    rows = []
    for i in order:
        n, r = named[i]
        s = r.job.snapshot()
        extra = [e.score for e in s.epoch_extras if e is not None]
        rows.append(
            {
                "run": n,
                "cell": r.spec.model.cell,
                "params": r.params,
                "epochs": s.epoch,
                "s/epoch": round(s.train_seconds / s.epoch, 2) if s.epoch else None,
                best_column(by): round(values[i], 4) if values[i] is not None else None,
                f"best {view.extra_label(r)}": round(max(extra), 4) if extra else None,
                "test (whole set)": r.test_figure(),
                "state": s.state,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if by:
        st.caption(f"Best first by {compare_label(by)}.")

if current is not None:
    show_code(*VIEWS[current.spec.task].code())
