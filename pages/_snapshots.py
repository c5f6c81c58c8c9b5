"""Start from a pretrained model: the snapshots in assets/, read once, copied into a session."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from pages import _train_form
from pages._plot import chart, page_theme
from pages.common import add_run, cached_data, load_training
from rnn_core import pretrained as snapshots
from rnn_core.data.loaders import data_status
from rnn_core.tasks import get_task, run_name


@st.cache_resource(ttl=300, show_spinner=False)
def _listed(task: str) -> list[Any]:
    """The task's snapshots (their JSON only), re-read every few minutes."""
    return snapshots.list_snapshots(snapshots.ASSETS, task)


@st.cache_resource(max_entries=8, show_spinner=False)
def _weights(name: str, mtime: float) -> tuple[Any, ...]:
    """A snapshot's weights, read once per process: read-only arrays shared by every session."""
    return snapshots.load_weights(snapshots.read_snapshot(snapshots.ASSETS / f"{name}.json"))


def score_line(snap: Any) -> str:
    """The snapshot's headline score as recorded when saved; loading scores it again here."""
    label, value = snapshots.main_score(snap)
    saved = f" on {snap.saved}" if snap.saved else ""
    recorded = f"({snap.test_note})" if snap.test_note else f"as recorded when it was saved{saved}"
    shown = f"{value:.3f}" if math.isfinite(value) else "not recorded"
    return (
        f" — {label} {shown} {recorded}; loaded, it is scored again on this machine (where its "
        "data is here)."
    )


def offer(task: str) -> Any:
    """An expander offering the task's pretrained model; the snapshot when its button is hit."""
    found = _listed(task)
    if not found:
        return None
    snap = found[0]
    with st.expander("Start from a pretrained model (results at once, no training)"):
        st.caption(
            f"**{run_name(snap.spec)}**, {snap.params:,} parameters, trained {snap.epochs} "
            f"epochs ({snap.train_seconds:.0f} s) with `{snap.command}`"
            + score_line(snap)
            + " Loading gives this session its own copy: *Train more* continues the copy, the "
            "shipped model stays as it is."
        )
        if st.button("Load the pretrained model", key=f"pretrained_{task}", icon=":material/bolt:"):
            return snap
    return None


def missing_files(task: str) -> list[str]:
    """The task's dataset files not on this machine (the data directory or Keras's cache)."""
    status = data_status(st.session_state.get("data_dir") or None)
    return [f for f in get_task(task).files if not status[f]]


def load_run(snap: Any, spec: Any, load_data: Any, name: str = "") -> Any:
    """A Run (origin "pretrained") whose model is a copy of the snapshot, through the run flow.

    ``load_data(task, cfg)`` gives the run's data, or None for a run that cannot train.
    """
    load_training()
    from rnn_core.run import start_run

    mtime = (snapshots.ASSETS / f"{snap.name}.json").stat().st_mtime
    with st.spinner("Loading the pretrained model…"):
        weights = list(_weights(snap.name, mtime))
        return start_run(spec, None, load_data, name=name, pretrained=snap, weights=weights)


def for_this_host(snap: Any) -> Any:
    """The snapshot's spec reading data from this session's data directory."""
    from dataclasses import fields, replace

    spec = snap.spec
    if "data_dir" in {f.name for f in fields(spec.data)}:
        spec = replace(spec, data=replace(spec.data, data_dir=st.session_state.get("data_dir")))
    return spec


def train_page(task: str) -> None:
    """Train page: offer the task's snapshot; loaded, it becomes this session's current run."""
    snap = offer(task)
    if snap is None:
        return
    missing = missing_files(task)
    if missing:  # no surprise download: say what needs the files, show the recorded results
        from rnn_core.charts import training as charts

        st.warning(
            f"{', '.join(f'`{f}`' for f in missing)} not on this machine, so the pretrained "
            "model cannot be scored on the test set, try your own input or train more here. "
            "Its recorded curves are below. Fetch the data with `python -m rnn_core fetch "
            "--data-dir DIR` and set *Data directory* to use it.",
            icon=":material/folder_off:",
        )
        fig = charts.training_curves(
            snap.batch_logs, snap.epoch_logs, "accuracy", theme=page_theme()
        )  # fmt: skip
        chart(fig, "pretrained_curves", "pretrained-curves")
        return
    spec = for_this_host(snap)
    try:
        run = load_run(snap, spec, cached_data)
    except (snapshots.SnapshotError, ValueError) as exc:
        st.error(f"The pretrained model could not be loaded: {exc}")
        return
    add_run(run)
    st.session_state.current = run
    _train_form.put_spec_in_widgets(spec)  # the form and the link show the snapshot's setup
    _train_form.share_link(spec)
    st.rerun()


def text_page() -> None:
    """Text page: offer the character model; loaded, generation works at once.

    Training it more needs its corpus; when the corpus file is not on this machine the run
    still generates from the snapshot's alphabet (nothing is downloaded on a click).
    """
    snap = offer("text")
    if snap is None:
        return
    spec = for_this_host(snap)
    try:
        run = load_run(snap, spec, corpus_loader(snap))
    except (snapshots.SnapshotError, ValueError) as exc:
        st.error(f"The pretrained model could not be loaded: {exc}")
        return
    if run.data is not None:
        run.name = f"{run_name(spec)} · {spec.data.corpus} · pretrained"
        with st.spinner("Scoring the pretrained model on the test text…"):
            run.score()  # test bits/char of this copy, measured here now
    else:
        generation_only(run, snap, spec.data, "this pretrained model")
    add_run(run)
    st.session_state.tx_current = run
    st.rerun()


def corpus_loader(snap: Any) -> Any:
    """The run flow's loader for a text snapshot: its corpus cut into windows, or None when
    the corpus is not on this machine (nothing is downloaded on a click) or its alphabet
    differs from the snapshot's."""
    from pages._text_corpus import load_corpus

    def corpus_windows(task: Any, cfg: Any) -> Any:
        """The corpus cut into windows, or None when it is missing or its alphabet differs."""
        if cfg.corpus not in ("nietzsche", "python-docs"):
            return None  # an uploaded corpus is not kept with the model
        if cfg.corpus != "python-docs" and f"{cfg.corpus}.txt" in _missing_text(cfg):
            return None
        data = task.make_data(cfg, load_corpus(cfg.corpus, cfg.lowercase, cfg.data_dir or None))
        return data if data.vocab.chars == snap.vocab["chars"] else None

    return corpus_windows


def generation_only(run: Any, snap: Any, cfg: Any, what: str) -> None:
    """A text run without its corpus: the saved alphabet and the seed of its last report."""
    from types import SimpleNamespace

    seed = next((e.seed for e in reversed(snap.epoch_extras) if e is not None), "")
    run.data = SimpleNamespace(vocab=shape_vocab(snap), config=cfg, seed_text=seed)
    if cfg.corpus in ("nietzsche", "python-docs"):
        fix = "(`python -m rnn_core fetch --data-dir DIR`, then set the data directory)"
    else:  # an uploaded corpus is not kept with the model
        fix = "(its text file is not saved with the model)"
    run.note = (
        f"The {cfg.corpus} corpus is not on this machine: {what} generates from its saved "
        f"alphabet, but training it more needs the corpus {fix}."
    )


def _missing_text(cfg: Any) -> list[str]:
    """Dataset files the text config would need but this machine lacks."""
    status = data_status(st.session_state.get("data_dir") or None)
    return [f for f, here in status.items() if f.endswith(".txt") and not here]


def shape_vocab(snap: Any) -> Any:
    """The snapshot's alphabet."""
    from rnn_core.data.corpus import Vocabulary

    return Vocabulary.from_json(snap.vocab)
