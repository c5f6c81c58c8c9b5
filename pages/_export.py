"""Export a run from a page: model file, history CSV, config JSON and plain Keras code."""

from __future__ import annotations

from typing import Any

import streamlit as st


def export_buttons(record: Any) -> None:
    """Downloads for a finished run: model (.keras), history (CSV), config (JSON), Keras code."""
    from rnn_core import export

    snap = record.job.snapshot()
    if snap.active or not snap.epoch:
        return
    stem = f"{record.spec.task}_{record.name.replace(' ', '_').replace('×', 'x')}"
    with st.expander("Export this run: model, history, config, plain Keras code"):
        cols = st.columns(4)
        model = record.job.model
        if model is not None:
            cols[0].download_button(
                "Model (.keras)",
                data=lambda: export.model_bytes(model),
                file_name=f"{stem}.keras",
                on_click="ignore",
            )
        else:
            cols[0].caption("Model released to save memory (only the newest runs keep theirs).")
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
