"""Shareable links on the Train page: a link fills the form; starting a run writes the link."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import ImdbConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.links import from_query, to_query
from rnn_core.presets import PRESETS

APP = Path(__file__).resolve().parents[1] / "app.py"


def _train_page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(query)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def test_a_preset_link_loads_the_preset_into_the_form() -> None:
    at = _train_page({"preset": "seed003-addition-300"})
    spec = PRESETS["seed003-addition-300"].spec
    assert at.session_state["addition.preset"] == "seed003-addition-300"
    assert at.session_state["addition.units"] == 300
    assert at.session_state["addition.batch_size"] == spec.train.batch_size
    assert any("Source reports:" in c.value for c in at.caption)


def test_a_shared_config_link_restores_every_field() -> None:
    spec = RunSpec(
        task="imdb",
        data=ImdbConfig(maxlen=120, num_words=5000, padding="post", train_size=2000),
        model=ModelConfig(cell="GRU", units=24, bidirectional=True, embedding_dim=16),
        train=TrainConfig(epochs=4, learning_rate=0.002, optimizer="rmsprop"),
    )
    at = _train_page(to_query(spec))
    s = {k.removeprefix("imdb."): v for k, v in at.session_state.items()}
    assert s["task"] == "imdb" and s["preset"] == "(custom)"
    assert (s["maxlen"], s["num_words"], s["padding"], s["train_size"]) == (120, 5000, "post", 2000)
    assert (s["cell"], s["units"], s["bidirectional"], s["embedding_dim"]) == ("GRU", 24, True, 16)
    assert (s["epochs"], s["learning_rate"], s["optimizer"]) == (4, 0.002, "rmsprop")


def test_a_broken_link_warns_and_keeps_the_defaults() -> None:
    at = _train_page({"task": "addition", "m.units": "lots"})
    assert any("m.units='lots' is not a valid int" in w.value for w in at.warning)
    assert at.session_state["addition.units"] == ModelConfig().units


@pytest.mark.slow  # long: a training
def test_starting_a_run_puts_its_configuration_in_the_link() -> None:
    at = _train_page({"preset": "addition-tiny"})
    at.number_input(key="addition.epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    record = at.session_state["current"]
    record.job.wait(120)
    expected = replace(PRESETS["addition-tiny"].spec, train=replace(record.spec.train))
    assert record.spec.train.epochs == 1
    bar = dict(at.query_params)
    assert len(bar.pop("tab")) >= 21  # the tab's private key: in the address bar only
    assert from_query(bar) == record.spec == expected
    share = next(c.value for c in at.code if c.value.startswith("?"))  # AppTest has no host
    assert "tab=" not in share and from_query(dict(parse_qsl(share[1:]))) == record.spec
    at.run()  # the finished run's page: export downloads are offered
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Model (.keras)", "History (.csv)", "Config (.json)", "As Keras code (.py)"]
