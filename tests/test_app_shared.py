"""Streamlit AppTest: two students start the same run on the Train page; Stop detaches one."""

from __future__ import annotations

from pathlib import Path

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


def test_the_same_run_started_twice_trains_once_and_stop_detaches_one_student() -> None:
    a, b = _student(), _student()
    next(x for x in a.button if "Start training" in x.label).click().run()
    next(x for x in b.button if "Start training" in x.label).click().run()
    assert not a.exception and not b.exception
    run_a, run_b = a.session_state["current"], b.session_state["current"]
    assert run_a.job.entry is run_b.job.entry  # one training for both
    a.run()
    assert "Shared with 1 student:" in _infos(a)
    wait_until(lambda: run_b.job.snapshot().batch_logs, 60, what="the shared run trains")
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
