"""Train page, addition task: validation questions after each epoch, the test questions once at
the end, and "ask your own sum"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st

from pages.common import score_test_set
from rnn_core.tasks.addition import AdditionTask, example_sum

METRIC_LABEL = "val accuracy (per char)"  # the live panel's metric tile
EXTRA_HELP = (
    "**train loss**: cross-entropy per answer character on the training batches (lower is "
    "better). **val accuracy (per char)**: share of answer characters right on the held-out "
    "validation questions. **val exact match**: share of those validation questions whose "
    "whole answer is right (what a stop condition watches). The test questions are never "
    "looked at during training: they are scored once, after it ends."
)


def extra_label(record: Any) -> str:
    """Label of the extra number beside the curves: validation exact match (older pretrained
    files recorded it on the test questions, and say so)."""
    reports = [r for r in record.job.snapshot().epoch_extras if r is not None]
    split = reports[-1].split if reports else "validation"
    return "val exact match" if split == "validation" else "test exact match (recorded)"


def evaluate(record: Any) -> None:
    """Once training has stopped: every test question answered by these weights, once."""
    score_test_set(record, "questions")
    if record.scored():
        test = record.results
        st.markdown(
            f"**Exact match on all {test.questions:,} test questions**, scored on this machine "
            f"after epoch {record.results_epoch}: **{test.exact_match:.3f}** (per character "
            f"{test.accuracy:.3f})."
        )


def after_epoch(record: Any) -> Callable[[Any], None]:
    """Under the curves, after each epoch: ten validation questions with the model's guesses."""

    def table(snap: Any) -> None:
        report = snap.epoch_extras[-1] if snap.epoch_extras else None
        if report is not None:
            st.markdown(
                f"**Ten {report.split} questions after epoch {snap.epoch}** (held out from "
                "training; the test questions are scored once, when training ends)"
            )
            rows = pd.DataFrame([asdict(row) for row in report.table])
            rows["ok"] = rows["ok"].map({True: "☑", False: "☒"})
            st.dataframe(rows, hide_index=True, width="content")

    return table


def results(record: Any, active: bool) -> None:
    """Below the live panel: ask the model your own sum."""
    task = AdditionTask()
    with st.form("ask"):
        digits = record.spec.data.digits
        q = st.text_input(
            "Ask your own sum",
            placeholder=f"e.g. {example_sum(digits)} (numbers of up to {digits} digit(s))",
        )
        if st.form_submit_button("Ask the model") and q:
            try:
                ans = task.answer(record.job.model, q, record.spec.data)
                mark = "☑ right" if ans.ok else f"☒ wrong (true answer {ans.true})"
                st.success(f"{ans.question} = **{ans.guess or '(blank)'}**  {mark}")
            except ValueError as exc:
                st.warning(str(exc))


def code() -> tuple[Callable[..., Any], ...]:
    """The rnn_core functions shown in "Show the code"."""
    from rnn_core.engine.job import TrainingJob
    from rnn_core.models import build_seq2seq

    return build_seq2seq, TrainingJob._run
