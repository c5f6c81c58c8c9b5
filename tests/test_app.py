"""Streamlit AppTest: the router, Home, and a tiny addition run on the Train page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.waiting import wait_until

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds; AppTest's default is 3 s


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def test_home_explains_and_shows_the_four_shapes(app: AppTest) -> None:
    text = " ".join(m.value for m in app.markdown)
    assert "RNN Lab" in app.title[0].value
    for shape in ("One to one", "One to many", "Many to one", "Many to many"):
        assert shape in text
    assert "Addition" in text  # each shape is tied to a task of the app


def test_text_generation_shape_is_worded_the_same_on_home_and_the_text_page(app: AppTest) -> None:
    """Training predicts after every character (many-to-many), generation writes from a seed
    (one-to-many): both pages say both, in the same words."""
    from rnn_core.tasks.text import TEXT_SHAPE

    assert "many-to-many" in TEXT_SHAPE and "one-to-many" in TEXT_SHAPE
    home = " ".join(m.value for m in app.markdown)
    app.session_state["tx_source"] = "python-docs"  # the Text page: no download
    app.switch_page("pages/text.py").run()
    assert not app.exception, app.exception
    text_page = " ".join(c.value for c in app.caption)
    assert TEXT_SHAPE in home and TEXT_SHAPE in text_page


def test_home_renders_without_importing_tensorflow() -> None:
    # after the page the server sets TensorFlow up in a background thread (prepare_training,
    # tests/test_live_panel.py); here it is switched off to see what the page itself imports
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import pages.common\n"
        "pages.common.prepare_training = lambda: None\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(APP)!r}, default_timeout=60)\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False False"


def _wait_done(at: AppTest, seconds: float = 90) -> object:
    job = at.session_state["current"].job
    wait_until(lambda: not job.snapshot().active, seconds, 0.1, "the run to finish")
    return job.snapshot()


def _set_tiny(at: AppTest) -> None:
    for key, value in {
        "digits": 2, "units": 16, "train_size": 600, "epochs": 2, "batch_size": 64,
    }.items():  # fmt: skip
        at.session_state[f"addition.{key}"] = value  # the addition task's form


def test_train_page_tiny_run_goes_to_done_and_answers_own_sums(app: AppTest) -> None:
    """A tiny run to done, then Ask your own sum on it, its bad input explained (one training
    for both: a model's first fit costs seconds of tracing)."""
    app.switch_page("pages/train.py").run()
    assert not app.exception
    assert "current" not in app.session_state
    _set_tiny(app)
    start = next(b for b in app.button if "Start training" in b.label)
    start.click().run()
    assert not app.exception
    snap = _wait_done(app)
    assert snap.state == "done" and snap.epoch == 2
    app.run()  # the page redraws from the finished snapshot
    assert not app.exception
    labels = {m.label: m.value for m in app.metric}
    assert labels["epochs done"] == "2"
    assert 0.0 <= float(labels["val exact match"]) <= 1.0
    assert any("Train more" in b.label for b in app.button)
    (more,) = [n for n in app.number_input if n.label == "Epochs to add"]  # a labelled box
    assert more.proto.label_visibility.value == more.proto.label_visibility.VISIBLE
    record = app.session_state["current"]
    assert record.spec.data.digits == 2 and record.spec.model.units == 16
    assert len(app.session_state["runs"]) == 1

    # Ask your own sum: answers, and a bad sum is explained with examples that work
    box = next(t for t in app.text_input if t.label == "Ask your own sum")
    example = re.search(r"e\.g\. (\d+\+\d+)", box.proto.placeholder).group(1)
    assert max(len(n) for n in example.split("+")) == 2  # a 2-digit model: a 2-digit example
    box.input("12+7")
    next(b for b in app.button if b.label == "Ask the model").click().run()
    assert any("12+7 =" in s.value for s in app.success)
    box = next(t for t in app.text_input if t.label == "Ask your own sum")
    box.input("12 plus 7")
    next(b for b in app.button if b.label == "Ask the model").click().run()
    warning = next(w.value for w in app.warning if "Type a sum like" in w.value)
    for asked in (example, re.search(r"like (\d+\+\d+)", warning).group(1)):  # both accepted
        box = next(t for t in app.text_input if t.label == "Ask your own sum")
        box.input(asked)
        next(b for b in app.button if b.label == "Ask the model").click().run()
        assert any(f"{asked} =" in s.value for s in app.success), asked
    assert not app.exception
