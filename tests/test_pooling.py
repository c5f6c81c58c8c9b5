"""Pooling over time in the classifiers: config, model, Keras export, links, CLI and form."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnn_core.config import POOLINGS, ImdbConfig, MnistConfig, ModelConfig, RunSpec
from rnn_core.export import model_code
from rnn_core.links import from_query, to_query
from rnn_core.models import build_sequence_classifier

VOCAB, MAXLEN = 40, 7


def _imdb_model(pooling: str, **model: object):
    cfg = ModelConfig(cell="LSTM", units=5, embedding_dim=4, pooling=pooling, **model)
    return cfg, build_sequence_classifier(cfg, (MAXLEN,), 2, vocab_size=VOCAB)


def _ids(n: int = 6) -> np.ndarray:
    return np.random.default_rng(3).integers(0, VOCAB, size=(n, MAXLEN))  # (N, T)


def test_unknown_pooling_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="pooling must be one of last, max, mean"):
        ModelConfig(pooling="median")


@pytest.mark.parametrize(
    ("pooling", "layer"), [("max", "max_over_time"), ("mean", "mean_over_time")]
)
@pytest.mark.parametrize("layers", [1, 2])
def test_pooled_head_reads_every_rnn_output(pooling: str, layer: str, layers: int) -> None:
    import keras

    _, model = _imdb_model(pooling, layers=layers)
    _, last = _imdb_model("last", layers=layers)
    assert model.count_params() == last.count_params()  # pooling adds no weights
    rnn = model.get_layer(f"rnn_{layers}")
    assert tuple(rnn.output.shape) == (None, MAXLEN, 5)  # the last RNN returns sequences
    assert tuple(model.get_layer(layer).output.shape) == (None, 5)
    x = _ids()
    seq = np.asarray(keras.Model(model.input, rnn.output)(x))  # (N, T, H)
    pooled = seq.max(axis=1) if pooling == "max" else seq.mean(axis=1)  # (N, H)
    w, b = model.get_layer("probability").get_weights()
    expected = 1 / (1 + np.exp(-(pooled @ w + b)))  # (N, 1)
    np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)


@pytest.mark.parametrize("layers", [1, 2])
def test_max_and_mean_pooling_feeds_the_head_both_side_by_side(layers: int) -> None:
    import keras

    _, model = _imdb_model("max+mean", layers=layers)
    _, last = _imdb_model("last", layers=layers)
    assert model.count_params() == last.count_params() + 5  # the head reads 2H numbers, not H
    assert tuple(model.get_layer("max_and_mean").output.shape) == (None, 10)
    x = _ids()
    seq = np.asarray(keras.Model(model.input, model.get_layer(f"rnn_{layers}").output)(x))
    pooled = np.concatenate([seq.max(axis=1), seq.mean(axis=1)], axis=1)  # (N, 2H)
    w, b = model.get_layer("probability").get_weights()
    expected = 1 / (1 + np.exp(-(pooled @ w + b)))  # (N, 1)
    np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)


def test_last_pooling_keeps_the_plain_last_state_model() -> None:
    _, model = _imdb_model("last")
    assert tuple(model.get_layer("rnn_1").output.shape) == (None, 5)
    names = {layer.name for layer in model.layers}
    assert not names & {"max_over_time", "mean_over_time"}


@pytest.mark.parametrize("pooling", ["max", "mean", "max+mean"])
@pytest.mark.parametrize("task", ["imdb", "mnist"])
def test_exported_code_rebuilds_the_same_pooled_model(task: str, pooling: str) -> None:
    import keras

    model_cfg = ModelConfig(cell="GRU", units=3, embedding_dim=4, pooling=pooling, layers=2)
    data = ImdbConfig(num_words=VOCAB, maxlen=MAXLEN) if task == "imdb" else MnistConfig()
    spec = RunSpec(task=task, data=data, model=model_cfg)
    code = model_code(spec)
    for name, layer in (("max", "GlobalMaxPooling1D"), ("mean", "GlobalAveragePooling1D")):
        assert (layer in code) == (name in pooling)
    ns = {"keras": keras, "NUM_WORDS": VOCAB, "MAXLEN": MAXLEN}
    exec(code, ns)
    if task == "imdb":
        ours, x = build_sequence_classifier(model_cfg, (MAXLEN,), 2, VOCAB), _ids()
    else:
        ours = build_sequence_classifier(model_cfg, (28, 28), 10)
        x = np.random.default_rng(4).random((3, 28, 28), dtype=np.float32)  # (N, 28, 28)
    exported = ns["model"]
    exported.set_weights(ours.get_weights())  # same layers in the same order, same shapes
    np.testing.assert_allclose(np.asarray(exported(x)), np.asarray(ours(x)), atol=1e-5)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_pooling_round_trips_through_a_link(pooling: str) -> None:
    from rnn_core.tasks import get_task

    default = get_task("imdb").default_spec()
    spec = replace(default, model=replace(default.model, pooling=pooling))
    query = to_query(spec)
    if pooling != default.model.pooling:
        assert query["m.pooling"] == pooling
    assert from_query(query) == spec


def test_a_link_with_an_unknown_pooling_names_it() -> None:
    with pytest.raises(ValueError, match="pooling must be one of"):
        from_query({"task": "imdb", "m.pooling": "median"})


def test_cli_flag_sets_pooling_over_a_preset() -> None:
    from rnn_core.cli import build_parser, spec_from_args

    args = build_parser().parse_args(["train", "--preset", "imdb-fast", "--pooling", "mean"])
    assert spec_from_args(args).model.pooling == "mean"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--pooling", "median"])


def test_train_form_offers_pooling_for_the_classifiers_only() -> None:
    from pages._train_form import shown
    from rnn_core.tasks import get_task

    assert ("model", "pooling") in shown(get_task("imdb"))
    assert ("model", "pooling") in shown(get_task("mnist"))
    assert ("model", "pooling") not in shown(get_task("addition"))
