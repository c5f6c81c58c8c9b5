"""Export a run from a page: model file, history CSV, config JSON and plain Keras code."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st


def export_buttons(record: Any) -> None:
    """Downloads for a finished run: model (.keras), history (CSV), config (JSON), Keras code."""
    from rnn_core import export
    from rnn_core.run_file import keras_export

    snap = record.job.snapshot()
    if snap.active or not snap.epoch:
        return
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", record.name.replace("×", "x")).strip("_")
    stem = f"{record.spec.task}_{name}"
    with st.expander("Export this run: model, history, config, plain Keras code"):
        cols = st.columns(4)
        model = record.job.model
        if model is not None:
            cols[0].download_button(
                "Model (.keras)",
                data=lambda: keras_export(record),  # with its config and history inside
                file_name=f"{stem}.keras",
                on_click="ignore",
            )
        else:
            cols[0].caption("Model released to save memory (only the newest runs keep theirs).")
        data = record.data
        companion = None if model is None or data is None else record.task.companion(data)
        if companion is not None:  # text: the alphabet `generate` reads beside the model
            _companion(cols[0], companion, stem)
        cols[1].download_button(
            "History (.csv)",
            export.history_csv(record.job.history()),
            file_name=f"{stem}_history.csv",
            on_click="ignore",
        )
        cols[2].download_button(
            "Config (.json)",
            export.config_json(record.spec),
            file_name=f"{stem}_config.json",
            on_click="ignore",
        )
        try:
            code = export.keras_code(record.spec, record.name)
        except ValueError:
            code = None
        if code is not None:
            cols[3].download_button(
                "As Keras code (.py)", code, file_name=f"{stem}.py", on_click="ignore"
            )
            st.code(code, language="python")


def _companion(col: Any, companion: tuple[str, str], stem: str) -> None:
    """The file a task keeps beside its model (text: the alphabet ``generate`` reads)."""
    suffix, text = companion
    col.download_button(
        f"Alphabet (.keras{suffix})", text, file_name=f"{stem}.keras{suffix}", on_click="ignore",
    )  # fmt: skip
    col.caption(
        f"Keep both files in one folder, then `python -m rnn_core generate --model {stem}.keras "
        '--seed "the will to power "`.'
    )
