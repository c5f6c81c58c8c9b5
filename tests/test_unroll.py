"""An unrolled RNN (``ModelConfig.unroll``): the same model as the loop, refused where a
sequence is long or of no fixed length, and carried by the CLI and the exported script."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.cli import build_parser, spec_from_args
from rnn_core.config import AdditionConfig, ModelConfig, RunSpec
from rnn_core.export import model_code
from rnn_core.models import MAX_UNROLL, build_seq2seq, build_sequence_classifier


def _rnn_layers(model) -> list:
    """The recurrent layers of a model, in order."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_an_unrolled_seq2seq_computes_what_the_loop_computes(cell: str) -> None:
    loop = build_seq2seq(ModelConfig(cell=cell, units=8, seed=3), 7, 12, 4)
    unrolled = build_seq2seq(ModelConfig(cell=cell, units=8, seed=3, unroll=True), 7, 12, 4)
    assert [r.unroll for r in _rnn_layers(unrolled)] == [True, True]
    assert [r.unroll for r in _rnn_layers(loop)] == [False, False]
    x = np.random.default_rng(0).random((5, 7, 12)).astype("float32")  # (B, T_in, V)
    a = np.asarray(loop.predict_on_batch(x))  # (B, T_out, V)
    b = np.asarray(unrolled.predict_on_batch(x))  # (B, T_out, V)
    assert a.shape == (5, 4, 12)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_an_unrolled_classifier_reads_a_fixed_short_sequence() -> None:
    cfg = ModelConfig(cell="GRU", units=4, unroll=True, pooling="max")
    model = build_sequence_classifier(cfg, (14, 56), 10)
    assert [r.unroll for r in _rnn_layers(model)] == [True]


def test_unroll_is_refused_on_long_or_unfixed_sequences() -> None:
    cfg = ModelConfig(cell="LSTM", units=4, unroll=True)
    with pytest.raises(ValueError, match=f"at most {MAX_UNROLL} timesteps, this model reads 400"):
        build_sequence_classifier(cfg, (400,), 2, vocab_size=50)
    with pytest.raises(ValueError, match="fixed length"):
        build_sequence_classifier(cfg, (None,), 2, vocab_size=50)  # IMDB batched by length
    from rnn_core.tasks.text import build_text_model

    with pytest.raises(ValueError, match="fixed length"):
        build_text_model(cfg, vocab_size=20)
    from types import SimpleNamespace

    from rnn_core.config import ImdbConfig, TrainConfig
    from rnn_core.tasks import get_task

    data = SimpleNamespace(x_train=np.zeros((2, 20), np.int32), config=ImdbConfig(num_words=50))
    imdb = RunSpec("imdb", data.config, cfg, TrainConfig(batch_by_length=True))
    with pytest.raises(ValueError, match="batching by length cuts each batch"):
        get_task("imdb").build(imdb, data)
    dense = ModelConfig(cell="Dense", units=4, unroll=True)  # no loop to unroll: no error
    assert build_sequence_classifier(dense, (400,), 2, vocab_size=50).count_params() > 0


def test_the_cli_and_the_exported_script_carry_unroll() -> None:
    import keras

    spec = spec_from_args(build_parser().parse_args(["train", "--task", "addition", "--unroll"]))
    assert spec.model.unroll
    spec = RunSpec(data=AdditionConfig(digits=2), model=ModelConfig(units=6, unroll=True))
    ns = {"keras": keras, "T_IN": 5, "T_OUT": 3, "VOCAB": "0123456789+ "}
    exec(model_code(spec), ns)
    assert [r.unroll for r in _rnn_layers(ns["model"])] == [True, True]
    argv = ["train", "--preset", "addition-fast", "--no-unroll"]
    assert not spec_from_args(build_parser().parse_args(argv)).model.unroll


def test_the_stepper_reads_an_unrolled_model_as_it_reads_the_loop() -> None:
    from dataclasses import replace

    from rnn_core.stepper import numpy_rnn as nr
    from rnn_core.stepper import sources as ss
    from rnn_core.stepper.view import build_case
    from tests import tiny_classifiers as tiny

    _, _, data = tiny.mnist_data(rows_per_step=2)
    base = tiny.spec("mnist", "GRU", 5, 1, seed=4, rows_per_step=2)
    spec = replace(base, model=replace(base.model, unroll=True))
    loop, unrolled = tiny.build(base), tiny.build(spec)
    rng = np.random.default_rng(2)
    weights = [w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in loop.get_weights()]
    loop.set_weights(weights)
    unrolled.set_weights(weights)
    a = ss.trained_input(loop, "mnist", data, 1, "GRU 5×1")
    b = ss.trained_input(unrolled, "mnist", data, 1, "GRU 5×1 unrolled")
    assert nr.parity_max_abs_diff(list(b.layers), b.x, ss.recurrent_stack(unrolled)) <= 1e-5
    lens_a = build_case(a, ("k",), "the model").lens["the model"]  # (T,)
    lens_b = build_case(b, ("k",), "the model").lens["the model"]  # (T,)
    assert lens_b.shape == (14,)
    np.testing.assert_allclose(lens_a, lens_b, rtol=1e-4, atol=1e-7)
