"""The counting baseline: a smoothed character n-gram model, checked by hand and by its sums."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.ngram import bits_from_probs, fit_ngram, histories
from tests.conftest import SHARED_DATA
from tests.skip_policy import needs_shared


@pytest.mark.parametrize("kneser_ney", [False, True])
@pytest.mark.parametrize("order", [1, 2, 3, 5, 7])
def test_probabilities_sum_to_one_for_random_contexts(order: int, kneser_ney: bool) -> None:
    rng = np.random.default_rng(order)
    train = rng.integers(0, 6, 3000) % 5  # id 5 never occurs: V = 6, one unseen character
    model = fit_ngram(train, 6, order, 0.75, kneser_ney)
    for _ in range(30):
        hist = rng.integers(0, 6, order - 1)
        hist[: rng.integers(0, order)] = -1  # some contexts cut short at the left
        dist = model.distribution(hist)
        assert dist.sum() == pytest.approx(1.0, abs=1e-12) and np.all(dist > 0)


def test_tiny_corpus_matches_the_hand_computation() -> None:
    # "aab", a=0 b=1, D=0.5. Unigrams: c(a)=2, c(b)=1, 2 types, total 3:
    # P1(a) = 1.5/3 + 0.5*2/3 * 1/2 = 2/3, P1(b) = 0.5/3 + 1/6 = 1/3.
    # Bigrams after "a": aa, ab (total 2, 2 types): P2(a|a) = 0.5/2 + 0.5*2/2 * 2/3 = 7/12,
    # P2(b|a) = 0.25 + 0.5/3 = 5/12. After "b" nothing was seen: back off to P1.
    model = fit_ngram(np.array([0, 0, 1]), 2, order=2, discount=0.5)
    assert model.distribution(np.array([-1])) == pytest.approx([2 / 3, 1 / 3])
    assert model.distribution(np.array([0])) == pytest.approx([7 / 12, 5 / 12])
    assert model.distribution(np.array([1])) == pytest.approx([2 / 3, 1 / 3])
    # "ab": a with no context (2/3), then b after a (5/12)
    expected = -(np.log2(2 / 3) + np.log2(5 / 12)) / 2
    assert model.text_bits(np.array([0, 1])) == pytest.approx(expected)


def test_order_one_without_discount_is_the_unigram_entropy() -> None:
    ids = np.random.default_rng(0).choice(4, 5000, p=[0.5, 0.25, 0.15, 0.1])
    freq = np.bincount(ids, minlength=4) / len(ids)
    entropy = float(-(freq * np.log2(freq)).sum())
    unigram = fit_ngram(ids, 4, order=1, discount=0.0)
    assert unigram.text_bits(ids) == pytest.approx(entropy)
    x, y = ids[:-1].reshape(-1, 1), ids[1:].reshape(-1, 1)  # windows of one character
    assert unigram.window_bits(x, y) == pytest.approx(-np.log2(freq[ids[1:]]).mean())


def test_window_bits_score_the_same_targets_as_the_windows() -> None:
    from rnn_core.data.corpus import make_windows

    rng = np.random.default_rng(1)
    ids = rng.integers(0, 5, 400)
    model = fit_ngram(rng.integers(0, 5, 2000), 5, order=3)
    x, y = make_windows(ids, 10, 10, every=True)  # (N, 10) each
    pairs = zip(x, y, strict=True)
    ref = [model.log2_probs(histories(np.r_[row, t[-1]], 2)[1:], t) for row, t in pairs]
    assert model.window_bits(x, y) == pytest.approx(-np.mean(ref))
    xl, yl = make_windows(ids, 10, 10, every=False)  # (N,) targets after each whole window
    ref = model.log2_probs(xl[:, -2:], yl)
    assert model.window_bits(xl, yl) == pytest.approx(-np.mean(ref))


def test_bits_from_probs_is_the_mean_negative_log2() -> None:
    probs = np.array([[0.5, 0.25, 0.25], [0.125, 0.125, 0.75]])
    assert bits_from_probs(probs, np.array([0, 1])) == pytest.approx((1 + 3) / 2)


def test_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="order"):
        fit_ngram(np.arange(10) % 3, 3, order=8)
    with pytest.raises(ValueError, match="discount"):
        fit_ngram(np.arange(10) % 3, 3, discount=1.5)


@needs_shared("nietzsche.txt")
def test_nietzsche_five_gram_is_near_the_issue_figure() -> None:
    from rnn_core.data.corpus import Vocabulary

    text = (SHARED_DATA / "nietzsche.txt").read_text().replace("\r\n", "\n").lower()
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    cut = int(len(ids) * 0.9)
    bits = fit_ngram(ids[:cut], vocab.size, 5, 0.75).text_bits(ids[cut:])
    assert 2.0 < bits < 2.2  # issue 13: about 2.09 bits/char (measured 2.087)
