"""Shareable links: config -> query parameters -> the same config, and strict reading."""

from __future__ import annotations

import pytest

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.links import from_query, to_query
from rnn_core.presets import PRESETS


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
        ({"task": "addition", "m.colour": "red"}, "unknown link parameter 'm.colour'"),
        ({"task": "addition", "units": "3"}, "unknown link parameter 'units'"),
        ({"task": "weather"}, "unknown task 'weather'"),
    ],
)
def test_bad_links_name_the_parameter(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        from_query(query)
