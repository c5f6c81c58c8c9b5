"""AppTest: pick Forecast on the Train page, train a tiny sines run to done, see test vs naive."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 120  # TensorFlow's import alone takes seconds; AppTest's default is 3 s


def test_forecast_tiny_run_on_the_train_page_goes_to_done() -> None:
    pytest.importorskip("keras")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    at.selectbox(key="task").set_value("forecast").run()
    assert not at.exception
    assert at.selectbox(key="forecast.source").value == "sines"  # the forecast form's own controls
    assert at.number_input(key="forecast.window").value == 24
    for key, value in {
        "length": 500, "window": 10, "units": 8, "epochs": 2, "batch_size": 32,
    }.items():  # fmt: skip
        at.session_state[f"forecast.{key}"] = value
    start = next(b for b in at.button if "Start training" in b.label)
    start.click().run()
    assert not at.exception
    run = at.session_state["current"]
    assert run.spec.task == "forecast" and run.spec.data.window == 10
    snap = run.job.wait(150)  # bounded: the training thread or child's relay, joined
    assert snap.state == "done" and snap.epoch == 2
    at.run()  # redraw from the finished snapshot: test scored once, tiles and figure
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    data = run.data
    assert float(tiles["naive MAE (repeat the last value)"]) == pytest.approx(data.naive_val, 1e-3)
    assert float(tiles["naive MAE"]) == pytest.approx(data.naive_test, abs=1e-4)
    test = run.results
    assert float(tiles["test MAE"]) == pytest.approx(test.mae, abs=1e-4)
    assert test.predicted.shape == data.y_test.shape
    assert any("beat" in m.value for m in at.markdown)
