"""IMDB read several words per timestep: config, model, gradient lens, stepper, training, export."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import ImdbConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.models import build_sequence_classifier
from tests.tiny_data import write_imdb

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

VOCAB, MAXLEN, E = 40, 12, 4


def _model(k: int, pooling: str = "max", cell: str = "LSTM") -> object:
    """A tiny Embedding -> RNN -> sigmoid classifier reading ``k`` words per step."""
    cfg = ModelConfig(cell=cell, units=5, embedding_dim=E, pooling=pooling, seed=2)
    model = build_sequence_classifier(cfg, (MAXLEN,), 2, VOCAB, per_step=k)
    rng = np.random.default_rng(5)
    model.set_weights([w + rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    return model


def _ids(n: int = 3, seed: int = 0) -> np.ndarray:
    """Pre-padded review ids (N, MAXLEN): zeros, <START>, words."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, MAXLEN), np.int64)  # (N, T)
    for i in range(n):
        length = int(rng.integers(3, MAXLEN + 1))
        x[i, MAXLEN - length :] = np.r_[1, rng.integers(3, VOCAB, length - 1)]
    return x


def test_config_refuses_a_count_not_offered() -> None:
    assert ImdbConfig().words_per_step == 1
    with pytest.raises(ValueError, match="words per step must be one of 1, 2, 4, 8, got 3"):
        ImdbConfig(maxlen=300, words_per_step=3)
    with pytest.raises(ValueError, match="words per step must be one of"):
        ImdbConfig(words_per_step=True)


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_any_maxlen_is_widened_with_padding_to_whole_steps(tmp_path: Path, padding: str) -> None:
    from rnn_core.tasks.imdb import encode_for_model, make_imdb_data, padded_width

    data_dir = str(write_imdb(tmp_path / "d"))
    one = make_imdb_data(ImdbConfig(num_words=40, maxlen=30, padding=padding, data_dir=data_dir))
    cfg = ImdbConfig(num_words=40, maxlen=30, padding=padding, words_per_step=4, data_dir=data_dir)
    four = make_imdb_data(cfg)
    assert padded_width(cfg) == 32 and four.x_train.shape[1] == four.x_test.shape[1] == 32
    kept = slice(2, None) if padding == "pre" else slice(0, 30)  # the 30 columns maxlen keeps
    np.testing.assert_array_equal(four.x_test[:, kept], one.x_test)  # the same cut, same words
    np.testing.assert_array_equal(four.x_train[:, kept], one.x_train)
    extra = slice(0, 2) if padding == "pre" else slice(30, 32)
    assert not four.x_test[:, extra].any()  # two more padding zeros, on the padding side
    x, _, _ = encode_for_model("a fine film " * 20, four.word_index, cfg)  # 61 tokens, cut
    np.testing.assert_array_equal(x[:, kept], encode_for_model("a fine film " * 20,
                                  one.word_index, one.config)[0])  # fmt: skip
    assert x.shape == (1, 32) and not x[:, extra].any()


@pytest.mark.parametrize("k", [2, 4])
def test_the_rnn_reads_k_word_vectors_side_by_side(k: int) -> None:
    model = _model(k)
    rnn = model.get_layer("rnn_1")
    assert tuple(rnn.input.shape) == (None, MAXLEN // k, k * E)  # (B, T/k, k*E)
    one = _model(1)
    extra = (k - 1) * E * 4 * 5  # the LSTM's input kernel grows with its input width
    assert model.count_params() == one.count_params() + extra
    x = _ids()
    table = model.get_layer("embedding").get_weights()[0]  # (V, E)
    seen = np.asarray(keras.Model(model.input, model.get_layer("words_per_step").output)(x))
    want = table[x].reshape(len(x), MAXLEN // k, k * E)  # words t*k .. t*k+k-1 at step t
    np.testing.assert_allclose(seen, want)
    np.testing.assert_array_equal(seen[:, 1, :E], table[x[:, k]])  # step 1 starts at word k


def _tape(model, ids: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """d logit / d (the embedded words as the RNN reads them) by tf.GradientTape."""
    emb = model.get_layer("embedding")
    seq = tf.constant(emb(tf.constant(ids[None])))  # (1, T, E)
    with tf.GradientTape() as tape:
        tape.watch(seq)
        h = model.get_layer("words_per_step")(seq)  # (1, T/k, k*E)
        top, pooled = None, []
        for lay in model.layers[3:-1]:  # the recurrent layer, then pooling
            if type(lay).__name__.startswith("Global"):  # each pooling reads the top h_t
                top = h if top is None else top
                pooled.append(lay(top))
                h = pooled[-1]
            elif type(lay).__name__ == "Concatenate":  # max and mean side by side
                h = lay(pooled)
            else:
                h = lay(h)
        head = model.layers[-1]
        logit = (tf.matmul(h, head.kernel) + head.bias)[0, 0]
    grad = tape.gradient(logit, seq).numpy()[0].astype(np.float64)  # (T, E)
    k = model.get_layer("words_per_step").target_shape[-1] // E
    return grad.reshape(MAXLEN // k, k * E)  # (T/k, k*E)


@pytest.mark.parametrize("pooling", ["last", "max", "max+mean"])
@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_the_gradient_lens_differentiates_what_each_step_reads(cell: str, pooling: str) -> None:
    from rnn_core.stepper.gradient_lens import logit_lens

    model = _model(2, pooling, cell)
    ids = _ids(1, seed=4)[0]
    lens = logit_lens(model, ids)
    want = _tape(model, ids)
    assert lens.gradients.shape == (MAXLEN // 2, 2 * E)
    assert np.linalg.norm(lens.gradients - want) / np.linalg.norm(want) <= 1e-4
    p = float(np.asarray(model(ids[None]))[0, 0])
    assert abs(1 / (1 + np.exp(-lens.logit)) - p) <= 1e-5  # the lens's logit is the model's


def test_the_stepper_shows_each_step_as_its_words() -> None:
    from rnn_core.stepper.numpy_rnn import forward, weights_from_keras
    from rnn_core.stepper.sources import PAD, imdb_input, recurrent_stack

    model = _model(4)
    x = _ids(2, seed=1)
    x[0] = [0, 0, 0, 0, 0, 0, 1, 5, 6, 7, 8, 9]  # 6 pads, <START>, 5 words
    words = {f"w{r}": r - 3 for r in range(4, VOCAB)}  # model id r reads as w{r}
    data = types.SimpleNamespace(
        x_test=x, y_test=np.array([1.0, 0.0]), word_index=words, config=ImdbConfig(maxlen=12)
    )
    got = imdb_input(model, data, 0)
    assert got["label_kind"] == "words"
    assert got["labels"][0] == PAD  # four pads read as one padding step
    assert got["labels"][1] == f"{PAD} {PAD} <START> w5"  # a step can mix padding and words
    assert got["labels"][2] == "w6 w7 w8 w9"
    assert got["span"] == (1, 3)
    assert got["x"].shape == (3, 4 * E)
    assert "4 words per timestep" in got["note"] and "12 tokens take 3 timesteps" in got["note"]
    stack = weights_from_keras(recurrent_stack(model))
    states = forward(stack, got["x"].astype(np.float64))[-1].h  # (T/k, H)
    own = keras.Model(model.input, model.get_layer("rnn_1").output)(x[:1])  # (1, T/k, H)
    np.testing.assert_allclose(states, np.asarray(own)[0], atol=1e-5)


@pytest.mark.parametrize(("maxlen", "by_length"), [(60, True), (62, True), (62, False)])
def test_imdb_trains_reading_four_words_per_step(
    tmp_path: Path, maxlen: int, by_length: bool
) -> None:
    from rnn_core.run import start_run

    spec = RunSpec(
        task="imdb",
        data=ImdbConfig(
            num_words=40, maxlen=maxlen, words_per_step=4,
            data_dir=str(write_imdb(tmp_path / "d")), val_fraction=0.25,
        ),
        model=ModelConfig(cell="LSTM", units=6, embedding_dim=4, pooling="max"),
        train=TrainConfig(epochs=2, batch_size=8, learning_rate=1e-2, batch_by_length=by_length),
    )  # fmt: skip
    run = start_run(spec, None, in_process=True)
    steps = None if by_length else 16  # 62 tokens widen to 64: 16 steps of 4
    assert tuple(run.job.model.get_layer("rnn_1").input.shape) == (None, steps, 16)
    run.job.start()
    snap = run.job.wait(120)
    assert snap.state == "done", snap.error
    assert len(snap.epoch_logs) == 2 and np.isfinite(snap.epoch_logs[-1]["val_loss"])
    assert 0.0 <= run.score().accuracy <= 1.0


def test_export_cli_link_and_form_carry_the_setting() -> None:
    from pages._train_form import shown
    from rnn_core.cli import build_parser, spec_from_args
    from rnn_core.export import model_code
    from rnn_core.links import from_query, to_query
    from rnn_core.tasks import get_task

    argv = ["train", "--task", "imdb", "--maxlen", "30", "--words-per-step", "4"]
    spec = spec_from_args(build_parser().parse_args(argv))
    assert (spec.data.words_per_step, spec.data.maxlen) == (4, 30)
    script = get_task("imdb").keras_code(spec).data  # the exported data lines widen to 32
    assert 'pad_sequences(a, maxlen=32, padding="pre")' in script
    assert from_query(to_query(spec)) == spec
    assert [t for t in ("imdb", "mnist", "addition", "forecast")
            if ("data", "words_per_step") in shown(get_task(t))] == ["imdb"]  # fmt: skip
    cfg = ModelConfig(cell="GRU", units=3, embedding_dim=E, pooling="max")
    code = model_code(RunSpec(task="imdb", data=ImdbConfig(maxlen=MAXLEN, words_per_step=2),
                              model=cfg))  # fmt: skip
    assert "Reshape((-1, 8))" in code
    ns = {"keras": keras, "NUM_WORDS": VOCAB, "MAXLEN": MAXLEN}
    exec(code, ns)
    ours = build_sequence_classifier(cfg, (MAXLEN,), 2, VOCAB, per_step=2)
    ns["model"].set_weights(ours.get_weights())
    x = _ids()
    np.testing.assert_allclose(np.asarray(ns["model"](x)), np.asarray(ours(x)), atol=1e-5)
    assert "Reshape" not in model_code(RunSpec(task="imdb", data=ImdbConfig(), model=cfg))
