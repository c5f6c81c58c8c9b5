"""IMDB review sentiment: Keras-exact data, padding/truncation reports, review scoring, the task.

Loading is in two steps so a page can cache the slow one: :func:`load_imdb_source` reads and
pads every review once per (num_words, maxlen, ...) and returns read-only arrays;
:func:`make_imdb_data` takes a run's stratified training subset from it as fresh copies.
Nothing here imports TensorFlow until a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from rnn_core.config import ImdbConfig, RunSpec
from rnn_core.data import loaders as datasets
from rnn_core.data.review_text import INDEX_FROM, OOV_ID, id_words, index_words
from rnn_core.tasks.base import KerasCode, detail
from rnn_core.tasks.classifier import (
    ClassifierReport,
    ClassifierResults,
    ClassifierTask,
    check_sizes,
    classifier_code,
    data_note,
    predict,
    split_off_validation,
    validation_sample,
)
from rnn_core.tasks.info import TaskInfo

IMDB_HOOK_SIZE = 1_000  # validation reviews scored after every epoch (at most)
SAMPLE_REVIEWS = 5  # validation reviews whose text and score the page follows epoch by epoch
EXAMPLE_REVIEWS = 10  # test reviews kept unpadded in the source, for the truncation view


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view: sharing it between sessions cannot let one change another's data."""
    view = a.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class ImdbSource:
    """Every review loaded and padded once; shared (read-only) by all runs with these settings."""

    key: tuple  # (num_words, skip_top, maxlen, padding, truncating, data dir) it was made for
    x_train: np.ndarray  # (25000, T) int32 word ids, read-only, Keras's shuffled order
    y_train: np.ndarray  # (25000,) float32 1 = positive, read-only
    x_test: np.ndarray  # (25000, T) int32, read-only
    y_test: np.ndarray  # (25000,) float32, read-only
    train_lengths: np.ndarray  # (25000,) tokens per training review before padding, read-only
    examples: tuple[tuple[int, ...], ...]  # the first test reviews' ids, not padded or cut
    word_index: Mapping[str, int]  # word -> frequency rank (1 = "the"), read-only
    index_word: Mapping[int, str]  # model id -> word (rank + 3), read-only


@dataclass(frozen=True)
class ImdbData:
    """Padded IMDB splits plus what the page needs to show and score reviews."""

    config: ImdbConfig  # the config that made the data
    x_train: np.ndarray  # (N, T) int32 word ids cut to maxlen, padded to padded_width (a copy)
    y_train: np.ndarray  # (N,) float32, 1 = positive (a copy)
    x_val: np.ndarray | None  # (N_val, T) the last val_fraction of the training subset
    y_val: np.ndarray | None  # (N_val,)
    x_test: np.ndarray  # (25000, T) the whole test set (read-only, shared)
    y_test: np.ndarray  # (25000,) (read-only, shared)
    word_index: Mapping[str, int]  # word -> frequency rank (1 = "the")
    train_lengths: np.ndarray  # (N,) tokens per training review before padding/truncation
    sample_texts: tuple[str, ...]  # the first validation reviews decoded, as the model sees them
    test_texts: tuple[str, ...]  # the first test reviews decoded (older files' epoch reports)
    note: str  # how much data is used and how much truncation cuts


@dataclass(frozen=True)
class ReviewExamples:
    """A few raw test reviews as words, for showing what padding and truncation do."""

    words: tuple[tuple[str, ...], ...]  # each review's tokens, <START> first, rare ones <OOV>
    labels: tuple[int, ...]  # 1 = positive
    train_lengths: np.ndarray  # (25000,) tokens per training review before padding


def _check_imdb(cfg: ImdbConfig) -> None:
    """Readable ValueErrors for an IMDB config."""
    if cfg.num_words <= INDEX_FROM + 1:
        raise ValueError(f"num_words must be more than {INDEX_FROM + 1}, got {cfg.num_words}")
    if not 0 <= cfg.skip_top < cfg.num_words:
        raise ValueError(f"skip_top must be in [0, num_words), got {cfg.skip_top}")
    if cfg.maxlen < 1:
        raise ValueError(f"maxlen must be at least 1, got {cfg.maxlen}")
    for name in ("padding", "truncating"):
        if getattr(cfg, name) not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post', got {getattr(cfg, name)!r}")
    check_sizes(cfg.train_size, cfg.val_fraction)


def padded_width(cfg: ImdbConfig) -> int:
    """Columns of the padded reviews: maxlen, rounded up to a multiple of words_per_step."""
    k = cfg.words_per_step
    return -(-cfg.maxlen // k) * k


def widen(x: np.ndarray, cfg: ImdbConfig) -> np.ndarray:
    """Reviews padded to maxlen (N, maxlen), with zero columns added on the padding side up to
    :func:`padded_width`, so the words split evenly into timesteps. Returns (N, width)."""
    extra = padded_width(cfg) - x.shape[1]
    if extra <= 0:
        return x
    side = (extra, 0) if cfg.padding == "pre" else (0, extra)
    return np.pad(x, ((0, 0), side))  # (N, width)


def source_key(cfg: ImdbConfig) -> tuple:
    """What the loaded source depends on: the key a page caches :func:`load_imdb_source` by."""
    ddir = datasets.resolve_data_dir(cfg.data_dir)
    width = padded_width(cfg)
    return (
        cfg.num_words,
        cfg.skip_top,
        cfg.maxlen,
        cfg.padding,
        cfg.truncating,
        width,
        str(ddir or ""),
    )


def load_imdb_source(cfg: ImdbConfig) -> ImdbSource:
    """Load every review exactly as ``keras.datasets.imdb.load_data`` does, then pad to maxlen.

    Only the fields in :func:`source_key` matter. Raises ``datasets.DataMissingError`` when
    ``imdb.npz`` or ``imdb_word_index.json`` is unavailable.
    """
    _check_imdb(cfg)
    (x_train, y_train), (x_test, y_test) = datasets.load_imdb_ragged(
        num_words=cfg.num_words, skip_top=cfg.skip_top, maxlen=None, data_dir=cfg.data_dir
    )  # maxlen=None: keep every review; padding and truncation come next
    word_index = datasets.get_word_index(cfg.data_dir)
    pad = {"padding": cfg.padding, "truncating": cfg.truncating}
    first = x_test.take(np.arange(min(EXAMPLE_REVIEWS, len(x_test))))
    return ImdbSource(
        key=source_key(cfg),
        x_train=_frozen(widen(x_train.padded(cfg.maxlen, **pad), cfg)),  # (25000, T)
        y_train=_frozen(y_train.astype(np.float32)),
        x_test=_frozen(widen(x_test.padded(cfg.maxlen, **pad), cfg)),  # (25000, T)
        y_test=_frozen(y_test.astype(np.float32)),
        train_lengths=_frozen(x_train.lengths.astype(np.int32)),
        examples=tuple(tuple(s) for s in first.to_lists()),
        word_index=MappingProxyType(word_index),
        index_word=MappingProxyType(index_words(word_index)),
    )


def make_imdb_data(cfg: ImdbConfig, source: ImdbSource | None = None) -> ImdbData:
    """A run's data: stratified training subset (copied), validation split, shared test set.

    Pass a cached ``source`` made for ``source_key(cfg)``; without one the reviews are loaded.
    """
    _check_imdb(cfg)
    if source is None:
        source = load_imdb_source(cfg)
    elif source.key != source_key(cfg):
        raise ValueError(f"source was loaded for {source.key}, not {source_key(cfg)}")
    idx = datasets.subset_indices(source.y_train, cfg.train_size, rng=cfg.seed)
    x, y = source.x_train[idx], source.y_train[idx]  # fancy indexing: fresh, writable copies
    lengths = source.train_lengths[idx]
    train, val = split_off_validation(x, y, cfg.val_fraction)
    cut = float((lengths > cfg.maxlen).mean()) if len(lengths) else 0.0
    median = int(np.median(lengths)) if len(lengths) else 0
    note = data_note(
        len(train[0]), 0 if val is None else len(val[0]), len(source.y_train), "reviews"
    )
    note += (
        f" maxlen={cfg.maxlen} cuts {cut:.0%} of them ({cfg.truncating}-truncation); "
        f"the median review has {median} tokens."
    )

    def texts(rows: Any) -> tuple[str, ...]:
        return tuple(" ".join(id_words(row, source.index_word)) for row in rows[:SAMPLE_REVIEWS])

    return ImdbData(
        config=cfg,
        x_train=train[0],
        y_train=train[1],
        x_val=None if val is None else val[0],
        y_val=None if val is None else val[1],
        x_test=source.x_test,
        y_test=source.y_test,
        word_index=source.word_index,
        train_lengths=lengths,
        sample_texts=() if val is None else texts(val[0]),
        test_texts=texts(source.x_test),
        note=note,
    )


def review_examples(
    cfg: ImdbConfig, n: int = EXAMPLE_REVIEWS, source: ImdbSource | None = None
) -> ReviewExamples:
    """The first ``n`` (at most 10) test reviews as word lists, plus every training length."""
    source = source or load_imdb_source(cfg)
    words = tuple(tuple(id_words(seq, source.index_word)) for seq in source.examples[:n])
    labels = tuple(int(v) for v in source.y_test[: len(words)])
    return ReviewExamples(words, labels, source.train_lengths)


def describe_truncation(
    words: Sequence[str], maxlen: int, padding: str = "pre", truncating: str = "pre"
) -> dict[str, Any]:
    """What ``pad`` does to one review: a summary, the words cut, the words kept, the padding."""
    if padding not in ("pre", "post"):
        raise ValueError(f"padding must be 'pre' or 'post', got {padding!r}")
    report = datasets.truncation_report(words, maxlen, truncating)
    kept = list(words[report.kept_start : report.kept_end])
    cut = list(words[: report.kept_start]) + list(words[report.kept_end :])
    return {
        "summary": report.summary,
        "n_cut": report.n_cut,
        "cut": cut,
        "kept": kept,
        "kept_text": " ".join(kept),
        "n_pad": report.n_pad,
        "pad_side": "before" if padding == "pre" else "after",
        "cut_side": "start" if truncating == "pre" else "end",
    }


def encode_for_model(
    text: str, word_index: Mapping[str, int], cfg: ImdbConfig
) -> tuple[np.ndarray, list[str], list[str]]:
    """(ids (1, T), tokens, unknown words) for a typed review, as the loader would encode it."""
    ids, _ = datasets.encode_review(text, word_index, None)
    ids = [i if cfg.skip_top <= i < cfg.num_words else OOV_ID for i in ids]  # Keras's rule
    tokens = datasets.tokenize(text)
    unknown = list(dict.fromkeys(w for w, i in zip(tokens, ids[1:], strict=True) if i == OOV_ID))
    x = widen(datasets.pad([ids], cfg.maxlen, cfg.padding, cfg.truncating), cfg)  # (1, T)
    return x, tokens, unknown


@dataclass(frozen=True)
class ReviewAsRead:
    """A typed review as the model reads it: its tokens, what maxlen cuts, the unknown words."""

    tokens: tuple[str, ...]  # "<START>" then the review's words, before cutting
    unknown: frozenset[str]  # words outside the vocabulary: each reads as <OOV>
    kept_start: int  # tokens[kept_start:kept_end] are what the model reads
    kept_end: int  # (pre-truncating cuts the start, post-truncating the end)
    n_pad: int  # padding zeros added to reach maxlen


def read_review(text: str, word_index: Mapping[str, int], cfg: ImdbConfig) -> ReviewAsRead:
    """What :func:`encode_for_model` feeds the model, token by token (the same cut)."""
    x, tokens, unknown = encode_for_model(text, word_index, cfg)
    report = datasets.truncation_report(["<START>", *tokens], cfg.maxlen, cfg.truncating)
    return ReviewAsRead(
        ("<START>", *tokens), frozenset(unknown), report.kept_start, report.kept_end, report.n_pad
    )


def score_review(
    model: Any, text: str, word_index: Mapping[str, int], cfg: ImdbConfig
) -> tuple[float, list[str]]:
    """(probability the review is positive, words the model does not know)."""
    if not datasets.tokenize(text):
        raise ValueError("Type a review with at least one word.")
    x, _, unknown = encode_for_model(text, word_index, cfg)
    return float(predict(model, x).reshape(-1)[0]), unknown


def review_rows(
    data: ImdbData, probabilities: Sequence[float], split: str = "validation"
) -> list[dict[str, Any]]:
    """Table rows for the first reviews of ``split``: text, P(positive), prediction, truth."""
    texts, labels = (
        (data.sample_texts, data.y_val) if split == "validation" else (data.test_texts, data.y_test)
    )
    rows = []
    for text, p, y in zip(texts, probabilities, labels, strict=False):
        truth = "positive" if y > 0.5 else "negative"
        guess = "positive" if p > 0.5 else "negative"
        rows.append(
            {"review": text, "P(positive)": float(p), "predicted": guess, "true": truth,
             "ok": guess == truth}
        )  # fmt: skip
    return rows


def sample_reviews(
    model: Any, data: ImdbData, n: int = SAMPLE_REVIEWS, probabilities: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """The first ``n`` validation reviews decoded, with predicted probability and true label."""
    n = min(n, len(data.sample_texts))
    if probabilities is None:
        probabilities = predict(model, data.x_val[:n]).reshape(-1)  # (n,)
    return review_rows(data, [float(p) for p in probabilities[:n]])


@dataclass(frozen=True)
class ImdbReport(ClassifierReport):
    """After one epoch: accuracy on the first IMDB_HOOK_SIZE validation reviews, the first
    scores."""

    probabilities: tuple[float, ...]  # P(positive) of the first SAMPLE_REVIEWS of ``split``


@dataclass(frozen=True)
class ImdbResults(ClassifierResults):
    """Accuracy on the whole test set, with every review's P(positive)."""

    reviews: int  # test reviews scored
    probabilities: np.ndarray | None = detail()  # (N,)


_KERAS_DATA = """\
# Data: IMDB reviews as word ids (Keras's loader), padded or cut to MAXLEN words.
NUM_WORDS, MAXLEN, TRAIN_SIZE = {num_words}, {maxlen}, {train_size}
(x, y), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=NUM_WORDS, skip_top={skip_top})
pad = dict(maxlen=MAXLEN, padding="{padding}", truncating="{truncating}")
x, x_test = keras.utils.pad_sequences(x, **pad), keras.utils.pad_sequences(x_test, **pad)
x, y = x[:TRAIN_SIZE], y[:TRAIN_SIZE]  # (N, MAXLEN) word ids, (N,) 0/1 labels
"""


class ImdbTask(ClassifierTask):
    """Sentiment: an RNN reads a review word by word; its last state says positive or not."""

    info = TaskInfo(
        name="imdb",
        label="IMDB reviews (sentiment)",
        rnn_type="many-to-one",
        metric="accuracy",
        description=(
            "An Embedding turns each word id into a vector; the RNN reads the review word by "
            "word (or a few words per timestep); its final state, or the max or mean of its "
            "states over time, goes to one sigmoid unit: the probability that the review is "
            "positive. Chance is 50%."
        ),
    )
    data_config = ImdbConfig
    report_type = ImdbReport
    results_type = ImdbResults
    files = (datasets.IMDB_FILE, datasets.WORD_INDEX_FILE)
    default_preset = "imdb-fast-forward"  # one-way: Inside the RNN can step through it
    length_batches = True
    _source_key = staticmethod(source_key)
    _load_source = staticmethod(load_imdb_source)
    _make_data = staticmethod(make_imdb_data)

    def build(self, spec: RunSpec, data: ImdbData) -> Any:
        """Embedding -> RNN (or Flatten -> Dense) -> Dense(1, sigmoid), compiled."""
        from rnn_core.models import build_sequence_classifier, compile_model

        maxlen = data.x_train.shape[1]
        if spec.train.batch_by_length and spec.model.cell == "Dense":
            raise ValueError(
                "The Dense baseline reads exactly maxlen words: batching by length needs an RNN"
            )
        if spec.train.batch_by_length and spec.model.unroll:
            raise ValueError(
                "Unroll needs one fixed length, and batching by length cuts each batch to its "
                "own length: turn off one of them"
            )
        steps = None if spec.train.batch_by_length else maxlen  # batches of any length
        k = data.config.words_per_step
        model = build_sequence_classifier(spec.model, (steps,), 2, data.config.num_words, k)
        compile_model(model, spec.train, "binary_crossentropy", ["accuracy"])
        return model

    def predict(self, model: Any, x: np.ndarray) -> np.ndarray:
        """P(positive) per review. Returns (N,)."""
        return predict(model, x).reshape(-1)

    def epoch_report(self, data: ImdbData, size: int = IMDB_HOOK_SIZE):
        """A hook for the engine: accuracy on the first ``size`` validation reviews and sample
        scores (None without a validation split; the test reviews are never looked at)."""
        sample = validation_sample(data, size)

        def hook(model: Any, epoch: int) -> ImdbReport | None:
            if sample is None:
                return None
            x, y = sample
            p = self.predict(model, x)  # (size,)
            return ImdbReport(
                accuracy=float(((p > 0.5) == (y > 0.5)).mean()),
                sample_size=int(len(y)),
                split="validation",
                probabilities=tuple(float(v) for v in p[:SAMPLE_REVIEWS]),
            )

        return hook

    def evaluate(self, model: Any, data: ImdbData) -> ImdbResults:
        """Accuracy on the whole test set; every review's P(positive) is kept in the results."""
        p = self.predict(model, data.x_test)  # (N,)
        accuracy = float(((p > 0.5) == (data.y_test > 0.5)).mean())
        return ImdbResults(accuracy, int(len(data.y_test)), p)

    def keras_code(self, spec: RunSpec) -> KerasCode:
        """Keras's IMDB loader and padding, Embedding -> RNN stack -> sigmoid."""
        d = spec.data
        data = _KERAS_DATA.format(
            num_words=d.num_words,
            maxlen=d.maxlen,
            train_size="None" if d.train_size is None else d.train_size,
            skip_top=d.skip_top,
            padding=d.padding,
            truncating=d.truncating,
        )
        width, k = padded_width(d), d.words_per_step
        if width == d.maxlen:
            return classifier_code(spec, data, "(MAXLEN,)", True, 2)
        data += (
            f"# {k} words per timestep: more zeros on the padding side, to {width} columns\n"
            f'x, x_test = (keras.utils.pad_sequences(a, maxlen={width}, padding="{d.padding}")'
            f" for a in (x, x_test))\n"
        )
        return classifier_code(spec, data, f"({width},)", True, 2)

    def stepper_choices(self, data: ImdbData, limit: int) -> list[str]:
        """ "#i (tone, n words): the first words …" for the first ``limit`` test reviews."""
        from rnn_core.stepper.sources import imdb_choices

        return imdb_choices(data, limit)

    def stepper_input(self, model: Any, data: ImdbData, index: int, top: int) -> dict:
        """The RNN reads test review ``index`` one word embedding per timestep."""
        from rnn_core.stepper.sources import imdb_input

        return imdb_input(model, data, index)
