"""Temperature sampling and stateful generation, checked against the full-window Keras model."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.sampling import CharGenerator, apply_temperature, sample_ids, top_next

PROBS = np.array([0.5, 0.3, 0.15, 0.05, 0.0])


def test_temperature_one_is_identity_and_zero_is_argmax() -> None:
    np.testing.assert_allclose(apply_temperature(PROBS, 1.0), PROBS, atol=1e-12)
    assert apply_temperature(PROBS, 0).tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    batch = np.array([[0.1, 0.9], [0.7, 0.3]])
    assert apply_temperature(batch, 0).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_temperature_matches_the_formula_and_zero_stays_zero() -> None:
    for t in (0.5, 2.0):
        expected = PROBS ** (1 / t) / (PROBS ** (1 / t)).sum()
        np.testing.assert_allclose(apply_temperature(PROBS, t), expected, rtol=1e-12)
    assert apply_temperature(PROBS, 3.0)[-1] == 0.0  # flattening never invents a character


def test_small_temperature_is_numerically_safe() -> None:
    tiny = np.array([1e-30, 2e-30, 1e-300, 0.0])  # naive p ** 20 underflows to 0 / 0
    with np.errstate(over="raise", invalid="raise"):  # overflow or 0/0 would raise
        q = apply_temperature(tiny, 0.05)
    assert np.isfinite(q).all() and q.sum() == pytest.approx(1.0)
    assert q[1] == pytest.approx(1 / (1 + 0.5**20))  # (2/1) ** 20 in favour of id 1
    assert q[3] == 0.0
    assert apply_temperature(PROBS, 1e-4).argmax() == 0


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(PROBS, -1)
    with pytest.raises(ValueError, match="diverged"):
        apply_temperature(np.array([0.5, np.nan]), 1.0)


def test_temperature_zero_is_deterministic_whatever_the_generator() -> None:
    picks = {
        tuple(sample_ids(np.tile(PROBS, (3, 1)), 0.0, np.random.default_rng(s))) for s in range(20)
    }
    assert picks == {(0, 0, 0)}


def test_temperature_one_draws_follow_the_probabilities() -> None:
    rng = np.random.default_rng(7)
    draws = np.concatenate([sample_ids(np.tile(PROBS, (50, 1)), 1.0, rng) for _ in range(400)])
    freq = np.bincount(draws, minlength=len(PROBS)) / len(draws)  # 20,000 draws
    np.testing.assert_allclose(freq, PROBS, atol=0.012)  # ~3.5 standard errors
    assert freq[-1] == 0.0  # probability 0 is never drawn
    hot = np.concatenate([sample_ids(np.tile(PROBS, (50, 1)), 0.5, rng) for _ in range(200)])
    expected = apply_temperature(PROBS, 0.5)
    np.testing.assert_allclose(np.bincount(hot, minlength=5) / len(hot), expected, atol=0.015)


def test_sampling_is_reproducible_from_the_generator() -> None:
    a = sample_ids(np.tile(PROBS, (8, 1)), [0.2, 0.5, 1.0, 1.2] * 2, np.random.default_rng(3))
    b = sample_ids(np.tile(PROBS, (8, 1)), [0.2, 0.5, 1.0, 1.2] * 2, np.random.default_rng(3))
    assert a.tolist() == b.tolist()


def test_top_next_orders_by_the_tempered_probability() -> None:
    top = top_next(PROBS, 0.5, k=3)
    assert [i for i, _, _ in top] == [0, 1, 2]
    assert top[0][2] == 0.5 and top[0][1] > 0.5  # sharper than at T=1
    assert [i for i, q, _ in top_next(PROBS, 0, k=2)] == [0, 1]  # argmax, then by p


# ----- stateful generation vs the Keras model ----------------------------------------------
keras = pytest.importorskip("keras")


def _random_model(cell: str, emb: int, vocab: int = 11, seed: int = 0):
    """A tiny 2-layer text model with every weight drawn at random (non-trivial outputs)."""
    from rnn_core.config import ModelConfig
    from rnn_core.tasks.text import build_text_model

    model = build_text_model(ModelConfig(cell=cell, units=12, layers=2, embedding_dim=emb), vocab)
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-0.8, 0.8, w.shape).astype("float32") for w in model.get_weights()]
    if emb == 0:
        weights[0] = np.eye(vocab, dtype="float32")  # keep the one-hot table
    model.set_weights(weights)
    return model


@pytest.mark.parametrize(("cell", "emb"), [("LSTM", 6), ("GRU", 0), ("SimpleRNN", 5)])
def test_stateful_generation_matches_the_full_window_model(cell: str, emb: int) -> None:
    model = _random_model(cell, emb)
    gen = CharGenerator.from_keras(model)
    ids = np.random.default_rng(1).integers(0, 11, 24)
    full = np.asarray(model.predict_on_batch(ids[None].astype("int32")))[0]  # (24, V)
    assert full.std() > 0.02  # the model's outputs really depend on the input
    np.testing.assert_allclose(gen.prefix_probs(ids), full, atol=1e-5)  # carry mode
    np.testing.assert_allclose(gen.next_probs(ids)[0], full[-1], atol=1e-5)
    # window mode = the Keras example: re-read only the last 8 characters for every character
    w = 8
    windows = [ids[max(0, p + 1 - w) : p + 1] for p in range(len(ids))]
    keras_way = np.stack([model.predict_on_batch(x[None].astype("int32"))[0, -1] for x in windows])
    np.testing.assert_allclose(gen.prefix_probs(ids, window=w), keras_way, atol=1e-5)
    assert np.abs(gen.prefix_probs(ids) - keras_way).max() > 1e-3  # carry really differs


def test_generate_window_mode_follows_the_keras_loop_at_temperature_zero() -> None:
    model = _random_model("LSTM", 6, seed=2)
    gen = CharGenerator.from_keras(model)
    seed = np.array([1, 5, 2, 7, 3])
    ids = list(seed)
    for _ in range(20):  # Keras example loop: predict on the window, take the argmax
        x = np.asarray(ids[-6:], "int32")[None]
        ids.append(int(np.asarray(model.predict_on_batch(x))[0, -1].argmax()))
    ours = gen.generate(seed, 20, [0.0, 0.0], np.random.default_rng(0), window=6)
    assert ours[0].tolist() == ours[1].tolist() == ids[5:]
    again = gen.generate(seed, 20, [0.0], np.random.default_rng(99), window=6)
    assert again[0].tolist() == ids[5:]


def test_generate_takes_one_seed_per_row_and_checks_them() -> None:
    gen = CharGenerator.from_keras(_random_model("GRU", 4, seed=3))
    seeds = np.array([[1, 2, 3], [4, 5, 6]])
    out = gen.generate(seeds, 7, [0.0, 0.0], np.random.default_rng(0))
    single = gen.generate(seeds[1], 7, [0.0], np.random.default_rng(0))
    assert out.shape == (2, 7) and out[1].tolist() == single[0].tolist()
    with pytest.raises(ValueError, match="empty"):
        gen.generate(np.array([], int), 5, [0.5], np.random.default_rng(0))
    with pytest.raises(ValueError, match="2 seeds for 3"):
        gen.generate(seeds, 5, [0.5, 0.5, 0.5], np.random.default_rng(0))


def test_row_blocks_for_single_threaded_blas_change_nothing(monkeypatch) -> None:
    from rnn_core import sampling

    gen = CharGenerator.from_keras(_random_model("LSTM", 5, seed=4))
    ids = np.random.default_rng(2).integers(0, 11, 15)
    whole = gen.prefix_probs(ids, window=6)  # 6 rows per step, one matmul each
    monkeypatch.setattr(sampling, "SERIAL_MACS", 1)  # one row per matmul
    np.testing.assert_allclose(gen.prefix_probs(ids, window=6), whole, atol=1e-6)


def test_entropy_at_temperature_zero_reads_zero_not_minus_zero() -> None:
    """T = 0 is a certain choice: 0.00 bits, not '-0.00'; a uniform choice is log2(V)."""
    from rnn_core.sampling import apply_temperature, entropy_bits

    p = np.array([0.5, 0.3, 0.2])
    assert f"{entropy_bits(apply_temperature(p, 0.0)):.2f}" == "0.00"
    assert entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)
