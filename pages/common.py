"""Helpers shared by the pages: per-session run store, show-code expander, TF loading."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import streamlit as st

from rnn_core import charts

MAX_RUNS = 8  # runs kept per session; the oldest finished one is dropped beyond this


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Streamlit's script runner clears Keras's global state when a run ends. That call is
    process-wide: with live training in worker threads it throws away every session's
    compiled kernels at each fragment refresh, and a tiny run took 24-86 s instead of 3 s.
    RNN Lab never relies on that cleanup: each model is built with its own seeds and names.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if getattr(script_runner._clean_problem_modules, "__name__", "") != "_no_cleanup":

        def _no_cleanup() -> None:
            """Keep Keras's process-wide state; matplotlib is not used."""

        script_runner._clean_problem_modules = _no_cleanup


def show_code(*functions: Callable[..., Any], label: str = "Show the code this page runs") -> None:
    """An expander with the source of the ``rnn_core`` functions the page calls."""
    with st.expander(label):
        for fn in functions:
            st.caption(f"`{fn.__module__}.{fn.__qualname__}`")
            st.code(inspect.getsource(fn), language="python")


def runs() -> list[Any]:
    """This session's runs (RunRecord objects), oldest first."""
    return st.session_state.setdefault("runs", [])


def add_run(record: Any) -> None:
    """Keep a new run, dropping the oldest finished runs beyond MAX_RUNS."""
    store = runs()
    store.append(record)
    while len(store) > MAX_RUNS:
        idle = next((r for r in store if not r.job.snapshot().active), None)
        if idle is None:
            break
        store.remove(idle)


def load_training() -> Any:
    """Import the TensorFlow-backed engine, with a spinner the first time."""
    if "rnn_core.training" not in __import__("sys").modules:
        with st.spinner("Loading TensorFlow (first time only, a few seconds)…"):
            import rnn_core.training  # noqa: F401
    import rnn_core.training as training

    return training


def run_controls(record: Any) -> None:
    """Stop while training; "Train more" with an epoch count once it has ended."""
    job = record.job
    snap = job.snapshot()
    b1, b2, _ = st.columns([1, 1, 3])
    if snap.active:
        label = "■ Leave the queue" if snap.state == "queued" else "■ Stop"
        b1.button(label, on_click=job.stop, type="primary", help="Stops after this batch.")
    else:
        more = b2.number_input("More epochs", 1, 500, value=5, label_visibility="collapsed")
        if b1.button("⟳ Train more", help="Continue this model and its curves."):
            job.start(int(more))
            st.rerun()


def live_panel(
    record: Any,
    metric: str,
    metric_label: str,
    extra_key: str | None = None,
    extra_label: str = "",
    after_epoch: Callable[[Any], None] | None = None,
) -> None:
    """Controls, progress, metric tiles, curves and a task's after-epoch view of one run.

    The body is a fragment that refreshes itself while the job is active, so the rest of
    the page is not rerun; when training ends it reruns the page once to swap the buttons.
    """
    run_controls(record)
    active = record.job.snapshot().active

    @st.fragment(run_every=0.7 if active else None)
    def body() -> None:
        snap = record.job.snapshot()
        st.progress(snap.progress, text=charts.progress_text(snap))
        if snap.state == "failed":
            st.error(f"Training failed: {snap.error}")
        elif snap.state == "done" and snap.stopped_early:
            st.info(f"Stopped after {snap.epoch} epoch(s); the weights learned so far are kept.")
        last = snap.epoch_logs[-1] if snap.epoch_logs else {}
        extras = [e for e in snap.epoch_extras if e]
        cols = st.columns(4 if extra_key else 3)
        cols[0].metric("epochs done", snap.epoch)
        cols[1].metric("train loss", f"{last['loss']:.4f}" if last else "—")
        val = last.get(f"val_{metric}")
        cols[2].metric(metric_label, f"{val:.3f}" if val is not None else "—")
        series: list[tuple[float, float]] = []
        if extra_key:
            series = [(i + 1.0, e[extra_key]) for i, e in enumerate(snap.epoch_extras) if e]
            cols[3].metric(extra_label, f"{extras[-1][extra_key]:.3f}" if extras else "—")
        fig = charts.training_curves(snap.batch_logs, snap.epoch_logs, metric, series, extra_label)
        st.plotly_chart(fig, key=f"curves_{id(record)}", config={"displayModeBar": False})
        if after_epoch is not None:
            after_epoch(snap)
        if active and not snap.active:
            st.rerun(scope="app")  # training ended: refresh buttons and stop polling

    body()
