"""The text task end to end on a slice of the Python docs: engine hook, evaluate, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_core.config import ModelConfig, RunSpec, TextConfig, TrainConfig
from rnn_core.ngram import bits_from_probs
from rnn_core.sampling import CharGenerator
from rnn_core.tasks.text import held_out_cuts

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def trained():
    """A tiny GRU trained two epochs through the engine on 20k characters of the Python docs."""
    from tests.conftest import train_through_engine

    spec = RunSpec(
        task="text",
        data=TextConfig(
            corpus="python-docs", max_chars=20_000, maxlen=16, step=8, sample_length=50,
            temperatures=(0.0, 1.0), seed=3,
        ),
        model=ModelConfig(cell="GRU", units=24, embedding_dim=8, seed=3),
        train=TrainConfig(epochs=2, batch_size=64, learning_rate=0.01),
    )  # fmt: skip
    return train_through_engine(spec, timeout=120)


def test_every_epoch_samples_the_same_seed_at_each_temperature(trained) -> None:
    _, data, _, snap = trained
    first, second = snap.epoch_extras
    assert first.seed == second.seed == data.seed_text
    assert first.temperatures == (0.0, 1.0) and len(second.samples) == 2
    assert all(len(s) == 50 and set(s) <= set(data.vocab.chars) for s in second.samples)
    assert 0.0 <= second.word_validity <= 1.0 and second.words_scored > 0
    assert second.mode == "carry"  # carry-state sampling is the default, and says so
    assert second.bits_per_char < first.bits_per_char < np.log2(data.vocab.size)
    # the per-epoch figures are validation ones: the n-gram beside them scores the same half
    assert second.ngram_bits_per_char == data.ngram_val_bits and 0 < data.ngram_val_bits < 8
    assert snap.epoch_logs[1]["loss"] < snap.epoch_logs[0]["loss"]  # it learns


def test_epoch_samples_are_reproducible(trained) -> None:
    task, data, model, snap = trained
    again = task.epoch_report(data)(model, 2)  # same weights, same epoch: same samples
    assert again.samples == snap.epoch_extras[1].samples


def test_evaluate_loss_matches_keras(trained) -> None:
    task, data, model, _ = trained
    test = task.evaluate(model, data)
    x, y = data.test_read
    keras_loss = model.evaluate(x.astype("int32"), y, verbose=0)[0]
    assert test.loss == pytest.approx(keras_loss, rel=1e-4)  # on the test half
    assert 0 <= test.word_validity <= 1 and test.words_scored > 20


def _numpy_bits(model, text: str, data) -> float:
    """Mean bits/char of every character of ``text`` after its first, by the NumPy cells
    reading it straight through from a zero state, the state carried (one row)."""
    from rnn_core.ngram import bits_from_probs

    ids = data.vocab.encode(text)  # (L,)
    gen = CharGenerator.from_keras(model)
    return bits_from_probs(gen.prefix_probs(ids[:-1]), ids[1:])


def test_epochs_score_validation_and_evaluate_scores_the_test_half(trained) -> None:
    task, data, model, snap = trained
    text, cfg = data.corpus.text, data.config
    cut, mid = held_out_cuts(len(text), cfg.val_fraction)
    assert len(data.val_read[0]) == len(data.test_read[0]) == 1  # halves of ~1,000: one stretch
    val, test_ref = _numpy_bits(model, text[cut:mid], data), _numpy_bits(model, text[mid:], data)
    # read straight through, not window by window from a zero state
    windows = np.mean(
        [bits_from_probs(CharGenerator.from_keras(model).prefix_probs(a), b)
         for a, b in zip(data.x_val, data.y_val, strict=True)]
    )  # fmt: skip
    assert abs(windows - val) > 1e-3
    assert snap.epoch_extras[1].bits_per_char == pytest.approx(val, rel=1e-4)
    assert snap.epoch_logs[1]["val_bits_per_char"] == pytest.approx(val, rel=1e-4)
    test = task.evaluate(model, data)
    assert test.bits_per_char == pytest.approx(test_ref, rel=1e-4)
    assert abs(test.bits_per_char - val) > 1e-3  # another text: another figure
    assert test.loss == pytest.approx(test_ref * np.log(2), rel=1e-4)
    assert test.ngram_bits_per_char == data.ngram_test_bits != data.ngram_val_bits
    assert task.results_type.from_plain(test.to_plain()).headline == (
        "test bits/char",
        test.bits_per_char,
    )


def test_ngram_baseline_scores_the_same_characters_as_the_model(trained) -> None:
    from rnn_core.ngram import fit_ngram, histories
    from rnn_core.tasks.text import NGRAM_ORDER

    _, data, _, _ = trained
    ids = data.vocab.encode(data.corpus.text)
    cut = int(len(ids) * (1 - data.config.val_fraction))
    model = fit_ngram(ids[:cut], data.vocab.size, NGRAM_ORDER, 0.75)  # the training text only
    _, mid = held_out_cuts(len(ids), data.config.val_fraction)
    for half, bits in ((ids[cut:mid], data.ngram_val_bits), (ids[mid:], data.ngram_test_bits)):
        # every character after the half's first, with up to 4 characters of the half before it
        ref = -model.log2_probs(histories(half, NGRAM_ORDER - 1), half)[1:].mean()
        assert bits == pytest.approx(ref, rel=1e-9)


def test_older_results_scored_on_the_whole_tail_are_not_read_as_test_figures() -> None:
    from rnn_core.tasks.text import TextResults

    old = {"val_loss": 1.49, "val_accuracy": 0.55, "word_validity": 0.9, "words_scored": 300}
    back = TextResults.from_plain(old | {"bits_per_char": 2.15, "ngram_bits_per_char": 2.09})
    assert np.isnan(back.bits_per_char) and np.isnan(back.loss) and np.isnan(back.accuracy)
    assert np.isnan(back.ngram_bits_per_char) and back.word_validity == 0.9


def test_figures_say_how_the_held_out_text_was_read(trained) -> None:
    from rnn_core.tasks.text import STRAIGHT, WINDOWS, TextReport, TextResults

    task, data, model, snap = trained
    test = task.evaluate(model, data)
    assert snap.epoch_extras[-1].reading == test.reading == STRAIGHT
    assert "reading" not in test.scores()  # not a score: the CLI's test figures stay numbers
    assert TextResults.from_plain(test.stored()).reading == STRAIGHT  # what a snapshot keeps
    assert TextResults.from_plain(test.to_plain()).reading == STRAIGHT
    # files written before: their figures were read window by window
    old = test.to_plain()
    del old["reading"]
    assert TextResults.from_plain(old).reading == WINDOWS
    report = snap.epoch_extras[-1].to_plain()
    del report["reading"]
    assert TextReport.from_plain(report).reading == WINDOWS


def test_save_keeps_the_alphabet_and_load_generates_the_same(trained, tmp_path) -> None:
    from rnn_core.tasks.text import load_text_model, sidecar_path

    task, data, model, _ = trained
    path = tmp_path / "docs.keras"
    task.save(model, data, path)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["chars"] == data.vocab.chars and meta["maxlen"] == 16 and meta["lowercase"]
    loaded, vocab, _ = load_text_model(path)
    assert vocab == data.vocab
    seed = vocab.encode(data.seed_text)
    before = CharGenerator.from_keras(model).next_probs(seed)
    np.testing.assert_allclose(CharGenerator.from_keras(loaded).next_probs(seed), before)
    sidecar_path(path).unlink()
    with pytest.raises(ValueError, match="alphabet beside it"):
        load_text_model(path)


def test_one_hot_input_and_keras_style_targets_build() -> None:
    from rnn_core.tasks.text import build_text_model

    model = build_text_model(ModelConfig(cell="LSTM", units=8, embedding_dim=0), 12, False)
    assert model.get_layer("one_hot").trainable is False
    assert model.output_shape == (None, 12)  # one distribution: the char after the window
    probs = np.asarray(model.predict_on_batch(np.array([[3, 1, 4]], "int32")))
    gen = CharGenerator.from_keras(model)
    np.testing.assert_allclose(gen.next_probs(np.array([3, 1, 4])), probs, atol=1e-6)
    with pytest.raises(ValueError, match="left to right"):
        build_text_model(ModelConfig(bidirectional=True), 12)
