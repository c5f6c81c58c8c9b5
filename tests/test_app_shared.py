"""Streamlit AppTest: two students start the same run on the Train page; Stop detaches one."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.waiting import wait_until

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds; AppTest's default is 3 s
EPOCHS = 150  # of a tiny run: still training while both students look at it


def _student() -> AppTest:
    """A session on the Train page with a tiny addition setup in its form."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/train.py").run()
    for key, value in {
        "digits": 2, "units": 8, "train_size": 400, "epochs": EPOCHS, "batch_size": 64,
    }.items():  # fmt: skip
        at.session_state[f"addition.{key}"] = value  # the addition task's form
    return at


def _infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


@pytest.mark.slow  # long: two sessions, trainings
def test_the_same_run_started_twice_trains_once_and_stop_detaches_one_student() -> None:
    a, b = _student(), _student()
    next(x for x in a.button if "Start training" in x.label).click().run()
    next(x for x in b.button if "Start training" in x.label).click().run()
    assert not a.exception and not b.exception
    run_a, run_b = a.session_state["current"], b.session_state["current"]
    assert run_a.job.entry is run_b.job.entry  # one training for both
    wait_until(lambda: run_b.job.snapshot().batch_logs, 60, what="the shared run trains")
    a.run()  # drawn while it trains (not while it still waits for a slot: "Leave the queue")
    assert "Shared with 1 student:" in _infos(a)
    next(x for x in a.button if x.label == "■ Stop").click().run()  # a leaves
    assert not a.exception
    assert "You left the shared run after" in _infos(a)
    assert any("Train more" in x.label for x in a.button)  # a's own copy can train on
    seen = len(run_b.job.snapshot().batch_logs)
    wait_until(lambda: len(run_b.job.snapshot().batch_logs) > seen, 60, what="b's run goes on")
    assert run_b.job.snapshot().state == "running"
    b.run()
    assert "Shared with" not in _infos(b)  # nobody else watches it any more
    next(x for x in b.button if x.label == "■ Stop").click().run()  # the last watcher
    end = run_b.job.wait(60)
    assert end.state == "done" and end.stopped_early and end.epoch < EPOCHS


def _text_student() -> AppTest:
    """A session on the Text page with a tiny setup on the Python docs (no download)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tx_source"] = "python-docs"
    at.run()
    at.switch_page("pages/text.py").run()
    for key, value in {
        "tx_max_chars": 20_000, "tx_units": 16, "tx_maxlen": 20, "tx_step": 10,
        "tx_epochs": 1, "tx_sample_length": 40, "tx_temperatures": [0.0, 1.0],
    }.items():  # fmt: skip
        at.session_state[key] = value
    return at


@pytest.mark.slow  # long: two sessions, trainings
def test_a_text_run_identical_to_a_finished_one_is_shown_at_once_as_trained_earlier() -> None:
    a = _text_student()
    next(x for x in a.button if "Start training" in x.label).click().run()
    run_a = a.session_state["tx_current"]
    assert run_a.job.wait(120).state == "done"
    b = _text_student()
    next(x for x in b.button if "Start training" in x.label).click().run()
    assert not b.exception, b.exception
    run_b = b.session_state["tx_current"]
    snap = run_b.job.snapshot()
    assert snap.state == "done" and snap.reused  # nothing trained again
    assert snap.epoch_logs == run_a.job.snapshot().epoch_logs
    b.run()
    assert not b.exception, b.exception
    assert "Trained earlier on this server for an identical run" in _infos(b)
    assert run_b.job.model is not run_a.job.model  # b's own copy generates text
