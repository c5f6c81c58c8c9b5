"""Chart view settings as builder arguments: TensorBoard smoothing, log-scale loss, presenter
sizes applied by every figure builder through its ChartTheme."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.charts import classify as cc
from rnn_core.charts import stepper as sc
from rnn_core.charts import text as xc
from rnn_core.charts import training as tc
from rnn_core.charts.palette import (
    DARK,
    LIGHT,
    PRESENTER_FONT,
    PRESENTER_LINES,
    chart_theme,
    presenting,
)
from rnn_core.charts.smoothing import ema
from rnn_core.charts.style import BASE_FONT, TALLER
from rnn_core.tasks.forecast import forecast_figure

RNG = np.random.default_rng(1)


def reference_ema(values: list[float], w: float) -> list[float]:
    """TensorBoard's smoothing, written out step by step for a few values."""
    out, last, n = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        n += 1
        last = w * last + (1 - w) * v
        out.append(last / (1 - w**n))
    return out


def test_ema_matches_tensorboards_debiased_average() -> None:
    values = [1.0, 3.0, 2.0, 5.0]
    # by hand, w = 0.5: 0.5/0.5 = 1; (0.25+1.5)/0.75 = 7/3; (0.875+1)/0.875 = 15/7; …
    got = ema(values, 0.5)
    assert got[:3] == pytest.approx([1.0, 7 / 3, 15 / 7])
    assert got == pytest.approx(reference_ema(values, 0.5))
    long = RNG.normal(size=50).tolist()
    assert ema(long, 0.9) == pytest.approx(reference_ema(long, 0.9))
    assert ema([4.0], 0.99)[0] == pytest.approx(4.0)  # debiased: the first point is itself


def test_ema_weight_zero_is_the_identity_and_constants_stay() -> None:
    values = [0.3, 0.1, 0.7]
    assert ema(values, 0.0).tolist() == values
    assert ema([0.1] * 5, 0.9).tolist() == [0.1] * 5  # no rounding wobble on a flat line
    assert ema([], 0.6).tolist() == []


def test_ema_keeps_nan_in_place_and_skips_it() -> None:
    values = [1.0, float("nan"), 3.0, float("inf"), 2.0]
    got = ema(values, 0.5)
    assert math.isnan(got[1]) and got[3] == float("inf")
    finite = ema([1.0, 3.0, 2.0], 0.5)
    assert [got[0], got[2], got[4]] == pytest.approx(finite.tolist())
    assert got.tolist()[::2] == pytest.approx(reference_ema(values, 0.5)[::2])


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_ema_rejects_a_weight_outside_0_1(weight: float) -> None:
    with pytest.raises(ValueError, match="smoothing weight"):
        ema([1.0, 2.0], weight)


BATCHES = [{"epoch": (i + 1) / 10, "loss": 2.0 / (i + 1), "accuracy": i / 20} for i in range(20)]
EPOCHS = [{"epoch": 1.0, "loss": 1.0, "val_loss": 1.1, "accuracy": 0.3, "val_accuracy": 0.2}]


def _named(fig, name):
    return [t for t in fig.data if t.name == name]


def test_smoothing_adds_the_smoothed_batch_curve_over_the_faded_raw_one() -> None:
    plain = tc.training_curves(BATCHES, EPOCHS)
    assert not [t for t in plain.data if "smoothed" in (t.name or "")]
    fig = tc.training_curves(BATCHES, EPOCHS, smoothing=0.6)
    smooth = [t for t in fig.data if t.name == "train (batches, smoothed 0.6)"]
    assert len(smooth) == 2  # loss and accuracy panels
    raw_loss = [b["loss"] for b in BATCHES]
    assert list(smooth[0].y) == pytest.approx(reference_ema(raw_loss, 0.6))
    assert list(_named(fig, "train (batches)")[0].y) == raw_loss  # the raw curve stays
    assert _named(fig, "train (batches)")[0].opacity < _named(plain, "train (batches)")[0].opacity


def test_log_scale_puts_only_the_loss_axis_on_a_log_scale() -> None:
    fig = tc.training_curves(BATCHES, EPOCHS, log_loss=True)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type != "log"
    assert fig.layout.annotations[0].text == "loss (log scale)"
    assert tc.training_curves(BATCHES, EPOCHS).layout.yaxis.type != "log"


def test_presenter_theme_keeps_colours_and_sets_sizes() -> None:
    big = presenting(DARK)
    assert (big.ink, big.diverging, big.name) == (DARK.ink, DARK.diverging, "dark")
    assert big.font_size == PRESENTER_FONT and big.line_scale == PRESENTER_LINES
    assert chart_theme("dark", presenter=True) == big
    assert chart_theme("light").font_size is None and chart_theme("light").line_scale == 1
    assert hash(big) != hash(DARK)  # a cache key that tells the two apart


def _all_figures(theme):
    """One figure of every builder, drawn for ``theme``."""
    h = RNG.uniform(-1, 1, (12, 5))  # (T, H)
    yield tc.training_curves(BATCHES, EPOCHS, smoothing=0.5, theme=theme)
    yield tc.compare_curves([("a", EPOCHS), ("b", EPOCHS)], "val_loss", theme)
    yield tc.compare_bars(["a", "b"], [0.5, None], "test accuracy", theme)
    yield cc.confusion_heatmap(np.eye(3, dtype=int), theme=theme)
    yield cc.misclassified_grid(RNG.uniform(0, 1, (2, 6, 6)), [1, 2], [2, 1], theme=theme)
    row = {"review": "a", "P(positive)": 0.7, "predicted": "positive", "true": "positive"}
    yield cc.review_bars([{**row, "ok": True}], theme=theme)
    yield cc.length_histogram([3, 50, 90], 60, theme=theme)
    yield cc.truncation_strip(90, 60, 30, 90, "pre", theme)
    yield xc.next_char_bars(np.full(5, 0.2), "abcde", 1.0, theme=theme)
    yield xc.bits_per_char_curve([1, 2], [3.0, 2.5], 2.8, theme=theme)
    yield sc.hidden_heatmap(h, 3, vmax=1.0, theme=theme)
    gates = {"i": RNG.uniform(0, 1, (12, 5)), "f": RNG.uniform(0, 1, (12, 5))}
    yield sc.gates_heatmaps(gates, 3, h, h, theme=theme)
    yield sc.gradient_lens_chart({"lstm": np.ones(12)}, theme=theme)
    labels = [f"w{i}" for i in range(12)]
    yield sc.max_pool_strip(labels, np.array([0, 5, 7, 9, 11]), h[0], h[1], (4, 12), theme)
    blocks = {"h": {"W·x": 0.1, "U·h": 0.2, "b": 0.0, "pre-activation": 0.3, "activation": 0.29}}
    yield sc.unit_terms_chart(blocks, {"h_{t-1}": 0.1, "h_t": 0.29}, 0, 3, theme)
    yield sc.digit_figure(RNG.uniform(0, 1, (28, 28)), 4, theme)
    t = np.arange(5)
    yield forecast_figure(t, t * 1.0, t * 1.1, t * 0.9, theme=theme)


def _line_widths(fig) -> list[float]:
    """Every line width of the figure (Plotly's default 2 where it sets none)."""
    widths = [t.line.width for t in fig.data if t.type == "scatter"]
    widths += [s.line.width for s in fig.layout.shapes]
    return [2.0 if w is None else w for w in widths]


def test_every_builder_draws_presenter_sizes_from_the_theme() -> None:
    for small, big in zip(_all_figures(LIGHT), _all_figures(presenting(LIGHT)), strict=True):
        assert small.layout.font.size is None  # the page's own (Streamlit's) sizes
        assert big.layout.font.size == PRESENTER_FONT
        assert big.layout.legend.font.size == PRESENTER_FONT
        for axis in ("xaxis", "yaxis"):
            if big.layout[axis].title.text:
                assert big.layout[axis].title.font.size == PRESENTER_FONT
            assert big.layout[axis].tickfont.size >= 16
        for note, own in zip(big.layout.annotations, small.layout.annotations, strict=True):
            grown = round(own.font.size * PRESENTER_FONT / BASE_FONT) if own.font.size else None
            assert note.font.size == (grown or PRESENTER_FONT)  # subplot titles, labels
        if small.layout.height:
            assert big.layout.height == round(small.layout.height * TALLER)
        assert _line_widths(big) == pytest.approx(
            [w * PRESENTER_LINES for w in _line_widths(small)]
        )


def test_presenter_lines_are_thicker_in_the_live_curves() -> None:
    small = tc.training_curves(BATCHES, EPOCHS)
    big = tc.training_curves(BATCHES, EPOCHS, theme=presenting(LIGHT))
    epoch = _named(big, "train (epoch)")[0]
    assert epoch.line.width == 2 * PRESENTER_LINES
    assert _named(small, "train (epoch)")[0].line.width == 2
    assert epoch.marker.size == 6 * PRESENTER_LINES
