"""Stepper inputs: seed 001's demo, random weights, and tiny trained IMDB / MNIST / addition models.

The trained-model tests build IMDB- and MNIST-shaped Keras models with the app's own builder,
move every weight off its initialiser (seeded noise, what training would do, without the
seconds Keras spends tracing a first fit), and check that the NumPy numbers the stepper shows
reproduce the model: parity of every h_t, the final prediction, and the gradient lens against
tf.GradientTape through the real Dense head.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.stepper import numpy_rnn as nr
from rnn_core.stepper import sources as ss
from rnn_core.stepper.gradient_lens import input_gradients
from rnn_core.stepper.view import build_case, heat_scale, step_view
from tests import tiny_classifiers as tiny
from tests.tiny_classifiers import MAXLEN

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _off_initialisers(model, seed: int = 0) -> None:
    """Add seeded noise to every weight (biases included), so no weight is its initialiser."""
    rng = np.random.default_rng(seed)
    before = [w.copy() for w in model.get_weights()]
    model.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in before])
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


@pytest.fixture(scope="module")
def imdb_run():
    """A 2-layer GRU review classifier (Embedding -> GRU -> GRU -> Dense sigmoid) and its data."""
    _, _, data = tiny.imdb_data()
    model = tiny.build(tiny.spec("imdb", "GRU", 6, 2))
    _off_initialisers(model)
    return model, data


@pytest.fixture(scope="module")
def mnist_run():
    """A 2-layer SimpleRNN digit reader (28 rows of 28 pixels -> Dense softmax) and its data."""
    _, _, data = tiny.mnist_data()
    model = tiny.build(tiny.spec("mnist", "SimpleRNN", 7, 2, seed=4))
    _off_initialisers(model, seed=1)
    return model, data


def test_random_input_is_seed001_demo_and_shares_the_input():
    demo_x, demo_w = nr.seed001_demo(np.random.default_rng(1))
    inp = ss.random_input("simple_rnn", "uniform01")
    np.testing.assert_array_equal(inp.x, demo_x)
    np.testing.assert_array_equal(inp.layers[0].kernel, demo_w.kernel)
    assert inp.timesteps == 100 and inp.layers[0].units == 64 and "seed 001" in inp.title
    gru = ss.random_input("gru", "keras_default", reset_after=False)
    np.testing.assert_array_equal(gru.x, demo_x)  # same input, only the weights differ
    assert not gru.layers[0].reset_after and gru.layers[0].bias.shape == (192,)
    assert ss.random_input("gru", "keras_default").layers[0].bias.shape == (2, 192)
    assert "seed 001" not in gru.title and "reset_after=False" in gru.title


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_keras_twin_runs_the_same_numbers(kind):
    for scheme in ("uniform01", "keras_default"):
        inp = ss.random_input(kind, scheme, timesteps=30, units=9, features=4)
        twin = ss.keras_twin(inp.layers)
        assert nr.parity_max_abs_diff(list(inp.layers), inp.x, twin) <= 1e-9  # float64


def test_token_words_and_choices(imdb_run):
    _, data = imdb_run
    words = ss.token_words([0, 1, 2, 4, 5, 999], data.word_index)
    assert words == ["<PAD>", "<START>", "<OOV>", "w1", "w2", "<UNK>"]
    assert ss.token_words([4, 7], None) == ["#4", "#7"]
    choices = ss.test_choices("imdb", data, limit=3)
    assert len(choices) == 3
    n_words = int(np.sum(data.x_test[0] > 1))
    tone = "positive" if data.y_test[0] > 0 else "negative"
    assert choices[0].startswith(f"#0 ({tone}, {n_words} words): ")
    with pytest.raises(ValueError, match="unknown task 'poetry'"):
        ss.test_choices("poetry", data)
    with pytest.raises(ValueError, match="does not know the task 'text'"):
        ss.test_choices("text", data)  # registered, but the stepper cannot open it


def test_imdb_input_reproduces_the_model(imdb_run):
    model, data = imdb_run
    index = 3
    ids = data.x_test[index]
    inp = ss.trained_input(model, "imdb", data, index, "GRU 6×2")
    assert [w.kind for w in inp.layers] == ["gru", "gru"] and inp.label_kind == "word"
    emb = model.get_layer("embedding").get_weights()[0]  # (V, E)
    np.testing.assert_allclose(inp.x, emb[ids], rtol=1e-6)  # one embedding row per word
    first = int(np.nonzero(ids)[0][0])
    assert inp.span == (first, MAXLEN) and inp.labels[first] == "<START>"
    assert set(inp.labels[:first]) <= {"<PAD>"}
    stack = ss.recurrent_stack(model)
    assert nr.parity_max_abs_diff(list(inp.layers), inp.x, stack) <= 1e-5
    # NumPy's last state through the Dense head gives the model's own probability
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(inp.readout, kernel[:, 0], rtol=1e-6)
    h_last = nr.forward(list(inp.layers), inp.x)[-1].h[-1]  # (H,)
    p_numpy = 1 / (1 + np.exp(-(h_last @ kernel[:, 0] + bias[0])))
    p_keras = float(model.predict_on_batch(ids[None])[0, 0])
    assert abs(p_numpy - p_keras) <= 1e-5
    assert f"P(positive) = **{p_keras:.3f}**" in inp.prediction
    # the lens differentiates exactly that logit: check it with GradientTape through Keras
    xv = tf.Variable(inp.x[None].astype(np.float32))  # (1, T, E)
    with tf.GradientTape() as tape:
        h = xv
        for lay in stack:
            h = lay(h)
        logit = tf.reduce_sum(h * kernel[:, 0])
    expected = tape.gradient(logit, xv).numpy()[0]  # (T, E)
    got = input_gradients(list(inp.layers), inp.x, inp.readout)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-6 * np.abs(expected).max())


def test_mnist_input_reproduces_the_model(mnist_run):
    model, data = mnist_run
    inp = ss.trained_input(model, "mnist", data, 2, "SimpleRNN 7×2")
    np.testing.assert_array_equal(inp.x, data.x_test[2])
    np.testing.assert_array_equal(inp.image, data.x_test[2])
    assert inp.labels[5] == "row 5" and inp.span == (0, 28) and inp.timesteps == 28
    assert nr.parity_max_abs_diff(list(inp.layers), inp.x, ss.recurrent_stack(model)) <= 1e-5
    probs = model.predict_on_batch(data.x_test[2:3])[0]  # (10,)
    guess = int(probs.argmax())
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(inp.readout, kernel[:, guess], rtol=1e-6)
    logits = nr.forward(list(inp.layers), inp.x)[-1].h[-1] @ kernel + bias  # (10,)
    soft = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(soft, probs, atol=1e-5)
    assert f"reads **{guess}**" in inp.prediction
    assert f"true digit is **{int(data.y_test[2])}**" in inp.prediction
    assert ss.test_choices("mnist", data, 2) == [
        f"#0: a handwritten {int(data.y_test[0])}",
        f"#1: a handwritten {int(data.y_test[1])}",
    ]


def test_mnist_input_of_two_rows_per_step_reproduces_the_model() -> None:
    _, _, data = tiny.mnist_data(rows_per_step=2)
    model = tiny.build(tiny.spec("mnist", "GRU", 5, 1, seed=4, rows_per_step=2))
    _off_initialisers(model, seed=2)
    inp = ss.trained_input(model, "mnist", data, 1, "GRU 5×1")
    np.testing.assert_array_equal(inp.x, data.x_test[1])  # (14, 56)
    np.testing.assert_array_equal(inp.image, data.x_test[1].reshape(28, 28))
    assert inp.timesteps == 14 and inp.span == (0, 14) and inp.rows_per_step == 2
    assert inp.labels[0] == "rows 0–1" and inp.labels[13] == "rows 26–27"
    assert nr.parity_max_abs_diff(list(inp.layers), inp.x, ss.recurrent_stack(model)) <= 1e-5
    probs = model.predict_on_batch(data.x_test[1:2])[0]  # (10,)
    assert f"reads **{int(probs.argmax())}**" in inp.prediction
    case = build_case(inp, ("k",), "the trained model")
    view = step_view(inp, case.traces, 0, 3, 0)
    assert view.reads.startswith("pixel **rows 6–7** of the image")
    (box,) = view.digit_fig.layout.shapes  # the two rows read at t = 3
    assert (box.y0, box.y1) == (5.5, 7.5)


def test_addition_input_is_the_encoder(tiny_run):
    _, data, model, spec = tiny_run("LSTM", epochs=1)
    _off_initialisers(model, seed=2)
    inp = ss.trained_input(model, "addition", data, 0, "LSTM 8×1")
    assert len(inp.layers) == spec.model.layers  # the encoder only, not the decoder
    a, b = data.test_pairs[0]
    assert "".join(inp.labels).replace("␣", " ").strip() in (f"{a}+{b}", f"{a}+{b}"[::-1])
    assert nr.parity_max_abs_diff(list(inp.layers), inp.x, ss.recurrent_stack(model)) <= 1e-5
    assert f"**{a}+{b}**" in inp.prediction and inp.readout is None


def test_models_the_stepper_cannot_show():
    inp = keras.Input((5, 3))
    bi = keras.Model(inp, keras.layers.Bidirectional(keras.layers.LSTM(4))(inp))
    with pytest.raises(ValueError, match="Bidirectional"):
        ss.recurrent_stack(bi)
    dense = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(inp)))
    with pytest.raises(ValueError, match="no SimpleRNN, LSTM or GRU"):
        ss.recurrent_stack(dense)


def test_step_view_of_a_trained_review(imdb_run):
    """What one redraw shows on a review: the words, the step's equation and the gate window."""
    model, data = imdb_run
    inp = ss.trained_input(model, "imdb", data, 1, "GRU 6×2")
    case = build_case(inp, ("k",), "the trained model")
    assert set(case.lens) == {"the trained model", "simple_rnn", "lstm", "gru"}
    assert all(v.shape == (MAXLEN,) for v in case.lens.values())
    t = inp.span[0] + 1
    view = step_view(inp, case.traces, 1, t, 2)  # the second layer reads the first one's h
    assert "layer 1" in view.reads and view.gates_fig is not None
    np.testing.assert_allclose(view.terms.h_t, case.traces[1].h[t], atol=1e-6)
    assert view.words_html.count("<span") == inp.span[1] - inp.span[0]
    assert view.words_html.count("outline") == 1  # the word at t is boxed
    first = step_view(inp, case.traces, 0, t, 0)
    assert first.reads == f"the word **{inp.labels[t]}**"
    pad = step_view(inp, case.traces, 0, 0, 0)
    assert pad.reads == "padding (no word)" and "outline" not in pad.words_html


def test_step_view_memo_moves_markers_and_scales_colours(imdb_run):
    model, data = imdb_run
    inp = ss.trained_input(model, "imdb", data, 0, "GRU 6×2")
    case = build_case(inp, ("k",), "the trained model")
    memo: dict = {}
    a = step_view(inp, case.traces, 0, 3, 1, memo)
    b = step_view(inp, case.traces, 0, 7, 1, memo)
    assert b.hidden_fig is a.hidden_fig and len(memo) == 2  # built once: hidden + gates
    assert [s.x0 for s in b.hidden_fig.layout.shapes] == [7]
    assert {s.x0 for s in b.gates_fig.layout.shapes} == {7}
    fresh = step_view(inp, case.traces, 0, 7, 1)  # no memo: the same figure, built anew
    assert fresh.hidden_fig.to_json() == b.hidden_fig.to_json()
    assert heat_scale(np.array([0.9, -0.1])) == 1.0
    assert heat_scale(np.array([-0.2, 0.1])) == pytest.approx(0.2)
    assert b.hidden_fig.data[0].zmax == pytest.approx(heat_scale(case.traces[0].h))


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_pooled_review_lens_is_the_true_logit_gradient(pooling):
    """Max/mean pooling: the lens is the logit's gradient through the pooling, and says so."""
    from rnn_core.config import ModelConfig
    from rnn_core.models import build_sequence_classifier
    from rnn_core.stepper.gradient_lens import memory_summary

    x, y, data = tiny.imdb_data()
    cfg = ModelConfig(cell="LSTM", units=5, pooling=pooling, embedding_dim=4, seed=2)
    model = build_sequence_classifier(cfg, (MAXLEN,), 2, tiny.VOCAB)
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.4, w.shape) for w in model.get_weights()])
    inp = ss.trained_input(model, "imdb", data, 2, "LSTM 5×1")
    xv = tf.Variable(inp.x[None].astype(np.float32))  # (1, T, E)
    kernel, bias = model.layers[-1].get_weights()
    with tf.GradientTape() as tape:
        h = model.get_layer("rnn_1")(xv)  # (1, T, H)
        h = tf.reduce_max(h, axis=1) if pooling == "max" else tf.reduce_mean(h, axis=1)
        logit = tf.reduce_sum(h * kernel[:, 0]) + bias[0]
    want = np.linalg.norm(tape.gradient(logit, xv).numpy()[0], axis=1)  # (T,)
    case = build_case(inp, ("k",), "the trained model")
    np.testing.assert_allclose(case.lens["the trained model"], want, rtol=1e-4, atol=1e-7)
    word = "maximum over time" if pooling == "max" else "mean over time"
    assert word in inp.readout_text and f"({pooling} pooling)" in inp.readout_text
    assert "logit of P(positive)" in inp.readout_text and "h_T" not in inp.readout_text
    tip = inp.lens.tip(inp.labels)
    assert f"({pooling} pooling)" in tip
    if pooling == "max":
        k = int(np.argmax(np.abs(inp.readout)))
        assert f"t = {inp.lens.peaks[k]} ({inp.labels[inp.lens.peaks[k]]})" in tip
    text = memory_summary(case.lens, case.gate_means, 0.01, {case.own: inp.readout_text})
    assert f"for the trained model, {inp.readout_text}" in text
    assert "for SimpleRNN, LSTM, GRU, the mean of the last hidden state h_T" in text


def test_last_state_head_says_h_T(mnist_run):
    model, data = mnist_run
    inp = ss.trained_input(model, "mnist", data, 2, "SimpleRNN 7×2")
    assert inp.lens.pooling == "last" and inp.lens.head == "multiclass"
    assert inp.readout_text.startswith(f"the logit of class {inp.lens.class_index}")
    assert inp.readout_text.endswith("from the last hidden state h_T")
    assert "reads the last state h_T" in inp.lens.tip(inp.labels)
