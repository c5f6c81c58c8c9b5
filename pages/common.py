"""Helpers shared by the pages: per-session run store, show-code expander, TF loading."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import streamlit as st

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
