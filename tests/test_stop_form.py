"""The "stop when validation … reaches …" controls: a run stops on them and the page says why;
the values survive another page and travel in share links (Train and Text forms)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import RunSpec, TextConfig, TrainConfig
from rnn_core.links import from_query, to_query

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120


def _page(page: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _wait_done(at: AppTest, seconds: float = 180) -> object:
    deadline = time.time() + seconds
    while time.time() < deadline:
        snap = at.session_state["current"].job.snapshot()
        if not snap.active:
            return snap
        time.sleep(0.5)
    raise AssertionError("the run did not finish in time")


@pytest.mark.slow  # long
def test_a_train_run_stops_on_the_condition_and_the_page_says_why() -> None:
    at = _page("pages/train.py")
    for key, value in {
        "digits": 2, "units": 16, "train_size": 600, "epochs": 4, "batch_size": 64,
    }.items():  # fmt: skip
        at.session_state[f"addition.{key}"] = value
    at.run()
    picker = at.selectbox(key="addition.until_metric")
    assert picker.options == ["(off)", "val_loss", "val_accuracy", "val_exact_match"]
    assert picker.value == "(off)"  # off by default
    picker.set_value("val_exact_match").run()
    assert at.session_state["addition.until_value"] == 0.99  # the usual threshold, suggested
    at.number_input(key="addition.until_value").set_value(0.0).run()  # met after one epoch
    assert at.query_params["t.until"] == "val_exact_match>=0"  # the link follows the form
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    record = at.session_state["current"]
    assert record.spec.train.until == "val_exact_match>=0"
    snap = _wait_done(at)
    assert snap.state == "done" and snap.epoch == 1 and not snap.stopped_early, snap.error
    reached = snap.epoch_logs[-1]["val_exact_match"]
    assert snap.stop_reason == f"stopped at epoch 1: val_exact_match {reached:.3f} ≥ 0"
    at.run()
    assert not at.exception, at.exception
    said = [s.value for s in at.success]
    assert f"Training {snap.stop_reason}." in said
    at.switch_page("pages/home.py").run()  # the choice survives another page
    at.switch_page("pages/train.py").run()
    assert at.selectbox(key="addition.until_metric").value == "val_exact_match"
    assert at.number_input(key="addition.until_value").value == 0.0


def test_a_link_fills_the_stop_controls_and_off_leaves_the_link() -> None:
    spec = RunSpec(task="addition", train=TrainConfig(until="val_exact_match>=0.99", patience=3))
    query = to_query(spec)
    assert from_query(query) == spec  # the link carries both
    at = _page("pages/train.py", query)
    assert at.selectbox(key="addition.until_metric").value == "val_exact_match"
    assert at.number_input(key="addition.until_value").value == 0.99
    assert at.number_input(key="addition.patience").value == 3
    at.selectbox(key="addition.until_metric").set_value("(off)").run()
    assert "t.until" not in at.query_params  # off: the link no longer carries a condition


def test_the_text_form_has_the_stop_controls_and_keeps_them() -> None:
    spec = RunSpec(
        task="text", data=TextConfig(corpus="python-docs"),
        train=TrainConfig(until="val_bits_per_char<=2.1", patience=2),
    )  # fmt: skip
    at = _page("pages/text.py", to_query(spec))
    picker = at.selectbox(key="tx_until_metric")
    assert set(picker.options) == {"(off)", "val_loss", "val_accuracy", "val_bits_per_char"}
    assert picker.value == "val_bits_per_char"
    assert at.number_input(key="tx_until_value").value == 2.1
    assert at.number_input(key="tx_patience").value == 2
    assert at.query_params["t.until"] == "val_bits_per_char<=2.1"
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/text.py").run()
    assert at.selectbox(key="tx_until_metric").value == "val_bits_per_char"
