"""Presets: titles describe a setup; any figure of this app's own says where it was measured."""

from __future__ import annotations

import re
from pathlib import Path

from rnn_core.presets import PRESETS

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
