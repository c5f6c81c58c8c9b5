"""Shareable links: settings -> query parameters -> the same settings; other keys ignored,
bad values refused in one line."""

from __future__ import annotations

import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TextConfig, TrainConfig
from rnn_core.links import (
    from_query,
    is_run_key,
    is_stepper_key,
    stepper_from_query,
    stepper_query,
    to_query,
)
from rnn_core.presets import PRESETS
from rnn_core.stepper.settings import StepperSettings

NOISE = {  # what learning platforms, campaign links and the app itself add to an address
    "utm_source": "moodle",
    "utm_medium": "email",
    "utm_campaign": "week3",
    "embed": "true",
    "embed_options": "light_theme",
    "tab": "Zq3k9sV1y2LrQ0aa",
    "lti_launch": "1",
}


def test_default_spec_is_just_the_task() -> None:
    assert to_query(RunSpec()) == {"task": "addition"}


def test_changed_values_are_written_with_prefixes() -> None:
    spec = RunSpec(
        data=AdditionConfig(digits=5, reverse=False),
        model=ModelConfig(cell="GRU", units=300, layers=2),
        train=TrainConfig(learning_rate=0.01),
    )
    q = to_query(spec)
    assert q["d.digits"] == "5" and q["d.reverse"] == "0"
    assert q["m.cell"] == "GRU" and q["m.units"] == "300" and q["m.layers"] == "2"
    assert q["t.learning_rate"] == "0.01"
    assert from_query(q) == spec


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_a_link(name: str) -> None:
    spec = PRESETS[name].spec
    query = to_query(spec)
    assert all(isinstance(v, str) for v in query.values())
    assert from_query(query) == spec


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"task": "addition", "m.units": "many"}, "m.units='many' is not a valid int"),
        ({"task": "addition", "d.reverse": "maybe"}, "d.reverse='maybe' is not a valid bool"),
        ({"task": "addition", "m.units": "0"}, "units must be a whole number >= 1, got 0"),
        ({"task": "weather"}, "unknown task 'weather'"),
    ],
)
def test_bad_links_name_the_parameter(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        from_query(query)


def test_keys_that_are_not_the_links_own_are_ignored() -> None:
    spec = RunSpec(model=ModelConfig(cell="GRU", units=64))
    query = to_query(spec)
    assert from_query(query | NOISE) == spec
    odd = {"m.colour": "red", "units": "3", "d.maxlen": "40", "x.units": "9", "m.": "1"}
    assert from_query(query | odd) == spec  # maxlen is no field of the addition task's data
    assert not any(is_run_key(k) for k in NOISE | {"units": "3", "x.units": "9", "m.": "1"})
    assert all(is_run_key(k) for k in ("task", "preset", "m.colour", "d.maxlen", "t.epochs"))


def test_a_text_link_round_trips_with_sampling_settings_and_no_file_content() -> None:
    spec = RunSpec(
        task="text",
        data=TextConfig(
            corpus="upload:notes.txt", maxlen=25, temperatures=(0.2, 1.5), sample_length=120,
            seed_text="the will ", window_sampling=True, lowercase=False, max_chars=50_000,
        ),
        model=ModelConfig(cell="GRU", units=96, embedding_dim=0),
        train=TrainConfig(epochs=3, batch_size=64, until="val_bits_per_char<=2.1", patience=2),
    )  # fmt: skip
    query = to_query(spec)
    assert query["d.corpus"] == "upload:notes.txt" and query["d.temperatures"] == "0.2,1.5"
    assert from_query(query) == spec
    assert from_query({k: v for k, v in query.items() if k != "task"} | {"task": "text"}) == spec
    assert from_query(query | NOISE) == spec


def test_a_default_stepper_link_is_empty_and_every_field_round_trips() -> None:
    assert stepper_query(StepperSettings()) == {}
    settings = StepperSettings(
        cell="GRU", scheme="keras_default", reset_after=False, timesteps=300, seed=7, t=42,
        unit=5, layer=1,
    )  # fmt: skip
    query = stepper_query(settings)
    assert query == {
        "cell": "GRU", "scheme": "keras_default", "reset_after": "0", "timesteps": "300",
        "seed": "7", "layer": "1", "t": "42", "unit": "5",
    }  # fmt: skip
    assert stepper_from_query(query) == settings
    trained = StepperSettings(source="trained", example=3, t=9)
    assert stepper_from_query(stepper_query(trained)) == trained


def test_a_stepper_link_ignores_other_keys() -> None:
    settings = StepperSettings(cell="LSTM", t=12)
    query = stepper_query(settings) | NOISE | {"task": "text", "m.units": "3"}
    assert stepper_from_query(query) == settings
    assert {k for k in query if is_stepper_key(k)} == {"cell", "t"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"t": "soon"}, "link parameter t='soon' is not a valid int"),
        ({"reset_after": "maybe"}, "link parameter reset_after='maybe' is not a valid bool"),
        ({"cell": "Transformer"}, "cell must be one of SimpleRNN, LSTM, GRU, got 'Transformer'"),
        ({"source": "cloud"}, "source must be one of random, trained, got 'cloud'"),
        ({"scheme": "zeros"}, "scheme must be one of uniform01, keras_default, got 'zeros'"),
        ({"timesteps": "5000"}, "timesteps must be at most 500, got 5000"),
        ({"timesteps": "3"}, "timesteps must be a whole number >= 10, got 3"),
        ({"unit": "-1"}, "unit must be a whole number >= 0, got -1"),
    ],
)
def test_bad_stepper_links_are_refused_in_one_line(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        stepper_from_query({"cell": "LSTM", **query})
    assert str(caught.value) == message and "\n" not in str(caught.value)
