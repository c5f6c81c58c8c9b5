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
