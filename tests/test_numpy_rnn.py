"""NumPy RNN cells and gradient lens checked against real Keras layers and tf.GradientTape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core.stepper import gradient_lens as gl
from rnn_core.stepper import numpy_rnn as nr
from rnn_core.stepper import saturation

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

REPO = Path(__file__).resolve().parents[1]
CELLS = [("simple_rnn", True), ("lstm", True), ("gru", True), ("gru", False)]
CELL_IDS = ["simple_rnn", "lstm", "gru_reset_after", "gru_reset_before"]
KERAS_CLASS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def keras_layer(kind, units, reset_after=True, seed=0, dtype="float32", **kw):
    """A Keras recurrent layer with seeded, non-trivial (non-zero bias) initial weights."""
    init = keras.initializers
    kw = {
        "return_sequences": True,
        "dtype": dtype,
        "kernel_initializer": init.RandomUniform(-0.6, 0.6, seed=seed),
        "recurrent_initializer": init.Orthogonal(gain=1.1, seed=seed + 1),
        "bias_initializer": init.RandomUniform(-0.5, 0.5, seed=seed + 2),
        **kw,
    }
    if kind == "gru":
        kw["reset_after"] = reset_after
    if kind == "lstm":
        kw.setdefault("unit_forget_bias", False)  # random bias on every gate, forget included
    return getattr(keras.layers, KERAS_CLASS[kind])(units, **kw)


def run_keras(layers, x):
    """Call Keras layers in sequence on x and return the last output as NumPy."""
    out = x
    for lay in layers:
        out = lay(out)
    return keras.ops.convert_to_numpy(out)


# ---------------------------------------------------------------- forward parity with Keras


@pytest.mark.parametrize(("kind", "reset_after"), CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("shape", [(1, 7, 3, 5), (4, 13, 8, 16), (2, 25, 1, 33)])
def test_forward_matches_keras_layer(kind, reset_after, shape):
    b, t, f, h = shape
    rng = np.random.default_rng(sum(shape))
    x = (1.5 * rng.standard_normal((b, t, f))).astype(np.float32)  # (B, T, F)
    lay = keras_layer(kind, h, reset_after, seed=sum(shape))
    expected = run_keras([lay], x)  # (B, T, H)
    ws = nr.weights_from_keras(lay)
    assert len(ws) == 1 and ws[0].kind == kind
    assert ws[0].reset_after == (kind == "gru" and reset_after)
    tr = nr.forward(ws, x)[0]
    assert tr.h.shape == (b, t, h) and tr.h.dtype == np.float32
    assert np.max(np.abs(tr.h - expected)) <= 1e-5
    # A single (T, F) sequence gives the same result without the batch axis.
    single = nr.forward(ws, x[-1])[0]
    assert single.h.shape == (t, h)
    np.testing.assert_allclose(single.h, tr.h[-1], atol=1e-6)
    if kind == "lstm":
        assert single.c.shape == (t, h) and set(single.gates) == {"i", "f", "o"}
    if kind == "gru":
        assert single.c is None and set(single.gates) == {"z", "r"}


@pytest.mark.parametrize(("kind", "reset_after"), CELLS, ids=CELL_IDS)
def test_stacked_two_layers_match_keras_model(kind, reset_after):
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, (3, 17, 6)).astype(np.float32)  # (B, T, F)
    model = keras.Sequential(
        [
            keras.Input((17, 6)),
            keras_layer(kind, 12, reset_after, seed=11),
            keras_layer(kind, 9, reset_after, seed=21),
        ]
    )
    ws = nr.weights_from_keras(model)
    assert [w.units for w in ws] == [12, 9] and [w.input_dim for w in ws] == [6, 12]
    traces = nr.forward(ws, x)
    assert np.max(np.abs(traces[-1].h - keras.ops.convert_to_numpy(model(x)))) <= 1e-5
    assert nr.parity_max_abs_diff(ws, x, model) <= 1e-5
    assert nr.parity_max_abs_diff(ws, x[0], model) <= 1e-5  # (T, F) input too


def test_mixed_stack_in_functional_model_with_other_layers():
    """Non-recurrent layers are skipped; a final return_sequences=False layer is handled."""
    inp = keras.Input((10, 4))
    h1 = keras_layer("lstm", 8, seed=3)(inp)
    h2 = keras_layer("gru", 6, False, seed=5, return_sequences=False)(h1)
    model = keras.Model(inp, keras.layers.Dense(2)(h2))
    ws = nr.weights_from_keras(model)
    assert [w.kind for w in ws] == ["lstm", "gru"] and not ws[1].reset_after
    x = np.random.default_rng(1).standard_normal((2, 10, 4)).astype(np.float32)
    assert nr.parity_max_abs_diff(ws, x, model) <= 1e-5
    # parity on a deliberately wrong weight set is clearly visible
    bad = [
        ws[0],
        nr.CellWeights("gru", ws[1].kernel, ws[1].recurrent_kernel * 0.5, ws[1].bias, False),
    ]
    assert nr.parity_max_abs_diff(bad, x, model) > 1e-3


def test_weights_from_keras_no_bias_and_errors():
    lay = keras_layer("gru", 5, True, seed=2, use_bias=False)
    x = np.random.default_rng(2).standard_normal((1, 6, 3)).astype(np.float32)
    expected = run_keras([lay], x)
    (w,) = nr.weights_from_keras(lay)
    assert w.bias.shape == (2, 15) and not w.bias.any()
    assert np.max(np.abs(nr.forward([w], x)[0].h - expected)) <= 1e-5
    with pytest.raises(ValueError, match="not built"):
        nr.weights_from_keras(keras.layers.LSTM(3))
    with pytest.raises(ValueError, match="no SimpleRNN"):
        nr.weights_from_keras(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))
    for bad in (
        keras.layers.SimpleRNN(3, activation="relu"),
        keras.layers.LSTM(3, go_backwards=True),
    ):
        bad(x)
        with pytest.raises(ValueError, match="only tanh/sigmoid"):
            nr.weights_from_keras(bad)
    with pytest.raises(ValueError, match="expected"):
        nr.CellWeights("lstm", w.kernel, w.recurrent_kernel, w.bias)  # GRU shapes for an LSTM


# ---------------------------------------------------------------- step terms


@pytest.mark.parametrize(("kind", "reset_after"), CELLS, ids=CELL_IDS)
def test_step_terms_recombine_exactly(kind, reset_after):
    rng = np.random.default_rng(3)
    w1 = nr.random_weights(kind, 5, 7, "keras_default", rng, reset_after)
    w2 = nr.random_weights(kind, 7, 4, "uniform01", rng, reset_after)
    w2 = w2.astype(np.float32)
    x = rng.standard_normal((9, 5)).astype(np.float32)  # (T, F)
    traces = nr.forward([w1, w2], x)
    for layer, w in enumerate([w1, w2]):
        hn = w.units
        for t in (0, 4, 8):
            s = nr.step_at([w1, w2], traces, x, layer, t)
            x_t = x[t] if layer == 0 else traces[0].h[t]
            h_prev = traces[layer].h[t - 1] if t else np.zeros(hn, np.float32)
            np.testing.assert_array_equal(s.x_t, x_t)
            np.testing.assert_array_equal(s.h_prev, h_prev)
            np.testing.assert_array_equal(s.wx, x_t @ w.kernel)
            np.testing.assert_array_equal(s.uh, h_prev @ w.recurrent_kernel)
            np.testing.assert_array_equal(s.pre, (s.wx + s.b) + s.rec)
            blk = {n: s.block(n) for n in nr.BLOCKS[kind]}
            for name, gate in s.gates.items():
                np.testing.assert_allclose(gate, 1 / (1 + np.exp(-blk[name])), rtol=1e-6)
            if kind == "simple_rnn":
                np.testing.assert_array_equal(s.rec, s.uh)
                np.testing.assert_array_equal(s.h_t, np.tanh(s.pre))
            elif kind == "lstm":
                np.testing.assert_array_equal(s.candidate, np.tanh(blk["c"]))
                i, f, o = s.gates["i"], s.gates["f"], s.gates["o"]
                np.testing.assert_array_equal(s.c_t, f * s.c_prev + i * s.candidate)
                np.testing.assert_array_equal(s.h_t, o * np.tanh(s.c_t))
                np.testing.assert_allclose(s.c_t, traces[layer].c[t], atol=1e-6)
            else:
                z, r = s.gates["z"], s.gates["r"]
                u_h = w.recurrent_kernel[:, 2 * hn :]
                if reset_after:
                    b_rec = w.recurrent_bias
                    np.testing.assert_array_equal(s.b_rec, b_rec)
                    np.testing.assert_array_equal(s.rec[: 2 * hn], s.uh[: 2 * hn] + b_rec[: 2 * hn])
                    want = r * (s.uh[2 * hn :] + b_rec[2 * hn :])
                else:
                    assert s.b_rec is None
                    want = (r * h_prev) @ u_h
                np.testing.assert_allclose(s.block("h", "rec"), want, rtol=1e-6, atol=1e-7)
                np.testing.assert_array_equal(s.candidate, np.tanh(blk["h"]))
                np.testing.assert_array_equal(s.h_t, z * s.h_prev + (1 - z) * s.candidate)
            np.testing.assert_allclose(s.h_t, traces[layer].h[t], atol=1e-6)
            # the per-unit bar values add up to the pre-activation
            blocks, states = nr.unit_terms(s, hn - 1)
            for terms in blocks.values():
                total = sum(terms[k] for k in nr.block_sum_keys(terms))
                assert total == pytest.approx(terms["pre-activation"], abs=1e-5)
            assert states["h_t"] == pytest.approx(float(s.h_t[hn - 1]))
            assert ("c_t" in states) == (kind == "lstm")


def test_step_batched_and_default_state():
    rng = np.random.default_rng(4)
    w = nr.random_weights("lstm", 3, 4, "keras_default", rng)
    x_t = rng.standard_normal((6, 3)).astype(np.float32)  # (B, F)
    s = nr.step(w, x_t)
    assert s.h_t.shape == (6, 4) and s.pre.shape == (6, 16) and s.c_prev.shape == (6, 4)
    np.testing.assert_allclose(s.h_t, nr.forward([w], x_t[:, None, :])[0].h[:, 0], atol=1e-7)


# ---------------------------------------------------------------- random weights, params, demo


@pytest.mark.parametrize(("kind", "reset_after"), CELLS, ids=CELL_IDS)
def test_keras_default_scheme_matches_keras_initialisers(kind, reset_after):
    f, h = 48, 40
    ours = nr.random_weights(kind, f, h, "keras_default", np.random.default_rng(0), reset_after)
    kw = {"reset_after": reset_after} if kind == "gru" else {}
    lay = getattr(keras.layers, KERAS_CLASS[kind])(h, **kw)
    lay.build((None, None, f))
    k_kernel, k_rec, k_bias = lay.get_weights()
    assert (ours.kernel.shape, ours.recurrent_kernel.shape, ours.bias.shape) == (
        k_kernel.shape,
        k_rec.shape,
        k_bias.shape,
    )
    assert ours.kernel.dtype == k_kernel.dtype
    np.testing.assert_array_equal(ours.bias, k_bias)  # zeros, LSTM forget gate = 1
    assert ours.kernel.std() == pytest.approx(k_kernel.std(), rel=0.05)  # glorot_uniform
    assert np.abs(ours.kernel).max() <= np.abs(k_kernel).max() * 1.01 + 1e-3
    for rec in (ours.recurrent_kernel, k_rec):  # orthogonal rows, like Keras Orthogonal
        np.testing.assert_allclose(rec @ rec.T, np.eye(h), atol=1e-5)
    again = nr.random_weights(kind, f, h, "keras_default", np.random.default_rng(0), reset_after)
    np.testing.assert_array_equal(again.recurrent_kernel, ours.recurrent_kernel)


def test_uniform01_scheme_and_frozen_weights():
    w = nr.random_weights("gru", 3, 4, "uniform01", np.random.default_rng(1))
    for a in (w.kernel, w.recurrent_kernel, w.bias):
        assert a.min() >= 0.0 and a.max() < 1.0
    with pytest.raises(ValueError):
        w.kernel[0, 0] = 2.0  # read-only arrays
    with pytest.raises(ValueError, match="scheme"):
        nr.random_weights("gru", 3, 4, "he", np.random.default_rng(1))


@pytest.mark.parametrize(("kind", "reset_after"), CELLS, ids=CELL_IDS)
def test_param_formula_matches_keras_count(kind, reset_after):
    f, h = 32, 64
    kw = {"reset_after": reset_after} if kind == "gru" else {}
    lay = getattr(keras.layers, KERAS_CLASS[kind])(h, **kw)
    lay.build((None, None, f))
    (w,) = nr.weights_from_keras(lay)
    text, count, shapes = nr.param_formula(w)
    assert count == lay.count_params()
    assert text.endswith(f"= {lay.count_params():,}")
    assert shapes == {n: tuple(a.shape) for n, a in zip(shapes, lay.get_weights(), strict=True)}
    if kind == "lstm":
        assert text == "4·(F+H+1)·H = 4·(32+64+1)·64 = 24,832"
    if kind == "gru" and reset_after:
        assert text.startswith("3·(F+H+2)·H = 3·(32+64+2)·64")


def test_seed001_demo_saturates_and_matches_keras():
    x, w = nr.seed001_demo(np.random.default_rng(1))
    assert x.shape == (100, 32) and w.kernel.shape == (32, 64)
    assert w.recurrent_kernel.shape == (64, 64) and w.bias.shape == (64,)
    h = nr.forward([w], x)[0].h  # (T, H)
    assert np.all(h[1:] == 1.0) and np.all(h[0] > 0.999)
    lay = keras.layers.SimpleRNN(64, return_sequences=True, dtype="float64")
    lay.build((None, 100, 32))
    lay.set_weights([w.kernel, w.recurrent_kernel, w.bias])
    assert nr.parity_max_abs_diff([w], x, lay) <= 1e-9
    text = saturation.saturation_explanation(w, x)
    assert saturation.saturation_summary(w, x) == text
    assert "[0, 1)" in text and "32 products" in text and "64 × 0.5" in text
    assert f"{int(np.sum(h[1:] == 1.0)):,} of {h[1:].size:,}" in text
    pre = x @ w.kernel + w.bias + np.vstack([np.zeros((1, 64)), h[:-1]]) @ w.recurrent_kernel
    assert f"averages {pre[1:].mean():.1f}" in text


def test_numpy_paths_do_not_import_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "import rnn_core.stepper.numpy_rnn as m, rnn_core.stepper.gradient_lens as g\n"
        "import rnn_core.charts.stepper as c, rnn_core.stepper.saturation as sat\n"
        "import rnn_core.stepper.sources as src, rnn_core.stepper.view as v\n"
        "rng = np.random.default_rng(0)\n"
        "w = m.random_weights('lstm', 4, 3, 'keras_default', rng)\n"
        "x = rng.random((5, 4))\n"
        "tr = m.forward([w], x)\n"
        "s = m.step_at([w], tr, x, 0, 2)\n"
        "n = g.compare_cells(x, 3, rng)\n"
        "c.hidden_heatmap(tr[0].h, 2)\n"
        "x0, w0 = m.seed001_demo(rng)\n"
        "sat.saturation_explanation(w0, x0)\n"
        "inp = src.random_input('gru', 'uniform01', timesteps=20, units=5)\n"
        "case = v.build_case(inp, ('k',), 'own')\n"
        "v.step_view(inp, case.traces, 0, 3, 1)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "assert 'streamlit' not in sys.modules\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------- gradient lens


@pytest.mark.parametrize(("kind", "reset_after"), CELLS, ids=CELL_IDS)
def test_gradient_lens_matches_gradient_tape(kind, reset_after):
    rng = np.random.default_rng(5)
    t_len, f = 30, 4
    layers = [
        keras_layer(kind, 6, reset_after, seed=31, dtype="float64"),
        keras_layer(kind, 5, reset_after, seed=41, dtype="float64"),
    ]
    x = rng.standard_normal((1, t_len, f))  # (1, T, F)
    for readout in (rng.standard_normal(5), None):
        w_out = np.full(5, 1 / 5) if readout is None else readout
        xv = tf.Variable(x)
        with tf.GradientTape() as tape:
            h = layers[1](layers[0](xv))  # (1, T, H)
            loss = tf.reduce_sum(h[:, -1, :] * w_out)
        expected = tape.gradient(loss, xv).numpy()[0]  # (T, F)
        ws = nr.weights_from_keras(layers[0]) + nr.weights_from_keras(layers[1])
        got = gl.input_gradients(ws, x[0], readout)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-10 * scale)
        norms = gl.input_gradient_norms(ws, x[0], readout)
        np.testing.assert_allclose(norms, np.linalg.norm(expected, axis=1), rtol=1e-4)


def test_compare_cells_and_memory_horizon():
    x = np.random.default_rng(6).uniform(-1, 1, (60, 8))  # (T, F)
    res = gl.compare_cells(x, 16, np.random.default_rng(9), n_layers=2)
    assert list(res) == ["simple_rnn", "lstm", "gru"]
    rng = np.random.default_rng(9)
    for kind, norms in res.items():
        assert norms.shape == (60,) and np.all(np.isfinite(norms)) and np.all(norms > 0)
        layers = [
            nr.random_weights(kind, d, 16, "keras_default", rng, dtype=np.float64) for d in (8, 16)
        ]
        np.testing.assert_array_equal(norms, gl.input_gradient_norms(layers, x))
        assert 0 <= gl.memory_horizon(norms) <= 59
        # gradients decay with distance: the last input matters more than the first one
        assert norms[-1] > norms[0]
    assert gl.memory_horizon(np.array([1e-5, 0.02, 0.5, 1.0])) == 2
    assert gl.memory_horizon(np.array([0.0, 0.0, 1.0])) == 0


def test_decay_per_step_and_memory_summary():
    norms = 0.8 ** np.arange(30)[::-1]  # (T,) each step back multiplies by 0.8
    assert gl.decay_per_step(norms) == pytest.approx(0.8)
    assert gl.decay_per_step(np.zeros(30)) is None
    gates = {"lstm": {"i": 0.5, "f": 0.73, "o": 0.5}}
    text = gl.memory_summary({"simple_rnn": norms, "the layer on screen": np.zeros(30)}, gates)
    assert "as far back as 20 steps with SimpleRNN" in text  # 0.8^20 >= 1% > 0.8^21
    assert "×0.80 with SimpleRNN" in text
    assert "The gradient of the layer on screen is exactly 0 at every timestep" in text
    assert "forget gate averages 0.73" in text


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_bars_are_what_their_labels_say(reset_after):
    """Every GRU bar recomputed from the weights: U·h is h·U, b' the recurrent bias, and the
    candidate's reset-gated term is r⊙(U·h+b') (reset_after) or U·(r⊙h) (reset before)."""
    rng = np.random.default_rng(5)
    hn, f = 4, 3
    w = nr.random_weights("gru", f, hn, "uniform01", rng, reset_after, dtype=np.float64)
    x = rng.uniform(-1, 1, (6, f))  # (T, F)
    traces = nr.forward([w], x)
    t, j = 4, 2
    s = nr.step_at([w], traces, x, 0, t)
    blocks, _ = nr.unit_terms(s, j)
    h_prev = traces[0].h[t - 1]  # (H,)
    k, u = w.kernel, w.recurrent_kernel  # (F, 3H), (H, 3H)
    b_in = w.bias[0] if reset_after else w.bias  # (3H,)
    r = traces[0].gates["r"][t, j]
    r_all = traces[0].gates["r"][t]  # (H,)
    for name, terms in blocks.items():
        col = "zrh".index(name) * hn + j
        assert terms["W·x"] == pytest.approx(x[t] @ k[:, col])
        assert terms["b"] == pytest.approx(b_in[col])
        if reset_after:
            assert terms["U·h"] == pytest.approx(h_prev @ u[:, col])
            assert terms["b'"] == pytest.approx(w.bias[1, col])
        if name == "h" and reset_after:
            want = r * (h_prev @ u[:, col] + w.bias[1, col])
            assert terms["r⊙(U·h+b')"] == pytest.approx(want)
            assert nr.block_sum_keys(terms) == ("W·x", "r⊙(U·h+b')", "b")
        elif name == "h":
            assert "U·h" not in terms and "b'" not in terms
            assert terms["U·(r⊙h)"] == pytest.approx((r_all * h_prev) @ u[:, col])
        else:
            assert terms["U·h"] == pytest.approx(h_prev @ u[:, col])
        total = sum(terms[key] for key in nr.block_sum_keys(terms))
        assert total == pytest.approx(terms["pre-activation"])
