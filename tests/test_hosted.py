"""Hosted mode: how a Community Cloud server is recognised, its class-safe budget, and no
free-text data-directory box for visitors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.engine.budgets import HOSTED, Budget, hosted

APP = Path(__file__).resolve().parents[1] / "app.py"
HERE = Path("/work/rnn-lab")  # a checkout that is not Community Cloud's


def test_hosted_by_variable_hostname_or_cloud_checkout() -> None:
    assert not hosted({}, HERE)
    assert hosted({"RNN_LAB_HOSTED": "1"}, HERE)
    assert hosted({"HOSTNAME": "streamlit"}, HERE)
    assert hosted({}, Path("/mount/src/rnn-lab"))  # where Community Cloud clones the app
    assert not hosted({"RNN_LAB_HOSTED": "0", "HOSTNAME": "streamlit"}, Path("/mount/src/x"))


def test_hosted_budget_is_class_safe_and_secrets_still_override_it() -> None:
    assert Budget.from_sources({}, {}, is_hosted=True) == HOSTED
    assert Budget.from_sources({}, {}, is_hosted=False) == Budget()
    for name in ("max_units", "max_train_size", "max_maxlen", "max_corpus_chars"):
        assert getattr(HOSTED, name) < getattr(Budget(), name)
    b = Budget.from_sources({"max_units": 64}, {"RNN_LAB_MAX_EPOCHS": "10"}, is_hosted=True)
    assert (b.max_units, b.max_epochs, b.max_layers) == (64, 10, HOSTED.max_layers)
    assert Budget.from_sources({}, {"RNN_LAB_HOSTED": "1"}) == HOSTED


@pytest.mark.parametrize("flag", ["1", "0"])
def test_hosted_train_page_has_no_data_directory_box(
    flag: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RNN_LAB_HOSTED", flag)
    monkeypatch.setenv("RNN_LAB_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="task").set_value("mnist").run()
    assert not at.exception, at.exception
    boxes = [t for t in at.text_input if t.label == "Data directory"]
    captions = "\n".join(c.value for c in at.caption)
    assert "mnist.npz" in captions  # the files' status is still shown
    if flag == "1":
        assert boxes == [] and str(tmp_path) not in captions
    else:
        assert len(boxes) == 1 and boxes[0].value == str(tmp_path)
