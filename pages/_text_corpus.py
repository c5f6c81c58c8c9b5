"""Text page, corpus: Nietzsche, the Python docs that ship with Python, or an upload."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from pages._form import Form
from pages.common import show_missing_data
from rnn_core.charts import text as text_charts
from rnn_core.data.corpus import MAX_BYTES, MAX_DISTINCT, MIN_CHARS, CorpusError, corpus_from_bytes
from rnn_core.data.corpus import load_corpus as core_load_corpus
from rnn_core.data.loaders import ENV_VAR, DataMissingError, data_status
from rnn_core.engine.budgets import hosted

SOURCES = {
    "nietzsche": "Nietzsche, *Beyond Good and Evil* (the Keras example; 600 k characters)",
    "python-docs": "Python language reference (ships with Python: works offline; 465 k)",
    "upload": "Your own .txt file",
}
FORM, PAGE = Form("tx_"), Form("")  # the Text page's values; the shared data directory


@st.cache_data(max_entries=6, show_spinner="Loading the corpus…")
def load_corpus(source: str, lowercase: bool, data_dir: str | None) -> Any:
    """A built-in corpus, shared by reruns and sessions (each caller gets its own copy)."""
    return core_load_corpus(source, lowercase, data_dir)


def uploaded_corpus(lowercase: bool) -> Any:
    """The uploaded file as a corpus, or None; a refused file is said and leaves the uploader.

    Every check is ours (no ``type`` filter in the browser), so a refused file never stays in
    the uploader as an error chip beside the good one: the uploader is reset (a new key) and
    the last good file stays in use, named under it (replacing a file empties the uploader
    for a moment, so an empty uploader keeps it too; another corpus choice leaves it).
    """
    resets = st.session_state.get("tx_upload_resets", 0)
    upload = st.file_uploader(
        f"A plain-text file: UTF-8, at most {MAX_BYTES // 2**20} MB, at least {MIN_CHARS:,} "
        f"characters, at most {MAX_DISTINCT} distinct characters",
        key=f"tx_upload_{resets}",
        max_upload_size=MAX_BYTES // 2**20,  # the server allows session files up to 50 MB
    )
    if upload is not None and st.session_state.get("tx_upload_good", ("",))[0] != upload.file_id:
        data = upload.getvalue()
        try:
            corpus_from_bytes(upload.name, data, lowercase)
        except CorpusError as exc:
            st.session_state.tx_upload_refused = str(exc)
            st.session_state.tx_upload_resets = resets + 1  # an empty uploader on the rerun
            st.rerun()
        st.session_state.tx_upload_good = (upload.file_id, upload.name, data)
        st.session_state.pop("tx_upload_refused", None)
    refused = st.session_state.get("tx_upload_refused")
    if refused:
        st.error(f"**This file cannot be used.** {refused}", icon=":material/block:")
        if st.session_state.get("tx_current") is not None:
            st.caption("Nothing was changed: your current model stays below, untouched.")
    good = st.session_state.get("tx_upload_good")
    if good is None:
        return None
    file_id, name, data = good
    key = (file_id, lowercase)
    cached = st.session_state.get("tx_upload_corpus")
    if cached is None or cached[0] != key:
        cached = (key, corpus_from_bytes(name, data, lowercase))
        st.session_state.tx_upload_corpus = cached
    if upload is None:
        st.caption(f"In use: **{name}**, your last accepted file. Upload another to replace it.")
    return cached[1]


def nietzsche_corpus(lowercase: bool) -> Any:
    """Nietzsche from the data directory, Keras's cache or the Keras example's URL."""
    PAGE.start({"data_dir": os.environ.get(ENV_VAR, "")})
    if not hosted():  # a hosted server reads only the host's data directory
        PAGE(
            st.text_input,
            "Data directory",
            "data_dir",
            placeholder="(none: Keras's cache, then download)",
            help=f"Folder holding nietzsche.txt; default ${ENV_VAR}. Offline? Pick the Python "
            "language reference instead: it ships with Python.",
        )
    data_dir = PAGE.get("data_dir") or None
    if not data_status(data_dir)["nietzsche.txt"]:
        st.caption("nietzsche.txt is not on this machine: it is downloaded (600 kB) on first use.")
    try:
        return load_corpus("nietzsche", lowercase, data_dir)
    except DataMissingError as exc:
        show_missing_data(exc)
        st.info("Without internet, choose *Python language reference*: it needs no download.")
        return None


def choose_corpus() -> Any:
    """Corpus picker, lowercase and size options; the chosen corpus or None (reason shown)."""
    a, b = st.columns([3, 1])
    source = FORM(a.radio, "Corpus", "source", list(SOURCES), format_func=SOURCES.get)
    lowercase = FORM(
        b.checkbox, "Lowercase", "lowercase",
        help="A smaller alphabet (no capitals) learns faster; the Keras example lowercases.",
    )  # fmt: skip
    FORM(
        b.selectbox, "Use", "max_chars", [0, 200_000, 50_000, 20_000],
        format_func=lambda n: f"first {n:,} characters" if n else "the whole text",
        help="A shorter text makes an epoch quicker, but the model sees fewer words.",
    )  # fmt: skip
    if source == "upload":
        with a:
            return uploaded_corpus(lowercase)
    if source == "nietzsche":
        with a:
            return nietzsche_corpus(lowercase)
    try:
        return load_corpus(source, lowercase, None)
    except CorpusError as exc:
        st.error(str(exc))
        return None


def corpus_summary(corpus: Any) -> None:
    """One line of statistics and a peek at the text."""
    text = corpus.text
    alphabet = sorted(set(text))
    shown = "".join(text_charts.char_label(c)[0] for c in alphabet)
    st.caption(
        f"**{corpus.source}** — {len(text):,} characters, {len(alphabet)} distinct: `{shown}`"
    )
    with st.expander("Peek at the text"):
        start = len(text) // 3
        st.text(text[start : start + 600])
