"""AppTest: form values survive other pages and other tasks; the task and its run come back.

No shared data: MNIST reads a tiny file written here. The Chromium versions of these checks
are in test_browser_forms.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.links import from_query
from tests.tiny_data import write_mnist
from tests.waiting import wait_until

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tx_source"] = "python-docs"  # the Text page: no download
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, page: str) -> None:
    at.switch_page(page).run()
    assert not at.exception, at.exception


def _form_link(at: AppTest) -> dict[str, str]:
    """The form's part of the address bar (the tab's private key is not part of a link)."""
    return {k: v for k, v in at.query_params.items() if k != "tab"}


def _away_and_back(at: AppTest, page: str) -> None:
    _go(at, "pages/home.py")
    _go(at, page)


def test_train_values_survive_another_page_and_another_task() -> None:
    at = _app()
    _go(at, "pages/train.py")
    at.number_input(key="addition.units").set_value(77).run()
    at.number_input(key="addition.epochs").set_value(4).run()
    at.number_input(key="addition.train_size").set_value(5_000).run()
    at.selectbox(key="addition.cell").set_value("GRU").run()
    _away_and_back(at, "pages/train.py")
    assert at.selectbox(key="task").value == "addition"
    assert at.number_input(key="addition.units").value == 77
    assert at.number_input(key="addition.epochs").value == 4
    assert at.number_input(key="addition.train_size").value == 5_000
    assert at.selectbox(key="addition.cell").value == "GRU"
    at.selectbox(key="task").set_value("imdb").run()  # imdb starts from its own defaults
    assert at.number_input(key="imdb.units").value != 77
    at.number_input(key="imdb.units").set_value(24).run()
    _away_and_back(at, "pages/train.py")
    assert at.selectbox(key="task").value == "imdb"  # the task last used
    assert at.number_input(key="imdb.units").value == 24
    at.selectbox(key="task").set_value("addition").run()
    assert at.number_input(key="addition.units").value == 77  # addition kept its own


def test_the_address_bar_follows_the_form_before_start() -> None:
    at = _app()
    _go(at, "pages/train.py")
    at.number_input(key="addition.units").set_value(66).run()
    spec = from_query(_form_link(at))
    assert spec.task == "addition" and spec.model.units == 66
    at.selectbox(key="task").set_value("imdb").run()
    assert from_query(_form_link(at)).task == "imdb"


def test_text_values_survive_another_page() -> None:
    at = _app()
    _go(at, "pages/text.py")
    at.number_input(key="tx_units").set_value(96).run()
    at.selectbox(key="tx_cell").set_value("SimpleRNN").run()
    at.checkbox(key="tx_every_position").uncheck().run()
    at.selectbox(key="tx_max_chars").set_value(20_000).run()
    assert from_query(_form_link(at)).model.units == 96  # the address bar follows
    _away_and_back(at, "pages/text.py")
    assert at.number_input(key="tx_units").value == 96
    assert at.selectbox(key="tx_cell").value == "SimpleRNN"
    assert at.checkbox(key="tx_every_position").value is False
    assert at.selectbox(key="tx_max_chars").value == 20_000
    assert at.radio(key="tx_source").value == "python-docs"


def test_stepper_controls_survive_another_page() -> None:
    at = _app()
    _go(at, "pages/stepper.py")
    at.selectbox(key="stp_cell").set_value("GRU").run()
    at.number_input(key="stp_timesteps").set_value(50).run()
    at.number_input(key="stp_seed").set_value(7).run()
    at.slider(key="stp_t").set_value(12).run()
    _away_and_back(at, "pages/stepper.py")
    assert at.selectbox(key="stp_cell").value == "GRU"
    assert at.number_input(key="stp_timesteps").value == 50
    assert at.number_input(key="stp_seed").value == 7
    assert at.slider(key="stp_t").value == 12


def test_a_running_mnist_run_and_its_task_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNN_LAB_DATA_DIR", str(write_mnist(tmp_path)))
    monkeypatch.setenv("RNN_LAB_TRAIN_IN_THREAD", "1")
    at = _app()
    _go(at, "pages/train.py")
    at.selectbox(key="task").set_value("mnist").run()
    at.number_input(key="mnist.units").set_value(4).run()
    at.number_input(key="mnist.epochs").set_value(200).run()  # still running on return
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    record = at.session_state["current"]
    assert record.job.snapshot().active
    _away_and_back(at, "pages/train.py")
    assert at.selectbox(key="task").value == "mnist"  # not back on Addition
    assert any(h.value.startswith("Run: ") for h in at.subheader)  # the running run is shown
    # its control is back: Stop, or Leave the queue while an earlier test's run holds the slot
    assert any(b.label in ("■ Stop", "■ Leave the queue") for b in at.button)
    record.job.stop()
    wait_until(lambda: not record.job.snapshot().active, 60, 0.2, "the run to stop")
