"""logit_gradients: NumPy BPTT through cells, pooling and Dense head vs tf.GradientTape."""

from __future__ import annotations

import numpy as np
import pytest

import rnn_core
from rnn_core.config import ModelConfig
from rnn_core.stepper import logit_lens
from rnn_core.stepper.gradient_lens import logit_gradients
from tests.conftest import SHARED_DATA
from tests.skip_policy import needs_shared

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

T, F, VOCAB = 12, 5, 30


def _tape_gradient(model, x, class_index=None):  # noqa: ANN001, ANN202
    """d logit / d (first recurrent layer's input) by tf.GradientTape, layer by layer."""
    layers = [lay for lay in model.layers if type(lay).__name__ != "InputLayer"]
    seq = tf.constant(x[None])  # (1, T) ids or (1, T, F)
    if type(layers[0]).__name__ == "Embedding":
        seq, layers = layers[0](seq), layers[1:]  # (1, T, E)
    seq = tf.cast(seq, model.layers[-1].kernel.dtype)
    head = layers[-1]
    with tf.GradientTape() as tape:
        tape.watch(seq)
        h, top, pooled = seq, None, []
        for lay in layers[:-1]:
            kind = type(lay).__name__
            if kind.startswith("Global"):  # every pooling reads the top recurrent layer's h_t
                top = h if top is None else top
                pooled.append(lay(top))
                h = pooled[-1]
            elif kind == "Concatenate":  # max and mean, side by side
                h = lay(pooled)
            else:
                h = lay(h, training=False)
        logits = tf.matmul(h, head.kernel) + head.bias  # (1, C): pre-activation of the head
        c = int(tf.argmax(logits[0])) if class_index is None else class_index
        target = logits[0, c]
    return tape.gradient(target, seq).numpy()[0].astype(np.float64), c  # (T, F)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ||a - b|| / ||b||."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _model(cell: str, pooling: str, layers: int, classes: int, embed: bool, **gru) -> object:
    """A small float32 classifier like the app's, with non-zero biases and spread-out weights."""
    from rnn_core.models import build_sequence_classifier

    cfg = ModelConfig(cell=cell, units=6, layers=layers, pooling=pooling, embedding_dim=F)
    if gru:  # GRU reset_after=False: built by hand (the app's builder uses Keras's default)
        inp = keras.Input((T, F))
        h = inp
        for i in range(layers):
            seqs = pooling != "last" or i < layers - 1
            h = keras.layers.GRU(6, return_sequences=seqs, **gru)(h)
        if pooling == "max":
            h = keras.layers.GlobalMaxPooling1D()(h)
        elif pooling == "mean":
            h = keras.layers.GlobalAveragePooling1D()(h)
        act = "sigmoid" if classes == 2 else "softmax"
        out = keras.layers.Dense(1 if classes == 2 else classes, activation=act)(h)
        model = keras.Model(inp, out)
    else:
        shape = (T,) if embed else (T, F)
        model = build_sequence_classifier(cfg, shape, classes, VOCAB if embed else None)
    rng = np.random.default_rng(7)
    model.set_weights([w + rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    return model


def _input(embed: bool, seed: int = 0) -> np.ndarray:
    """One input sequence: ids (T,) for an Embedding model, else (T, F) features."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, VOCAB, T) if embed else rng.normal(0, 1, (T, F))


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("pooling", ["last", "max", "mean", "max+mean"])
@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_logit_gradients_match_gradient_tape(cell: str, pooling: str, layers: int) -> None:
    binary = _model(cell, pooling, layers, 2, embed=True)  # Embedding -> RNN -> sigmoid
    ids = _input(True)
    want, _ = _tape_gradient(binary, ids)
    got = logit_gradients(binary, ids)
    assert got.shape == (T, F)
    assert _rel(got, want) <= 1e-4
    multi = _model(cell, pooling, layers, 4, embed=False)  # (T, F) features -> softmax
    x = _input(False)
    want, predicted = _tape_gradient(multi, x)
    lens = logit_lens(multi, x)
    assert lens.class_index == predicted and lens.head == "multiclass"
    assert _rel(lens.gradients, want) <= 1e-4
    other = (predicted + 1) % 4
    assert _rel(logit_gradients(multi, x, other), _tape_gradient(multi, x, other)[0]) <= 1e-4


@pytest.mark.parametrize("pooling", ["last", "max"])
def test_gru_reset_before_matches_gradient_tape(pooling: str) -> None:
    model = _model("GRU", pooling, 2, 2, embed=False, reset_after=False)
    x = _input(False, seed=3)
    assert _rel(logit_gradients(model, x), _tape_gradient(model, x)[0]) <= 1e-4


def test_the_old_last_state_readout_is_wrong_under_pooling() -> None:
    """Differentiating w·h_T (what the page did) is not the logit's gradient under max pooling."""
    from rnn_core.stepper.gradient_lens import input_gradients
    from rnn_core.stepper.numpy_rnn import weights_from_keras

    model = _model("LSTM", "max", 1, 2, embed=False)
    x = _input(False)
    lens = logit_lens(model, x)
    old = input_gradients(weights_from_keras(model), x, lens.readout)
    assert _rel(old, _tape_gradient(model, x)[0]) > 0.1
    assert lens.pooling == "max" and lens.peaks is not None and lens.peaks.shape == (6,)
    h = keras.Model(model.inputs, model.layers[-3].output)(x[None])[0].numpy()  # (T, H)
    np.testing.assert_array_equal(lens.peaks, h.argmax(axis=0))


def test_max_and_mean_side_by_side_name_both_halves_and_refuse_the_other_order() -> None:
    model = _model("GRU", "max+mean", 1, 2, embed=True)
    ids = _input(True, seed=5)
    lens = logit_lens(model, ids)
    states = keras.Model(model.inputs, model.get_layer("rnn_1").output)
    h = states.predict_on_batch(ids[None])[0]  # (T, H)
    np.testing.assert_array_equal(lens.peaks, h.argmax(axis=0))
    top, weights = lens.max_half
    np.testing.assert_allclose(top, h.max(axis=0), rtol=1e-5)
    np.testing.assert_allclose(lens.pooled[6:], h.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(weights, model.get_layer("probability").kernel.numpy()[:6, 0])
    labels = [f"w{t}" for t in range(T)]
    k = int(np.argmax(np.abs(lens.readout)))
    unit = f"the mean of unit {k - 6}" if k >= 6 else f"the maximum of unit {k}"
    assert unit in lens.tip(labels) and "side by side" in lens.target()
    inp = keras.Input((T, F))
    seqs = keras.layers.LSTM(4, return_sequences=True)(inp)
    top, avg = keras.layers.GlobalMaxPooling1D()(seqs), keras.layers.GlobalAveragePooling1D()(seqs)
    out = keras.layers.Dense(1, "sigmoid")(keras.layers.Concatenate()([avg, top]))
    with pytest.raises(ValueError, match="must join the max pooling, then the mean"):
        logit_gradients(keras.Model(inp, out), _input(False))  # mean first: the halves swapped


def test_refuses_what_it_cannot_differentiate() -> None:
    from rnn_core.models import build_sequence_classifier

    cfg = ModelConfig(cell="LSTM", units=4, bidirectional=True)
    bi = build_sequence_classifier(cfg, (T, F), 2)
    with pytest.raises(ValueError, match="Bidirectional"):
        logit_gradients(bi, _input(False))
    dense = build_sequence_classifier(ModelConfig(cell="Dense", units=4), (T, F), 2)
    with pytest.raises(ValueError, match="Flatten"):
        logit_gradients(dense, _input(False))


def test_reexported_from_the_package() -> None:
    assert rnn_core.logit_gradients is logit_gradients


@pytest.mark.slow  # real data
@needs_shared("imdb.npz")
def test_shipped_imdb_model_against_gradient_tape() -> None:
    """The pretrained imdb-lstm (max pooling) on real test reviews of about 120 words."""
    from rnn_core import pretrained
    from rnn_core.data.loaders import load_imdb

    snap = pretrained.read_snapshot(pretrained.ASSETS / "imdb-lstm.json")
    model = pretrained.build_model(snap)
    cfg = snap.spec.data
    _, (x_test, _) = load_imdb(num_words=cfg.num_words, data_dir=SHARED_DATA)
    picked = [r for r in x_test[:400] if 100 <= len(r) <= 140][:2]
    assert picked
    for review in picked:
        ids = np.zeros(cfg.maxlen, np.int64)
        ids[-len(review) :] = review  # pre-padded, as the task pads
        lens = logit_lens(model, ids)
        assert lens.pooling == "max" and lens.head == "binary"
        want, _ = _tape_gradient(model, ids)
        assert _rel(lens.gradients, want) <= 1e-4
        # the gradient enters where each unit peaks, not at h_T alone
        assert lens.peaks is not None and int(lens.peaks.max()) < cfg.maxlen
