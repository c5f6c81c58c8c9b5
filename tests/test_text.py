"""Text corpora: windowing, encode/decode, upload validation, word validity, the task's data."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import TextConfig
from rnn_core.data import corpus as tx
from rnn_core.tasks.text import make_text_data
from tests.skip_policy import needs_shared

from .conftest import SHARED_DATA


def _prose(n_chars: int, seed: int = 0) -> str:
    """A text of made-up sentences from a small word list, about ``n_chars`` long."""
    rng = np.random.default_rng(seed)
    words = [
        "the",
        "cat",
        "sat",
        "on",
        "a",
        "mat",
        "while",
        "dogs",
        "ran",
        "far",
        "away",
        "from",
        "home",
        "and",
        "back",
    ]
    out, size = [], 0
    while size < n_chars:
        sentence = " ".join(rng.choice(words, rng.integers(4, 10))).capitalize() + ". "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)


# ----- windows and vocabulary ------------------------------------------------------------------
def test_windows_every_position_targets_are_the_next_ids() -> None:
    ids = np.arange(20, dtype=np.uint8)
    x, y = tx.make_windows(ids, maxlen=5, step=3)
    assert x.shape == y.shape == (5, 5)  # starts 0, 3, 6, 9, 12: each needs 5 + 1 ids
    assert x[1].tolist() == [3, 4, 5, 6, 7] and y[1].tolist() == [4, 5, 6, 7, 8]
    assert x.dtype == np.uint8 and x.flags.c_contiguous  # integers, a real copy, no one-hot


def test_windows_last_only_match_the_keras_example() -> None:
    text = "abcdefghijklmnopqrstuvwxyz"
    vocab = tx.Vocabulary.from_text(text)
    x, y = tx.make_windows(vocab.encode(text), maxlen=4, step=3, every=False)
    # Keras: sentences = text[i : i + maxlen], next_chars = text[i + maxlen]
    starts = range(0, len(text) - 4, 3)
    assert [vocab.decode(r) for r in x] == [text[i : i + 4] for i in starts]
    assert vocab.decode(y) == "".join(text[i + 4] for i in starts)


def test_stretches_read_a_text_straight_through() -> None:
    ids = np.arange(30_045) % 50
    x, y = tx.make_stretches(ids, 4000)
    assert x.shape == y.shape == (8, 3755)  # 30,044 targets: 8 stretches, 4 left out
    assert np.array_equal(x.ravel(), ids[: 8 * 3755])  # one after another, in order
    assert np.array_equal(y.ravel(), ids[1 : 8 * 3755 + 1])  # each id after the first, once
    assert tx.make_stretches(ids[:11], 4000)[0].shape == (1, 10)
    with pytest.raises(ValueError, match="no stretch"):
        tx.make_stretches(ids[:1], 4000)


def test_windows_refuse_bad_sizes() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        tx.make_windows(np.arange(10), 0, 1)
    with pytest.raises(ValueError, match="no window"):
        tx.make_windows(np.arange(5), 5, 1)


def test_encode_decode_round_trip_and_unknown_characters() -> None:
    text = "Ünïcode—text, with\nnewlines… and € signs"
    vocab = tx.Vocabulary.from_text(text)
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    assert ids.max() == vocab.size - 1 and vocab.chars == "".join(sorted(set(text)))
    assert tx.Vocabulary.from_json(vocab.to_json()) == vocab
    with pytest.raises(ValueError, match="'Z', 'q'"):
        vocab.encode("aZqZ")
    assert vocab.unknown("aZqZ") == ["Z", "q"]


# ----- uploads ---------------------------------------------------------------------------------
def test_upload_accepts_utf8_with_bom_and_crlf() -> None:
    text = _prose(12_000)
    data = b"\xef\xbb\xbf" + text.replace(" ", "\r\n", 3).encode("utf-8")
    corpus = tx.corpus_from_bytes("book.txt", data, lowercase=True)
    assert "\r" not in corpus.text and corpus.text == corpus.text.lower()
    assert corpus.text.startswith(text[:3].lower()) and "book.txt" in corpus.source


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 1000, "binary file"),
        ("café ".encode("latin-1") * 3000, "not valid UTF-8"),
        (b"short text", "at least 10,000"),
        (b"a" * (tx.MAX_BYTES + 1), "limit is 5 MB"),
        ("".join(chr(0x4E00 + i) for i in range(12_000)).encode(), "distinct characters"),
    ],
    ids=["binary", "latin1", "short", "too-big", "too-many-chars"],
)
def test_upload_refusals_explain_themselves(data: bytes, message: str) -> None:
    with pytest.raises(tx.CorpusError, match=message):
        tx.corpus_from_bytes("upload.txt", data)


def test_lowercase_option_can_bring_an_alphabet_under_the_cap() -> None:
    letters = [chr(c) for c in range(0x391, 0x3A9)] + [chr(c) for c in range(0x410, 0x430)]
    body = "".join(letters) * 10
    alphabet = "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(c.lower() for c in letters)
    text = (alphabet + body + _prose(10_000)).encode()
    assert len(set(text.decode())) > tx.MAX_DISTINCT  # cased: too many
    with pytest.raises(tx.CorpusError, match="lowercase option"):
        tx.corpus_from_bytes("mixed.txt", text, lowercase=False)
    assert len(set(tx.corpus_from_bytes("mixed.txt", text).text)) <= tx.MAX_DISTINCT


def test_python_docs_corpus_needs_no_download() -> None:
    corpus = tx.load_corpus("python-docs")
    assert len(corpus.text) > 300_000 and "pydoc_data" in corpus.source
    assert "lambda" in tx.corpus_words(corpus.text)


def test_unknown_corpus_name_is_explained(tmp_path) -> None:
    with pytest.raises(tx.CorpusError, match="neither one of nietzsche, python-docs"):
        tx.load_corpus(str(tmp_path / "missing.txt"))


# ----- word validity -------------------------------------------------------------------------
def test_word_validity_counts_corpus_words_and_handles_cut_words() -> None:
    words = tx.corpus_words("The cat sat. A mat!")
    assert words == frozenset({"the", "cat", "sat", "mat"})  # single letters are not scored
    assert tx.word_validity("e e a i e cat ", words) == 1.0 and tx.sample_words("e a i ") == []
    assert tx.word_validity(" cat xqz sat ", words) == pytest.approx(2 / 3)
    # "sa" ends the sample unfinished: not scored; "c" + "at" is completed from the seed
    assert tx.sample_words("at mat sa", prefix="the c") == ["cat", "mat"]
    assert tx.word_validity("at mat sa", words, "the c") == 1.0
    assert tx.word_validity(["cat zz ", " mat "], words) == pytest.approx(2 / 3)  # pooled
    assert tx.word_validity("  ...  ", words) == 0.0


def test_word_validity_penalises_repetition() -> None:
    words = tx.corpus_words("the cat sat on the mat")
    assert tx.word_validity("the " * 100, words) == pytest.approx(0.01)  # one distinct word
    assert tx.word_validity("the cat the cat ", words) == pytest.approx(2 / 4)
    # pooled: each sample's distinct corpus words, over every word of the samples
    assert tx.word_validity(["the the ", "the mat "], words) == pytest.approx((1 + 2) / 4)


def test_seed_starts_at_a_sentence_or_else_a_word() -> None:
    text = "xx hello world. And more words here"
    assert tx.seed_from(text, 11, 4) == "And more wo"
    assert tx.seed_from("xx hello world and more words here", 11, 4) == "world and m"


# ----- the task's data --------------------------------------------------------------------------
def test_text_data_splits_tail_for_validation_without_overlap(tmp_path) -> None:
    path = tmp_path / "prose.txt"
    path.write_text(_prose(30_000, seed=1))
    cfg = TextConfig(corpus=str(path), maxlen=20, step=7, val_fraction=0.2)
    data = make_text_data(cfg)
    text, cut = data.corpus.text, int(len(data.corpus.text) * 0.8)
    assert data.x_train.shape[1] == 20 and data.y_train.shape == data.x_train.shape
    start = (len(data.x_train) - 1) * 7  # the last training window reads text[start : +21]
    assert start + 21 <= cut < start + 21 + 7  # it ends before the held-out tail
    assert data.vocab.decode(data.x_train[-1]) == text[start : start + 20]
    assert data.vocab.decode(data.y_train[-1]) == text[start + 1 : start + 21]
    mid = cut + (len(text) - cut) // 2  # the tail's first half validates
    assert data.x_val.shape[0] == (mid - cut - 1) // 20  # non-overlapping windows
    assert data.vocab.decode(data.x_val[0]) == text[cut : cut + 20]
    assert data.seed_text in text[cut:mid] and len(data.validity_seeds) == 4
    assert all(s in text[cut:mid] for s in data.validity_seeds)
    assert data.x_train.nbytes < 2 * len(text) * 20 / 7  # uint8 ids, no one-hot tensor


def test_held_out_tail_is_split_into_validation_then_test(tmp_path) -> None:
    """Training text stays the first 90 %; the tail's first half validates, its second tests."""
    from rnn_core.ngram import fit_ngram
    from rnn_core.tasks.text import NGRAM_DISCOUNT, NGRAM_ORDER

    path = tmp_path / "prose.txt"
    path.write_text(_prose(40_000, seed=2))
    data = make_text_data(TextConfig(corpus=str(path), maxlen=20, step=7))
    text = data.corpus.text
    cut = int(len(text) * 0.9)  # the training text ends where it always did
    mid = cut + (len(text) - cut) // 2
    start = (len(data.x_train) - 1) * 7
    assert start + 21 <= cut < start + 21 + 7
    val, test = text[cut:mid], text[mid:]
    assert data.x_val.shape[0] == (len(val) - 1) // 20 > 0  # no window straddles mid
    assert data.x_test.shape[0] == (len(test) - 1) // 20 > 0
    assert data.vocab.decode(data.x_val[0]) == val[:20]
    assert data.vocab.decode(data.y_val[-1]) == val[(len(data.x_val) - 1) * 20 + 1 :][:20]
    assert data.vocab.decode(data.x_test[0]) == test[:20]
    assert data.vocab.decode(data.y_test[-1]) == test[(len(data.x_test) - 1) * 20 + 1 :][:20]
    # everything chosen or shown during training comes from the validation half
    assert data.seed_text in val and all(s in val for s in data.validity_seeds)
    # each half is scored straight through: its stretches, in order, are the half's text
    for half, (x, y) in ((val, data.val_read), (test, data.test_read)):
        s, length = x.shape
        assert s == -(-(len(half) - 1) // 4000) and s * length > len(half) - 1 - s
        assert data.vocab.decode(x.ravel()) == half[: s * length]
        assert data.vocab.decode(y.ravel()) == half[1 : s * length + 1]
    # the n-gram is fitted on the training text and scored on the same characters
    ngram = fit_ngram(data.vocab.encode(text[:cut]), data.vocab.size, NGRAM_ORDER, NGRAM_DISCOUNT)
    assert data.ngram_val_bits == pytest.approx(ngram.window_bits(*data.val_read))
    assert data.ngram_test_bits == pytest.approx(ngram.window_bits(*data.test_read))
    assert data.ngram_val_bits != data.ngram_test_bits
    assert "testing once on" in data.note and "in one stretch of" in data.note
    # a model that predicts only after a whole window is scored on the held-out windows
    last = make_text_data(TextConfig(corpus=str(path), maxlen=20, step=7, every_position=False))
    assert last.val_read[0] is last.x_val and last.test_read[1] is last.y_test
    assert "the character after each window of 20" in last.note


def test_a_held_out_half_too_short_for_windows_is_one_clear_line(tmp_path) -> None:
    path = tmp_path / "prose.txt"
    path.write_text(_prose(10_500))
    # a 10 % tail of ~1,050 characters: halves of ~525, too short for windows of 300
    with pytest.raises(ValueError, match=r"^the validation half of the held-out tail \(5\d\d ch"):
        make_text_data(TextConfig(corpus=str(path), maxlen=300))
    make_text_data(TextConfig(corpus=str(path), maxlen=200))  # 2 x 200 fits in each half


def test_text_data_refuses_a_seed_outside_the_alphabet(tmp_path) -> None:
    path = tmp_path / "prose.txt"
    path.write_text(_prose(20_000))
    with pytest.raises(ValueError, match="'z'"):
        make_text_data(TextConfig(corpus=str(path), seed_text="zebra"))


@needs_shared("nietzsche.txt")
def test_nietzsche_windows_stay_small() -> None:
    data = make_text_data(TextConfig(data_dir=str(SHARED_DATA)))
    assert data.vocab.size < 60 and len(data.corpus.text) > 600_000
    # 180k windows of 40 ids: a few MB, where the Keras example's one-hot x is ~0.4-1.8 GB
    assert data.x_train.nbytes + data.y_train.nbytes < 20e6
