"""Every workaround for Streamlit internals, in one place; nothing else imports private Streamlit.

Checked against Streamlit 1.67. Each workaround says when it can go; past the checked version
they still apply while the internals they touch exist, and log a line asking for a re-check.
"""

from __future__ import annotations

import logging

import streamlit as st

CHECKED = (1, 67)  # the newest Streamlit these workarounds were checked against
_LOG = logging.getLogger("rnn_lab.compat")


def _newer_than_checked() -> bool:
    """True when the installed Streamlit is newer than the one checked here."""
    major, minor = (int(p) for p in st.__version__.split(".")[:2])
    return (major, minor) > CHECKED


def route_first_deep_link() -> None:
    """Send a fresh server's first deep link (e.g. ``/train``) through app.py's router.

    Until some session has called ``st.navigation``, Streamlit treats a ``pages/`` folder next
    to the main script as a legacy multipage app and runs ``pages/train.py`` alone, without
    app.py (no router, no sidebar chrome). Every page imports the ``pages`` package, whose
    ``__init__`` calls this once per process: it switches the legacy mode off for every later
    run and has the run that fell into it rerun, through app.py.

    Can go when Streamlit no longer falls back to ``pages/`` before ``st.navigation`` runs
    (``PagesManager.uses_pages_directory`` gone): delete this function and its call in
    ``pages/__init__.py``; ``test_a_fresh_servers_first_request_to_train_goes_through_the_router``
    checks it.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False) is False:
        return  # app.py's st.navigation ran already, or Streamlit has no legacy mode
    if _newer_than_checked():
        _LOG.warning("Streamlit %s: check whether pages/_compat.py is still needed", st.__version__)
    PagesManager.uses_pages_directory = False
    from streamlit.runtime.scriptrunner import RerunData, get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and ctx.script_requests is not None:
        # This run started in legacy mode: ask for a rerun (through app.py) without raising
        # here. ``st.rerun()`` would raise inside this import, and an import that fails made
        # another session importing ``pages`` at the same moment fail too. The request is
        # acted on at the page's next Streamlit call, outside any import.
        rerun = RerunData(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash)
        ctx.script_requests.request_rerun(rerun)


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Streamlit's script runner clears Keras's global state when a run ends. That call is
    process-wide: with live training in worker threads it throws away every session's
    compiled kernels at each fragment refresh, and a tiny run took 24-86 s instead of 3 s.
    RNN Lab never relies on that cleanup: each model is built with its own seeds and names.
    Called by app.py. Can go when Streamlit stops clearing Keras after each run
    (``script_runner._clean_problem_modules`` gone).
    """
    from streamlit.runtime.scriptrunner import script_runner

    clean = getattr(script_runner, "_clean_problem_modules", None)
    if clean is None or getattr(clean, "__name__", "") == "_no_cleanup":
        return
    if _newer_than_checked():
        _LOG.warning("Streamlit %s: check whether pages/_compat.py is still needed", st.__version__)

    def _no_cleanup() -> None:
        """Keep Keras's process-wide state; matplotlib is not used."""

    script_runner._clean_problem_modules = _no_cleanup
