"""The character-level text generation task (Keras ``lstm_text_generation``), for the engine.

Windows of ``maxlen`` character ids (integers, never one-hot tensors) train an
Embedding -> RNN layers -> softmax model with sparse categorical crossentropy. With
``every_position`` the model predicts the next character after every prefix of the window
(``maxlen`` targets per window instead of Keras's one), which learns far faster per epoch.
The corpus's last ``val_fraction`` is held out and never trained on: its first half is the
validation text (every epoch's bits/char, which ``until`` and ``patience`` stop on, and the
seeds of the samples), its second half the test text, scored once by ``evaluate`` after
training. A model that predicts after every prefix is scored reading each half straight
through, in stretches of up to ``STRETCH`` characters with the state carried, as it writes
text; the counting n-gram is scored on the same characters with the same contexts. Nothing
here imports TensorFlow until a model is built.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rnn_core.config import CELLS, ModelConfig, RunSpec, TextConfig
from rnn_core.data.corpus import (
    Corpus,
    Vocabulary,
    corpus_words,
    load_corpus,
    make_stretches,
    make_windows,
    sample_words,
    seed_from,
    word_validity,
)
from rnn_core.ngram import LN2, fit_ngram
from rnn_core.sampling import CharGenerator, generate_text
from rnn_core.tasks.base import LABEL, Report, Results, Task
from rnn_core.tasks.info import TaskInfo

VALIDITY_T = 0.5  # temperature of the word-validity samples
VALIDITY_LENGTH = 400  # characters per word-validity sample
VALIDITY_SEEDS = 4  # samples pooled into one word-validity figure (one sample is noisy)
PREDICT_CHARS = 32_768  # ids per predict_on_batch call when scoring held-out text (rows x T)
STRETCH = 4_000  # held-out text is read straight through in stretches of at most this many ids
STRAIGHT = "straight"  # a held-out half scored on every character, read straight through
WINDOWS = "windows"  # scored window by window, each from a zero state
NGRAM_ORDER = 5  # the counting baseline: a character 5-gram (fixed, not tuned on held-out text)
NGRAM_DISCOUNT = 0.75  # its absolute discount D
VOCAB_SUFFIX = ".vocab.json"  # added to a saved model's file name for its alphabet


@dataclass(frozen=True)
class TextData:
    """Training, validation and test windows of a corpus, plus what sampling needs."""

    config: TextConfig  # the config that made the data
    corpus: Corpus  # the text (possibly cut to max_chars) and where it came from
    vocab: Vocabulary  # the corpus alphabet: char <-> id
    x_train: np.ndarray  # (N, maxlen) uint8 ids of the training windows
    y_train: np.ndarray  # (N, maxlen) next ids after every prefix, or (N,) after the window
    x_val: np.ndarray  # (N_val, maxlen) windows of the tail's first half, for Keras's val_* logs
    y_val: np.ndarray  # (N_val, maxlen) or (N_val,)
    x_test: np.ndarray  # (N_test, maxlen) non-overlapping windows of the tail's second half
    y_test: np.ndarray  # (N_test, maxlen) or (N_test,)
    words: frozenset[str]  # the corpus's words, for word validity
    seed_text: str  # the seed every epoch's samples continue (validation text by default)
    validity_seeds: tuple[str, ...]  # seeds of the pooled word-validity samples (validation)
    note: str  # one sentence on sizes
    ngram_val_bits: float = float("nan")  # validation bits/char of the counting n-gram
    ngram_test_bits: float = float("nan")  # test bits/char of the counting n-gram
    reference_validity: float = float("nan")  # word validity of real validation text, same length
    val_read: tuple[np.ndarray, np.ndarray] | None = None  # (S, L) ids, targets: val bits/char
    test_read: tuple[np.ndarray, np.ndarray] | None = None  # the same for the test half


def _check(cfg: TextConfig) -> None:
    """Readable ValueErrors for a text config."""
    if not 2 <= cfg.maxlen <= 400:
        raise ValueError(f"maxlen must be 2-400 characters, got {cfg.maxlen}")
    if not 1 <= cfg.step <= 400:
        raise ValueError(f"step must be 1-400 characters, got {cfg.step}")
    if not 0.01 <= cfg.val_fraction <= 0.5:
        raise ValueError(f"val_fraction must be in [0.01, 0.5], got {cfg.val_fraction}")
    if not cfg.temperatures or any(not 0 <= t <= 10 for t in cfg.temperatures):
        raise ValueError(f"temperatures must be 0-10 (0 = argmax), got {cfg.temperatures}")
    if not 1 <= cfg.sample_length <= 5000:
        raise ValueError(f"sample_length must be 1-5000, got {cfg.sample_length}")
    if cfg.max_chars is not None and cfg.max_chars < 1000:
        raise ValueError(f"max_chars must be at least 1000 (or None for all), got {cfg.max_chars}")


def held_out_cuts(length: int, val_fraction: float) -> tuple[int, int]:
    """(cut, mid) of a text of ``length``: training [:cut], validation [cut:mid], test [mid:]."""
    cut = int(length * (1 - val_fraction))  # the training text, as before the test half existed
    return cut, cut + (length - cut) // 2


def prime_corpus(corpus: Corpus, cfg: TextConfig, windows: int) -> Corpus:
    """A short text with the alphabet ``corpus`` has as ``cfg`` reads it, whose training part
    cuts into about ``windows`` windows: data for the very model the whole corpus gives (its
    alphabet sets the model's size), made in milliseconds, for a warm worker to trace before a
    Start. The alphabet comes first, then the corpus's opening."""
    text = corpus.text[: cfg.max_chars] if cfg.max_chars else corpus.text
    alphabet = "".join(sorted(set(text)))
    train = len(alphabet) + cfg.maxlen + cfg.step * windows  # characters the windows need
    held = 2 * (2 * cfg.maxlen + 2)  # each held-out half longer than two windows
    length = max(math.ceil(train / (1 - cfg.val_fraction)), math.ceil(held / cfg.val_fraction))
    if len(text) <= length:
        return Corpus(corpus.name, text, corpus.source)
    return Corpus(corpus.name, alphabet + text[: length - len(alphabet)], corpus.source)


def make_text_data(cfg: TextConfig, corpus: Corpus | None = None) -> TextData:
    """Load (or take) the corpus, split its tail into validation and test halves, cut windows."""
    _check(cfg)
    corpus = corpus or load_corpus(cfg.corpus, cfg.lowercase, cfg.data_dir)
    text = corpus.text[: cfg.max_chars] if cfg.max_chars else corpus.text
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)  # (L,)
    cut, mid = held_out_cuts(len(ids), cfg.val_fraction)
    for half, size in (("validation", mid - cut), ("test", len(ids) - mid)):
        if size <= 2 * cfg.maxlen:
            raise ValueError(
                f"the {half} half of the held-out tail ({size:,} characters) is too short for "
                f"windows of {cfg.maxlen}: use a longer text, a larger val_fraction or a "
                "smaller maxlen"
            )
    x_train, y_train = make_windows(ids[:cut], cfg.maxlen, cfg.step, cfg.every_position)
    x_val, y_val = make_windows(ids[cut:mid], cfg.maxlen, cfg.maxlen, cfg.every_position)
    x_test, y_test = make_windows(ids[mid:], cfg.maxlen, cfg.maxlen, cfg.every_position)
    val_read, test_read = (
        (make_stretches(ids[cut:mid], STRETCH), make_stretches(ids[mid:], STRETCH))
        if cfg.every_position
        else ((x_val, y_val), (x_test, y_test))
    )
    val_text = text[cut:mid]
    if cfg.seed_text:
        seed = cfg.seed_text.lower() if cfg.lowercase else cfg.seed_text
        vocab.encode(seed)  # ValueError naming characters outside the alphabet
    else:
        seed = seed_from(val_text, cfg.maxlen, len(val_text) // 5)
    starts = np.linspace(0, len(val_text) - 2 * cfg.maxlen, VALIDITY_SEEDS + 2)[1:-1]
    seeds = tuple(seed_from(val_text, cfg.maxlen, int(s)) for s in starts)
    targets = "every prefix" if cfg.every_position else "the window"
    note = (
        f"{corpus.source}: {len(text):,} characters, an alphabet of {vocab.size}. Training on "
        f"{len(x_train):,} windows of {cfg.maxlen} characters (one every {cfg.step}) from the "
        f"first {cut:,}; validating every epoch on the next {mid - cut:,}, testing once on the "
        f"last {len(text) - mid:,}, both scored on {held_out_reading(cfg, len(val_read[0]))}. "
        f"Targets: the next character after {targets}."
    )
    words = corpus_words(text)
    ngram = fit_ngram(ids[:cut], vocab.size, NGRAM_ORDER, NGRAM_DISCOUNT)
    real = [val_text[(at := val_text.index(s)) + len(s) : at + len(s) + VALIDITY_LENGTH]
            for s in seeds]  # fmt: skip
    return TextData(
        cfg, Corpus(corpus.name, text, corpus.source), vocab, x_train, y_train, x_val, y_val,
        x_test, y_test, words, seed, seeds, note, ngram.window_bits(*val_read),
        ngram.window_bits(*test_read), word_validity(real, words, list(seeds)), val_read,
        test_read,
    )  # fmt: skip


def reading_of(cfg: TextConfig) -> str:
    """How a config's held-out halves are scored: STRAIGHT (a model that predicts after every
    prefix) or WINDOWS (one that predicts only the character after a whole window)."""
    return STRAIGHT if cfg.every_position else WINDOWS


def held_out_reading(cfg: TextConfig, rows: int | None = None, reading: str = "") -> str:
    """What of a held-out half is scored and how, in words; ``reading`` (STRAIGHT or WINDOWS,
    e.g. a stored report's) defaults to the config's own."""
    reading = reading or reading_of(cfg)
    if not cfg.every_position:
        return f"the character after each window of {cfg.maxlen}, the one the model predicts"
    if reading == WINDOWS:
        return f"every character of windows of {cfg.maxlen}, each window read from a zero state"
    parts = "one stretch" if rows == 1 else f"{rows} stretches" if rows else "stretches"
    return (
        f"every character, read straight through in {parts} of up to {STRETCH:,} characters "
        "with the state carried (as when writing text)"
    )


def build_text_model(cfg: ModelConfig, vocab_size: int, every_position: bool = True) -> Any:
    """Embedding (or fixed one-hot) -> stacked RNN -> Dense softmax over the characters.

    ``cfg.embedding_dim == 0`` feeds one-hot vectors, built inside the graph by a frozen
    identity Embedding, so no one-hot tensor ever exists outside a batch.
    """
    import keras

    from rnn_core.models import check_unroll, dense, recurrent_layer

    if cfg.cell not in CELLS:
        raise ValueError(
            f"a text model needs a recurrent cell ({', '.join(CELLS)}), not {cfg.cell}"
        )
    if cfg.bidirectional:
        raise ValueError("a generator reads left to right only: bidirectional is not possible")
    if not 1 <= cfg.layers <= 4:
        raise ValueError(f"layers must be 1-4, got {cfg.layers}")
    check_unroll(cfg, None)  # a generator reads any number of characters
    seed = cfg.seed * 1000
    inputs = keras.Input((None,), dtype="int32", name="chars")  # (B, T) character ids
    if cfg.embedding_dim > 0:
        init = keras.initializers.RandomUniform(-0.05, 0.05, seed=seed + 900)
        embed = keras.layers.Embedding(
            vocab_size, cfg.embedding_dim, embeddings_initializer=init, name="embedding"
        )
    else:  # row i of an identity matrix is the one-hot vector of id i
        embed = keras.layers.Embedding(
            vocab_size, vocab_size, embeddings_initializer="identity", trainable=False,
            name="one_hot",
        )  # fmt: skip
    h = embed(inputs)  # (B, T, E)
    for i in range(cfg.layers):
        last = i == cfg.layers - 1
        h = recurrent_layer(cfg, every_position or not last, f"rnn_{i + 1}", seed + 10 * i)(h)
    outputs = dense(vocab_size, "softmax", "char_probs", seed + 500)(h)  # (B, T, V) or (B, V)
    return keras.Model(inputs, outputs, name=f"text_{cfg.cell.lower()}")


def sampling_mode(window: int | None) -> str:
    """How a sample was made: "carry" (state carried) or "window W" (last W chars re-read)."""
    return "carry" if window is None else f"window {window}"


def sample_rng(cfg: TextConfig, epoch: int) -> np.random.Generator:
    """The sampling generator of one epoch: the same seed and epoch give the same samples."""
    return np.random.default_rng([cfg.seed, epoch])


def held_out_scores(model: Any, x_all: np.ndarray, y_all: np.ndarray) -> tuple[float, float]:
    """(bits per character, next-char accuracy) of a model on held-out rows of ids.

    Bits per character: the mean cross-entropy of every target, in bits (log2), each row read
    from a zero state. The rows are ``TextData.val_read`` (the epoch hook) or ``test_read``
    (``evaluate``): long stretches read straight through, or windows for a model that only
    predicts after a whole window.
    """
    bits, hits = [], []
    rows = max(1, PREDICT_CHARS // max(1, x_all.shape[1]))  # rows per call
    for i in range(0, len(x_all), rows):
        x = x_all[i : i + rows].astype(np.int32)  # (B, T)
        p = np.asarray(model.predict_on_batch(x), np.float64)  # (B, T, V) or (B, V)
        y = y_all[i : i + rows].astype(np.int64)  # (B, T) or (B,)
        picked = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]  # like y
        bits.append(-np.log2(np.maximum(picked, 1e-12)).ravel())  # as before: at most 40 bits
        hits.append((p.argmax(axis=-1) == y).ravel())
    return float(np.concatenate(bits).mean()), float(np.concatenate(hits).mean())


def measure_validity(
    gen: CharGenerator, data: TextData, rng: np.random.Generator, window: int | None = None
) -> tuple[float, int]:
    """Pooled word validity of 400-char samples at T=0.5 from the validation seeds, word count."""
    seeds = np.stack([data.vocab.encode(s) for s in data.validity_seeds])  # (K, maxlen)
    temps = [VALIDITY_T] * len(seeds)
    ids = gen.generate(seeds, VALIDITY_LENGTH, temps, rng, window)  # (K, 400)
    texts = [data.vocab.decode(row) for row in ids]
    n = sum(len(sample_words(t, s)) for t, s in zip(texts, data.validity_seeds, strict=True))
    return word_validity(texts, data.words, list(data.validity_seeds)), n


@dataclass(frozen=True)
class TextReport(Report):
    """After one epoch: the seed continued at every temperature, bits/char, word validity."""

    epoch: int  # the epoch it was sampled after (1-based)
    seed: str  # the text every sample continues
    temperatures: tuple[float, ...]  # one sample per temperature
    samples: tuple[str, ...]  # the continuations, in temperature order
    mode: str  # how the samples were made: "carry" (state carried) or "window W" (Keras)
    word_validity: float  # distinct corpus words per generated word, pooled T=0.5 samples
    words_scored: int  # generated words those samples held
    bits_per_char: float  # validation cross-entropy of the next character, in bits
    ngram_bits_per_char: float  # the same for the counting n-gram, same characters and contexts
    reading: str = WINDOWS  # how the validation half was read: STRAIGHT or WINDOWS

    @property
    def score(self) -> float:
        """Validation bits per character (lower is better)."""
        return self.bits_per_char

    def val_scores(self) -> dict[str, float]:
        """``val_bits_per_char``: bits per character on the validation half."""
        return {"val_bits_per_char": float(self.bits_per_char)}

    @classmethod
    def from_plain(cls, values: Any) -> Any:
        """Rebuild a stored report; older files (per-temperature validity, another word
        validity, no bits/char) keep their samples and read as not measured (NaN) otherwise."""
        values = dict(values)
        if "words_scored" not in values:
            values.pop("validity_by_t", None)
            values |= {"word_validity": float("nan"), "words_scored": 0}
        values.setdefault("mode", "carry")
        values.setdefault("bits_per_char", float("nan"))
        values.setdefault("ngram_bits_per_char", float("nan"))
        values.setdefault("reading", WINDOWS)  # older files: windows, each from a zero state
        return super().from_plain(values)


@dataclass(frozen=True)
class TextResults(Results):
    """Test-half next-character scores (scored once), the n-gram baseline's, word validity."""

    bits_per_char: float  # mean cross-entropy of the next test character, in bits
    ngram_bits_per_char: float  # the counting n-gram baseline's, on the same test characters
    loss: float  # the same cross-entropy in nats (Keras's loss)
    accuracy: float  # share of test next characters that are the likeliest
    word_validity: float  # distinct corpus words per generated word in T=0.5 samples
    words_scored: int  # words those samples held
    reading: str = field(default=WINDOWS, metadata=LABEL)  # the test half read: STRAIGHT, WINDOWS

    LABEL_WORDS: ClassVar[Mapping[str, str]] = {
        STRAIGHT: "read straight through", WINDOWS: "read in windows"
    }  # fmt: skip
    LABEL_NOTE: ClassVar[str] = (
        "Bits per character of a test half read in windows (each window from a zero state) and "
        "read straight through (the state carried) do not compare: in windows the model has "
        "less text behind each character."
    )

    @property
    def headline(self) -> tuple[str, float]:
        """Test bits per character."""
        return "test bits/char", self.bits_per_char

    @classmethod
    def from_plain(cls, values: Any) -> Any:
        """Rebuild stored results. Older files (``val_loss``, ``val_accuracy``) were scored on
        the whole held-out tail, which also chose their epoch: those figures are not test
        figures, so they read as not measured (NaN); their word validity is kept."""
        values = dict(values)
        if "val_loss" in values or "val_accuracy" in values:
            for old in ("val_loss", "val_accuracy", "bits_per_char", "ngram_bits_per_char"):
                values.pop(old, None)
            values |= dict.fromkeys(("bits_per_char", "loss", "accuracy"), float("nan"))
        values.setdefault("ngram_bits_per_char", float("nan"))
        values.setdefault("reading", WINDOWS)  # older files: windows, each from a zero state
        return super().from_plain(values)


# The shape of text generation, said the same way wherever it is named (Home, Text page).
TEXT_SHAPE = (
    "many-to-many in training (a next-character prediction after every character), "
    "one-to-many in generation (one seed, then one character after another, each fed back in)"
)


class TextTask(Task):
    """Character-level generation: read a window of characters, predict the next one."""

    info = TaskInfo(
        name="text",
        label="Text generation (characters)",
        rnn_type=TEXT_SHAPE,
        metric="accuracy",
        description=(
            "The RNN reads text one character at a time and outputs a softmax over the "
            "alphabet: the probability of each possible next character. Sampling from it, one "
            "character at a time, writes new text; the temperature sharpens or flattens it."
        ),
    )
    data_config = TextConfig
    report_type = TextReport
    results_type = TextResults
    default_preset = "text-fast"

    def val_metrics(self) -> dict[str, str]:
        """Keras's ``val_loss`` and ``val_accuracy``, and the report's ``val_bits_per_char``."""
        return super().val_metrics() | {"val_bits_per_char": "min"}

    def make_data(self, cfg: TextConfig, source: Corpus | None = None) -> TextData:
        """Windows of the corpus named in the config (or of ``source``, e.g. an upload)."""
        return make_text_data(cfg, source)

    def build(self, spec: RunSpec, data: TextData) -> Any:
        """Build and compile the character model."""
        from rnn_core.models import compile_model

        model = build_text_model(spec.model, data.vocab.size, data.config.every_position)
        compile_model(model, spec.train, "sparse_categorical_crossentropy", ["accuracy"])
        return model

    def splits(self, data: TextData) -> tuple:
        """((x_train, y_train), (x_val, y_val)) for the engine (never the test half)."""
        return (data.x_train, data.y_train), (data.x_val, data.y_val)

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """The likeliest next character id after every prefix (or the window). (N, T) or (N,)."""
        return np.asarray(model.predict_on_batch(x.astype(np.int32))).argmax(axis=-1)

    def window(self, data: TextData) -> int | None:
        """The sampling window: maxlen when the config asks for Keras-style sampling."""
        return data.config.maxlen if data.config.window_sampling else None

    def epoch_report(self, data: TextData):
        """A hook for the engine: samples, validation bits/char (and the n-gram's), validity."""
        cfg = data.config

        def hook(model: Any, epoch: int) -> TextReport:
            gen = CharGenerator.from_keras(model)
            rng = sample_rng(cfg, epoch)
            window = self.window(data)
            texts = generate_text(
                gen, data.vocab, data.seed_text, cfg.sample_length, cfg.temperatures, rng, window
            )
            validity, n = measure_validity(gen, data, rng, window)
            bits, _ = held_out_scores(model, *data.val_read)
            return TextReport(
                epoch=epoch,
                seed=data.seed_text,
                temperatures=tuple(cfg.temperatures),
                samples=tuple(texts),
                mode=sampling_mode(window),
                word_validity=validity,
                words_scored=n,
                bits_per_char=bits,
                ngram_bits_per_char=data.ngram_val_bits,
                reading=reading_of(cfg),
            )

        return hook

    def evaluate(self, model: Any, data: TextData) -> TextResults:
        """Test-half bits/char (and the n-gram's), loss, next-char accuracy, word validity."""
        bits, accuracy = held_out_scores(model, *data.test_read)
        gen = CharGenerator.from_keras(model)
        rng = sample_rng(data.config, 10_000)
        validity, n = measure_validity(gen, data, rng, self.window(data))
        return TextResults(
            bits_per_char=bits,
            ngram_bits_per_char=data.ngram_test_bits,
            loss=bits * LN2,
            accuracy=accuracy,
            word_validity=validity,
            words_scored=n,
            reading=reading_of(data.config),
        )

    def companion(self, data: TextData) -> tuple[str, str]:
        """The alphabet and settings ``generate`` reads beside the model (``.vocab.json``)."""
        return VOCAB_SUFFIX, sidecar_json(data)


def sidecar_meta(vocab: Vocabulary, cfg: TextConfig, corpus: str) -> dict[str, Any]:
    """What ``generate`` needs beside a text model: its alphabet and how it reads text."""
    return {
        **vocab.to_json(),
        "lowercase": cfg.lowercase,
        "maxlen": cfg.maxlen,
        "corpus": corpus,
        "window_sampling": cfg.window_sampling,
    }


def sidecar_json(data: Any) -> str:
    """The ``PATH.vocab.json`` text for a run's model (also offered as a page download)."""
    corpus = data.corpus.name if hasattr(data, "corpus") else data.config.corpus
    return json.dumps(sidecar_meta(data.vocab, data.config, corpus), ensure_ascii=False)


def sidecar_path(path: str | Path) -> Path:
    """Where a saved text model's alphabet lives: ``model.keras`` -> ``model.keras.vocab.json``."""
    path = Path(path)
    return path.with_name(path.name + VOCAB_SUFFIX)


def read_sidecar(path: str | Path) -> tuple[Vocabulary, dict[str, Any]]:
    """The alphabet and settings saved beside a text model; ValueError when missing."""
    path = Path(path)
    side = sidecar_path(path)
    if not path.is_file():
        raise ValueError(f"no model file at {path}")
    if not side.is_file():
        raise ValueError(
            f"{side.name} is missing: a text model needs its alphabet beside it (train with "
            "`python -m rnn_core train --task text --save PATH` to write both)"
        )
    meta = json.loads(side.read_text())
    return Vocabulary.from_json(meta), meta


def load_text_model(path: str | Path) -> tuple[Any, Vocabulary, dict[str, Any]]:
    """A saved text model, its vocabulary and its settings; ValueError when a file is missing."""
    import keras

    vocab, meta = read_sidecar(path)
    return keras.saving.load_model(path), vocab, meta
