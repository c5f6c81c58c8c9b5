"""Presets: titles describe a setup; any figure of this app's own says where it was measured."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from rnn_core.lessons import LESSONS, lesson_presets
from rnn_core.presets import PRESETS
from rnn_core.tasks import get_task

LOOKS_MEASURED = re.compile(
    r"\d\s*%|\btest\b|accuracy|exact match|\d\s*s\b|seconds?|minute|fastest", re.IGNORECASE
)


def test_preset_titles_carry_no_measured_looking_figure() -> None:
    for preset in PRESETS.values():
        assert not LOOKS_MEASURED.search(preset.title), preset.name
        if preset.measured:  # a figure of this app's own comes with its provenance
            assert "benchmarks/RESULTS.md" in preset.measured and "seed" in preset.measured
            assert re.search(r"20\d\d-\d\d-\d\d", preset.measured) and "VM" in preset.measured
        assert preset.results_line().startswith(f"Source reports: {preset.source_result}")
    results = (Path(__file__).resolve().parents[1] / "benchmarks" / "RESULTS.md").read_text()
    for preset in PRESETS.values():  # every figure shown is one RESULTS holds, not superseded
        if preset.measured:
            assert "superseded" not in preset.measured, preset.name
            for figure in re.findall(r"\d+\.\d+", preset.measured.split("seed", 1)[1]):
                assert figure in results, (preset.name, figure)


def test_the_keras_text_preset_samples_as_keras_does() -> None:
    data = PRESETS["seed003-text-keras"].spec.data
    assert data.every_position is False and data.window_sampling is True
    assert PRESETS["text-fast"].spec.data.window_sampling is False  # trained on every prefix


def test_task_defaults_read_one_way_and_lesson_7_changes_only_the_direction() -> None:
    for name in ("imdb", "mnist"):  # a first run Inside the RNN can step through
        assert get_task(name).default_spec().model.bidirectional is False, name
    (lesson,) = [les for les in LESSONS if les.key == "both-ways"]
    one_way, both_ways = (p.spec for p in lesson_presets(lesson))
    assert both_ways == PRESETS["imdb-fast"].spec and both_ways.model.bidirectional
    assert one_way == get_task("imdb").default_spec()
    as_bi = replace(one_way, model=replace(one_way.model, bidirectional=True, units=32))
    assert as_bi == both_ways  # data, training and the rest of the model are the same
    twin = PRESETS["imdb-fast-random-batches"].spec  # lesson 6: the same model, random batches
    assert twin.model == both_ways.model and not twin.train.batch_by_length
