"""Per-layer parameter formulas equal Keras's count_params for every cell and size."""

from __future__ import annotations

import pytest

from rnn_core.config import CELLS, ModelConfig
from rnn_core.models import build_seq2seq, build_sequence_classifier
from rnn_core.params import recurrent_formula, recurrent_params, summary_rows

SIZES = [(1, 1), (12, 8), (32, 64), (100, 3)]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(("units", "layers"), [(1, 1), (8, 2), (37, 3)])
def test_seq2seq_formulas_match_keras(cell: str, units: int, layers: int) -> None:
    model = build_seq2seq(ModelConfig(cell=cell, units=units, layers=layers), 7, 12, 4)
    rows = summary_rows(model)
    for row in rows:
        assert row["formula params"] == row["params"], row
    assert sum(r["params"] for r in rows) == model.count_params()


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_formulas_match_keras(cell: str, bidirectional: bool) -> None:
    cfg = ModelConfig(cell=cell, units=16, layers=2, bidirectional=bidirectional, embedding_dim=8)
    model = build_sequence_classifier(cfg, (20,), 2, vocab_size=500)
    for row in summary_rows(model):
        assert row["formula params"] == row["params"], row
    mnist = build_sequence_classifier(ModelConfig(cell=cell, units=24), (28, 28), 10)
    for row in summary_rows(mnist):
        assert row["formula params"] == row["params"], row


def test_dense_baseline_formulas_match_keras() -> None:
    cfg = ModelConfig(cell="Dense", units=32, embedding_dim=16)
    model = build_sequence_classifier(cfg, (30,), 2, vocab_size=10_000)
    rows = {r["layer"]: r for r in summary_rows(model)}
    assert rows["embedding"]["params"] == 160_000  # 10,000 words x 16
    assert rows["dense_1"]["formula params"] == rows["dense_1"]["params"] == (480 + 1) * 32


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(("inputs", "units"), SIZES)
def test_single_layer_formula_against_keras_layer(cell: str, inputs: int, units: int) -> None:
    import keras

    layer = getattr(keras.layers, cell)(units)
    layer.build((None, 5, inputs))
    assert recurrent_params(cell, inputs, units) == layer.count_params()
    if cell == "GRU":
        old = keras.layers.GRU(units, reset_after=False)
        old.build((None, 5, inputs))
        assert recurrent_params(cell, inputs, units, reset_after=False) == old.count_params()


def test_formula_text_shows_the_numbers() -> None:
    assert recurrent_formula("LSTM", 12, 128) == "4·(12+128+1)·128 = 72,192"
    assert recurrent_formula("SimpleRNN", 32, 32) == "(32+32+1)·32 = 2,080"
    assert recurrent_formula("GRU", 12, 8) == "3·(12+8+2)·8 = 528"


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_layers_control_really_changes_the_model(layers: int) -> None:
    model = build_seq2seq(ModelConfig(cell="GRU", units=8, layers=layers), 7, 12, 4)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("GRU") == 2 * layers  # encoder and decoder stacks
    encoders = [layer for layer in model.layers if layer.name.startswith("encoder_")]
    # every encoder layer but the last hands a sequence to the next one
    assert [e.return_sequences for e in encoders] == [True] * (layers - 1) + [False]


def test_same_seed_same_weights_and_other_seed_other_weights() -> None:
    import numpy as np

    a = build_seq2seq(ModelConfig(units=8, seed=3), 7, 12, 4).get_weights()
    b = build_seq2seq(ModelConfig(units=8, seed=3), 7, 12, 4).get_weights()
    c = build_seq2seq(ModelConfig(units=8, seed=4), 7, 12, 4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_unknown_cell_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        build_seq2seq(ModelConfig(cell="Transformer"), 7, 12, 4)


@pytest.mark.parametrize("cell", CELLS)
def test_use_bias_false_matches_keras(cell: str) -> None:
    import keras

    inp = keras.Input((5, 7))
    model = keras.Model(inp, getattr(keras.layers, cell)(6, use_bias=False)(inp))
    row = next(r for r in summary_rows(model) if r["type"] == cell)
    assert row["formula params"] == row["params"] == model.count_params()
    assert "+1)" not in row["formula"] and "+2)" not in row["formula"]


def test_bidirectional_with_a_different_backward_layer_matches_keras() -> None:
    import keras

    inp = keras.Input((5, 7))
    back = keras.layers.GRU(3, go_backwards=True, reset_after=False)
    bi = keras.layers.Bidirectional(keras.layers.LSTM(4), backward_layer=back)
    model = keras.Model(inp, bi(inp))
    row = next(r for r in summary_rows(model) if r["type"] == "Bidirectional")
    assert row["formula params"] == row["params"] == model.count_params()
    assert row["formula"] == f"[4·(7+4+1)·4] + [3·(7+3+1)·3] = {row['params']:,}"
    same = keras.layers.Bidirectional(keras.layers.SimpleRNN(4, use_bias=False))
    model = keras.Model(inp, same(inp))
    row = next(r for r in summary_rows(model) if r["type"] == "Bidirectional")
    assert row["formula params"] == row["params"] and row["formula"].startswith("2·[(7+4)·4]")
