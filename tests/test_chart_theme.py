"""Every figure builder takes the page's theme: on a dark page no white plot area, no black
lines or markers, no black palette colour (the theme's ink instead)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rnn_core.charts import classify as cc
from rnn_core.charts import stepper as sc
from rnn_core.charts import text as xc
from rnn_core.charts import training as tc
from rnn_core.charts.palette import DARK, LIGHT, PALETTE, chart_theme
from rnn_core.tasks.forecast import forecast_figure

WHITE = re.compile(r'"(white|#fff|#ffffff|#f7f7f7|rgb\(255, ?255, ?255\))"', re.I)
BLACK = re.compile(r'"(black|#000|#000000)"', re.I)
RNG = np.random.default_rng(0)
H = RNG.uniform(-1, 1, (12, 5))  # (T, H)


def _figures(theme):
    """One figure of every builder whose colours depend on the page, drawn for ``theme``."""
    epochs = [{"epoch": i + 1.0, "val_accuracy": 0.5} for i in range(9)]
    yield tc.compare_curves([(f"run {i}", epochs) for i in range(9)], "val_accuracy", theme)
    yield cc.confusion_heatmap(np.eye(3, dtype=int) * 4 + 1, theme=theme)
    yield cc.misclassified_grid(RNG.uniform(0, 1, (3, 6, 6)), [1, 2, 3], [2, 3, 1], theme=theme)
    row = {"review": "a", "P(positive)": 0.7, "predicted": "positive", "true": "positive"}
    yield cc.review_bars([{**row, "ok": True}], theme=theme)
    yield sc.hidden_heatmap(H, 3, vmax=1.0, theme=theme)
    gates = {"i": RNG.uniform(0, 1, (12, 5)), "f": RNG.uniform(0, 1, (12, 5))}
    yield sc.gates_heatmaps(gates, 3, H, H, theme=theme)
    yield sc.gradient_lens_chart({"lstm": np.ones(12), "your model": np.ones(12)}, theme=theme)
    labels = [f"w{i}" for i in range(12)]
    yield sc.max_pool_strip(labels, np.array([0, 5, 7, 9, 11]), H[0], H[1], (4, 12), theme)
    blocks = {"h": {"W·x": 0.1, "U·h": 0.2, "b": 0.0, "pre-activation": 0.3, "activation": 0.29}}
    yield sc.unit_terms_chart(blocks, {"h_{t-1}": 0.1, "h_t": 0.29}, 0, 3, theme)
    yield sc.digit_figure(RNG.uniform(0, 1, (28, 28)), 4, theme)
    t = np.arange(5)
    yield forecast_figure(t, t * 1.0, t * 1.1, t * 0.9, theme=theme)
    batches = [{"epoch": i / 4, "loss": 1 / i, "accuracy": i / 9} for i in range(1, 9)]
    yield tc.training_curves(batches, epochs, "accuracy", smoothing=0.6, theme=theme)
    yield tc.compare_bars([f"run {i}" for i in range(9)], [0.5] * 9, "test accuracy", theme)
    yield cc.length_histogram([3, 50, 90], 60, theme=theme)
    yield cc.truncation_strip(90, 60, 30, 90, "pre", theme)
    yield xc.next_char_bars(np.full(5, 0.2), "abcde", 1.0, theme=theme)
    yield xc.bits_per_char_curve([1, 2], [3.0, 2.5], 2.8, theme=theme)


def test_dark_figures_have_no_white_areas_and_no_black_marks() -> None:
    for fig in _figures(DARK):
        spec = fig.to_plotly_json()
        spec["layout"].pop("template", None)  # Plotly's default; st.plotly_chart applies its own
        text = json.dumps(spec, default=str)
        assert not WHITE.search(text), WHITE.search(text).group(0)
        assert not BLACK.search(text), BLACK.search(text).group(0)
        assert "plot_bgcolor" not in fig.layout.to_plotly_json()  # Streamlit's theme draws it


def test_the_light_theme_keeps_black_ink_and_the_dark_theme_swaps_it() -> None:
    assert LIGHT.palette == PALETTE and DARK.palette[:-1] == PALETTE[:-1]
    assert DARK.palette[-1] == DARK.ink != "#000000"
    assert chart_theme("dark") is DARK and chart_theme("light") is LIGHT
    assert chart_theme(None) is LIGHT  # before the browser reports a theme
    assert DARK.diverging[len(DARK.diverging) // 2] != LIGHT.diverging[len(LIGHT.diverging) // 2]


@pytest.mark.parametrize("theme", [LIGHT, DARK])
def test_activation_spans_ring_the_current_word_in_the_pages_ink(theme) -> None:  # noqa: ANN001
    html = sc.activation_spans_html([("a", 0.1), ("b", -0.4)], 1.0, current=1, theme=theme)
    assert f"outline:3px solid {theme.ink}" in html
