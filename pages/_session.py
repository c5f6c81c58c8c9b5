"""Students keep their work: save the session to one file, open it again, import a model.

The sidebar (every page) has "Save this session" (a zip of every run: configuration,
history, results, weights; ``rnn_core.session_file``) and "Open a session file". The Stepper
and Text pages import one model exported by RNN Lab (``rnn_core.run_file``). Restored runs go
through the run flow like a pretrained model and join the session's runs; a refused file is
said in one line and changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from pages import _snapshots, _train_form
from pages.common import add_run, cached_data, load_training, runs
from rnn_core.run_file import (
    MAX_KERAS_BYTES,
    RunFileError,
    read_keras_export,
    restore_run,
    why_not_saved,
)
from rnn_core.session_file import MAX_BYTES, SUFFIX, SessionFileError, read_session, write_session
from rnn_core.tasks import get_task

OPEN_HELP = (
    "A file saved with *Save this session* (here or on another computer): its runs join this "
    "session with their curves, results and weights, ready for Train more, the stepper and "
    "text generation. Nothing of this session is lost, even when a file is refused."
)


def restore(restored: Any, what: str = "this restored run") -> Any:
    """A checked run file as a session Run, its data read on this machine when it is here."""
    snap = restored.snapshot
    spec = _snapshots.for_this_host(snap)
    task = snap.spec.task
    if not _train_form.on_train_page(task):  # a text run: its corpus
        loader = _snapshots.corpus_loader(snap)
    elif _snapshots.missing_files(task):
        loader = lambda task, cfg: None  # noqa: E731 - no surprise download on a click
    else:
        loader = cached_data
    run = restore_run(restored, loader, spec=spec)
    if run.data is None and not _train_form.on_train_page(task):
        _snapshots.generation_only(run, snap, spec.data, what)
    elif run.data is None:
        files = ", ".join(f"`{f}`" for f in get_task(task).files)
        run.note = (
            f"{files} not on this machine: {what} predicts, but its test results are the "
            "ones recorded in the file and training it more needs the data (`python -m "
            "rnn_core fetch --data-dir DIR`, then set the data directory)."
        )
    return run


def _take(restored_runs: list[Any], what: str = "this restored run") -> list[Any]:
    """Restore every run first (a failure adds none), then add them to the session."""
    made = [restore(r, what) for r in restored_runs]
    for run in made:
        add_run(run)
    for run in made:  # each page shows its newest restored run
        st.session_state[_train_form.current_key(run.spec.task)] = run
    trained = [r for r in made if _train_form.on_train_page(r.spec.task)]
    if trained:  # the Train page opens on that run's task, its setup in the form
        _train_form.PAGE.fill({"task": trained[-1].spec.task})
        _train_form.put_spec_in_widgets(trained[-1].spec)
    return made


def _refuse(prefix: str, name: str, reason: str) -> None:
    """Keep the one-line refusal for the next run and empty the uploader (a new key)."""
    st.session_state[f"{prefix}_message"] = ("error", f"**{name}** was not opened: {reason}.")
    st.session_state[f"{prefix}_resets"] = st.session_state.get(f"{prefix}_resets", 0) + 1


def open_session(name: str, blob: bytes) -> None:
    """Check a session file and add its runs to this session (all or none)."""
    load_training()
    try:
        with st.spinner("Checking the session file…"):
            made = _take(read_session(blob))
    except (SessionFileError, RunFileError, ValueError) as exc:
        _refuse("sf", name, str(exc))
        return
    names = ", ".join(r.name for r in made) or "no runs"
    text = f"Opened **{name}**: {len(made)} run(s) added to this session ({names})."
    st.session_state.sf_message = ("success", text)
    st.session_state.sf_resets = st.session_state.get("sf_resets", 0) + 1


def _message(prefix: str, box: Any) -> None:
    """The last open or import's one line (error or success)."""
    found = st.session_state.get(f"{prefix}_message")
    if found is not None:
        kind, text = found
        (box.error if kind == "error" else box.success)(text)


def session_files() -> None:
    """Sidebar: "Save this session" (one zip of every run) and "Open a session file"."""
    box = st.sidebar
    box.markdown("**Your work**")
    store = runs()
    ready = [r for r in store if not why_not_saved(r)]
    if ready:
        box.download_button(
            "Save this session", data=lambda: write_session(ready),
            file_name=f"rnn-lab-session-{time.strftime('%Y%m%d-%H%M')}{SUFFIX}",
            mime="application/zip", on_click="ignore", icon=":material/download:",
            help="One file with every run: configuration, curves, results and trained weights.",
        )  # fmt: skip
    left = [f"{r.name} ({why_not_saved(r)})" for r in store if why_not_saved(r)]
    if ready or left:
        box.caption(
            (f"{len(ready)} run(s) in the file." if ready else "No run can be saved yet.")
            + (f" Not saved: {'; '.join(left)}." if left else "")
        )
    else:
        box.caption("No runs yet: train one, then save the session here.")
    resets = st.session_state.get("sf_resets", 0)
    upload = box.file_uploader(
        "Open a session file", type=["zip"], key=f"sf_upload_{resets}", help=OPEN_HELP,
        max_upload_size=MAX_BYTES // 2**20,
    )  # fmt: skip
    if upload is not None:
        open_session(upload.name, upload.getvalue())
        st.rerun()  # the uploader empties; every page shows the added runs
    _message("sf", box)


def import_model(page: str, accept: Any, label: str) -> None:
    """An "Import a model" box: a ``.keras`` exported by RNN Lab (plus a text model's alphabet).

    ``accept(task)`` returns "" when this page can use a model of that task, else why not.
    """
    prefix = f"{page}_import"
    with st.expander(label):
        resets = st.session_state.get(f"{prefix}_resets", 0)
        files = st.file_uploader(
            "Model file (.keras) and, for a text model, its alphabet (.keras.vocab.json)",
            type=["keras", "json"], accept_multiple_files=True, key=f"{prefix}_{resets}",
            max_upload_size=MAX_KERAS_BYTES // 2**20,
            help="The files of *Export this run* on the Train or Text page. The model is "
            "loaded with Keras's safe mode and checked against the configuration saved in it.",
        )  # fmt: skip
        if st.button("Import", key=f"{prefix}_go", disabled=not files):
            _import(prefix, list(files or []), accept)
            st.rerun()
        _message(prefix, st)


def _import(prefix: str, files: list[Any], accept: Any) -> None:
    """Check the uploaded files and add the model as a run of this session."""
    models = [f for f in files if f.name.endswith(".keras")]
    alphabets = [f for f in files if f.name.endswith(".json")]
    name = models[0].name if len(models) == 1 else "the upload"
    if len(models) != 1 or len(alphabets) > 1:
        _refuse(prefix, name, "choose one .keras file (and at most one alphabet .json)")
        return
    alphabet = None
    if alphabets:
        try:
            alphabet = alphabets[0].getvalue().decode("utf-8")
        except UnicodeDecodeError:
            _refuse(prefix, name, "the alphabet file is not UTF-8 text")
            return
    load_training()
    try:
        with st.spinner("Checking the model…"):
            restored = read_keras_export(models[0].getvalue(), alphabet, name)
            why = accept(restored.snapshot.spec.task)
            if why:
                raise RunFileError(why)
            made = _take([restored], "this imported model")
    except (RunFileError, ValueError) as exc:
        _refuse(prefix, name, str(exc))
        return
    text = f"Imported **{name}** as the run {made[0].name}."
    st.session_state[f"{prefix}_message"] = ("success", text)
    st.session_state[f"{prefix}_resets"] = st.session_state.get(f"{prefix}_resets", 0) + 1
