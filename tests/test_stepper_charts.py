"""Stepper figure builders are pure functions: check traces, z shapes, markers and HTML."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from rnn_core.charts import stepper as sc
from rnn_core.stepper.numpy_rnn import BLOCKS, forward, random_weights, step_at, unit_terms

T, F, H = 40, 5, 12


@pytest.fixture(scope="module")
def lstm_trace():
    """Forward trace of a small LSTM on random input."""
    rng = np.random.default_rng(0)
    w = random_weights("lstm", F, H, "keras_default", rng)
    x = rng.uniform(-2, 2, (T, F)).astype(np.float32)  # (T, F)
    return [w], x, forward([w], x)


def test_module_never_imports_streamlit():
    tree = ast.parse(Path(sc.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(str(n).startswith("streamlit") for n in names)


def test_hidden_heatmap_shape_values_and_marker(lstm_trace):
    _, _, traces = lstm_trace
    h = traces[0].h  # (T, H)
    fig = sc.hidden_heatmap(h, step=17)
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    hm = fig.data[0]
    assert np.asarray(hm.z).shape == (H, T)
    np.testing.assert_allclose(np.asarray(hm.z), h.T, rtol=1e-6)
    assert (hm.zmin, hm.zmax) == (-1.0, 1.0)
    (marker,) = fig.layout.shapes
    assert marker.x0 == marker.x1 == 17 and marker.xref == "x"
    assert sc.hidden_heatmap(h, step=3).layout.shapes[0].x0 == 3


def test_gates_heatmaps_small_multiples(lstm_trace):
    _, _, traces = lstm_trace
    tr = traces[0]
    fig = sc.gates_heatmaps(tr.gates, 9, tr.candidate, tr.c)
    assert len(fig.data) == 5  # i, f, o, candidate, c_t
    assert [t.name for t in fig.data] == [
        "gate i",
        "gate f",
        "gate o",
        "candidate (tanh)",
        "cell state c_t",
    ]
    for trace, ref in zip(fig.data, [*tr.gates.values(), tr.candidate, tr.c], strict=True):
        assert np.asarray(trace.z).shape == (H, T)
        np.testing.assert_allclose(np.asarray(trace.z), ref.T, rtol=1e-6)
    assert [t.coloraxis for t in fig.data] == ["coloraxis"] * 3 + ["coloraxis2"] * 2
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3", "x4", "x5"]
    assert [s.x0 for s in fig.layout.shapes] == [9] * 5
    assert [s.xref for s in fig.layout.shapes] == ["x", "x2", "x3", "x4", "x5"]
    span = fig.layout.coloraxis2.cmax
    assert fig.layout.coloraxis2.cmin == -span and span >= np.abs(tr.c).max()
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 1.0)
    # panels stacked top to bottom without overlap
    domains = [fig.layout[f"yaxis{i if i > 1 else ''}"].domain for i in range(1, 6)]
    assert all(a[0] >= b[1] for a, b in zip(domains, domains[1:], strict=False))
    fig.to_json()  # serialisable


def test_gates_heatmaps_gru_without_carry():
    rng = np.random.default_rng(1)
    w = random_weights("gru", F, H, "keras_default", rng)
    tr = forward([w], rng.standard_normal((T, F)))[0]
    fig = sc.gates_heatmaps(tr.gates, 0, tr.candidate)
    assert len(fig.data) == 3 and len(fig.layout.shapes) == 3
    assert all(np.asarray(t.z).shape == (H, T) for t in fig.data)


def test_word_activations_and_html_spans(lstm_trace):
    _, _, traces = lstm_trace
    h = traces[0].h
    words = [f"w{i}" for i in range(T - 1)] + ["<b>&"]
    pairs = sc.word_activations(words, h, unit=4)
    assert [w for w, _ in pairs] == words
    np.testing.assert_allclose([v for _, v in pairs], h[:, 4])
    with pytest.raises(ValueError):
        sc.word_activations(words[:-1], h, 4)
    out = sc.activation_spans_html(pairs)
    assert out.count("<span") == T and "&lt;b&gt;&amp;" in out and "<b>" not in out
    colours = re.findall(r"background-color:(#[0-9A-F]{6})", out)
    assert colours == sc.diverging_colours(h[:, 4])


def test_diverging_colours_scale():
    d = sc.DIVERGING
    assert sc.diverging_colours([-1.0, 0.0, 1.0]) == [d[0], d[3], d[-1]]
    assert sc.diverging_colours([-5.0, 5.0]) == [d[0], d[-1]]  # clipped
    assert sc.diverging_colours([0.0, 2.0], vmax=6.0) == [d[3], d[4]]  # interpolation stops
    mid = sc.diverging_colours([1 / 6])[0]  # halfway between F7F7F7 and FDDBC7
    assert mid == "#FAE9DF"


def test_gradient_lens_chart_log_scale():
    norms = {
        "simple_rnn": np.geomspace(1e-12, 1.0, 30),
        "lstm": np.geomspace(1e-4, 1.0, 30),
        "gru": np.r_[0.0, np.geomspace(1e-6, 1.0, 29)],
    }
    fig = sc.gradient_lens_chart(norms)
    assert len(fig.data) == 3 and fig.layout.yaxis.type == "log"
    assert [t.name for t in fig.data] == ["SimpleRNN", "LSTM", "GRU"]
    assert len({t.line.color for t in fig.data}) == 3
    np.testing.assert_array_equal(np.asarray(fig.data[0].x), np.arange(30))
    np.testing.assert_allclose(np.asarray(fig.data[1].y), norms["lstm"])
    assert np.isnan(np.asarray(fig.data[2].y)[0])  # zero cannot be drawn on a log axis


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_unit_terms_chart_bars(kind):
    rng = np.random.default_rng(2)
    w = random_weights(kind, F, H, "keras_default", rng)
    x = rng.standard_normal((T, F)).astype(np.float32)
    traces = forward([w], x)
    blocks, states = unit_terms(step_at([w], traces, x, 0, 11), unit=3)
    fig = sc.unit_terms_chart(blocks, states, unit=3, step=11)
    assert len(fig.data) == len(BLOCKS[kind]) + 1
    for bar, (name, terms) in zip(fig.data, blocks.items(), strict=False):
        assert bar.name == f"block {name}"
        assert list(bar.x) == list(terms)
        np.testing.assert_allclose(bar.y, list(terms.values()))
    state_bar = fig.data[-1]
    assert state_bar.xaxis == "x2" and list(state_bar.x) == list(states)
    assert state_bar.y[-1] == pytest.approx(float(traces[0].h[11, 3]), abs=1e-6)
    assert "t = 11" in fig.layout.title.text and "Unit 3" in fig.layout.title.text


def test_gates_window_keeps_absolute_timesteps(lstm_trace):
    _, _, traces = lstm_trace
    tr = traces[0]
    a, b = 10, 30
    fig = sc.gates_heatmaps({n: g[a:b] for n, g in tr.gates.items()}, 17, tr.candidate[a:b], t0=a)
    for trace in fig.data:
        np.testing.assert_array_equal(np.asarray(trace.x), np.arange(a, b))
    assert {s.x0 for s in fig.layout.shapes} == {17}


def test_spans_mark_the_current_word_and_scale(lstm_trace):
    _, _, traces = lstm_trace
    pairs = sc.word_activations([f"w{i}" for i in range(T)], traces[0].h, 2)
    out = sc.activation_spans_html(pairs, vmax=0.1, current=5)
    spans = out.split("</span>")
    assert "outline" in spans[5] and sum("outline" in s for s in spans) == 1
    colours = re.findall(r"background-color:(#[0-9A-F]{6})", out)
    assert colours == sc.diverging_colours(traces[0].h[:, 2], vmax=0.1)


def test_gradient_lens_chart_labels_and_dead_line():
    norms = {"the trained model": np.zeros(10), "lstm": np.geomspace(1e-3, 1.0, 10)}
    fig = sc.gradient_lens_chart(norms, title="", labels={"lstm": "LSTM (untrained)"})
    assert [t.name for t in fig.data] == [
        "the trained model (exactly 0 at every t)",
        "LSTM (untrained)",
    ]
    assert fig.data[0].line.dash == "dash" and fig.data[1].line.color == sc.CELL_COLOURS["lstm"]


def test_digit_figure_boxes_the_row_read_at_t():
    img = np.zeros((28, 28), np.float32)
    img[10, 3:20] = 1.0
    fig = sc.digit_figure(img, 10)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), img)
    (box,) = fig.layout.shapes
    assert (box.y0, box.y1, box.x0, box.x1) == (9.5, 10.5, -0.5, 27.5)
    assert tuple(fig.layout.yaxis.range) == (27.5, -0.5)  # row 0, the first timestep, on top
    (box,) = sc.digit_figure(img, 5, rows_per_step=2).layout.shapes  # rows 10 and 11 at t = 5
    assert (box.y0, box.y1) == (9.5, 11.5)


def test_unit_terms_chart_short_ticks_and_state_labels():
    blocks = {"h": {"W·x": 1.0, "U·h": 2.0, "b": 0.5, "pre-activation": 3.5, "activation": 0.9}}
    states = {"h_{t-1}": 0.2, "h_t": 0.9}
    fig = sc.unit_terms_chart(blocks, states, unit=0, step=4)
    assert list(fig.layout.xaxis.ticktext) == ["W·x", "U·h", "b", "sum", "act"]
    assert list(fig.layout.xaxis2.ticktext) == ["h(t-1)", "h(t)"]
    assert fig.data[0].texttemplate == "%{y:.3f}"  # one block: values printed on the bars


def test_max_pool_strip_puts_each_unit_at_its_maximum():
    rng = np.random.default_rng(0)
    h = rng.normal(0, 1, (20, 8))  # (T, H)
    peaks, pooled = h.argmax(axis=0), h.max(axis=0)
    peaks[0], peaks[1] = 2, 17  # one maximum on padding, one on a word
    readout = rng.normal(0, 1, 8)
    labels = ["<PAD>"] * 5 + [f"w{t}" for t in range(5, 20)]
    fig = sc.max_pool_strip(labels, peaks, pooled, readout, (5, 20))
    dots = fig.data[0]
    np.testing.assert_array_equal(dots.x, np.where(peaks < 5, 3, peaks))  # padding: one column
    np.testing.assert_array_equal(dots.y, np.arange(8))
    np.testing.assert_array_equal(np.asarray(dots.customdata)[:, 2], peaks)  # true t in hover
    np.testing.assert_allclose(dots.marker.color, readout * pooled)
    assert list(dots.text) == [labels[t] for t in peaks]
    words = sorted(set(peaks[peaks >= 5].tolist()))
    assert list(fig.layout.xaxis.ticktext) == ["padding (t < 5)"] + [labels[t] for t in words]
    assert len(fig.layout.shapes) == 1  # the padding column is shaded
    assert "max pooling" in fig.layout.title.text
    plain = sc.max_pool_strip(labels, np.full(8, 9), pooled, readout, (5, 20))
    assert len(plain.layout.shapes) == 0 and list(plain.layout.xaxis.ticktext) == ["w9"]


def test_gru_bars_have_their_own_ticks_and_note():
    from rnn_core.stepper.view import bars_note

    rng = np.random.default_rng(3)
    for reset_after, extra in ((True, ["b′", "r⊙(U·h+b′)"]), (False, ["U·(r⊙h)"])):
        w = random_weights("gru", F, H, "keras_default", rng, reset_after)
        x = rng.standard_normal((T, F)).astype(np.float32)
        blocks, states = unit_terms(step_at([w], forward([w], x), x, 0, 5), unit=1)
        fig = sc.unit_terms_chart(blocks, states, unit=1, step=5)
        ticks = list(fig.layout.xaxis.ticktext)
        assert ticks == ["W·x", "U·h", *extra, "b", "sum", "act"]
        assert list(fig.layout.xaxis.categoryarray) == list(fig.layout.xaxis.tickvals)
        note = bars_note(w)
        assert all(e.replace("′", "′") in note for e in extra)
        assert "sum is W·x + U·h + b" in note
