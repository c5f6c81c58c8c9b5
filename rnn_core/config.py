"""Frozen, typed configuration dataclasses shared by the CLI, the pages and the engine."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from numbers import Integral
from typing import Any

CELLS = ("SimpleRNN", "LSTM", "GRU")
OPTIMIZERS = ("adam", "rmsprop", "sgd", "adamw")
POOLINGS = ("last", "max", "mean", "max+mean")  # how a classifier reduces the last RNN's outputs
SCHEDULES = ("constant", "cosine")  # the learning rate over a training call
WORDS_PER_STEP = (1, 2, 4, 8)  # IMDB: words per timestep (each divides the 32-step batch cut)


def _at_least(**values: tuple[Any, int]) -> None:
    """Raise ValueError for the first ``name=(value, minimum)`` below its minimum."""
    for name, (value, low) in values.items():
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            label = name.replace("_", " ")
            raise ValueError(f"{label} must be a whole number >= {low}, got {value!r}")


@dataclass(frozen=True)
class AdditionConfig:
    """The seq2seq addition task (Keras ``addition_rnn``)."""

    digits: int = 3  # largest number of digits in each operand (1-5)
    train_size: int = 50_000  # distinct questions used for training
    val_fraction: float = 0.1  # share of the training questions held out for validation
    test_size: int = 1_000  # held-out questions, never seen in training, for exact match
    reverse: bool = True  # feed the question reversed (helps, as in the Keras example)
    seed: int = 0  # seed of the question generator


@dataclass(frozen=True)
class ImdbConfig:
    """IMDB review sentiment (Keras ``imdb``): word ids padded or cut to a fixed length."""

    num_words: int = 10_000  # keep the most frequent words; rarer ones read as <OOV> (id 2)
    skip_top: int = 0  # ids below this also read as <OOV> (Keras skip_top; 0 = off)
    maxlen: int = 500  # pad or truncate every review to this many tokens
    padding: str = "pre"  # "pre": zeros before a short review, "post": after it
    truncating: str = "pre"  # "pre": cut the start of a long review, "post": its end
    words_per_step: int = 1  # words per timestep, vectors side by side (1, 2, 4 or 8)
    train_size: int | None = None  # training reviews used (stratified subset); None = all 25k
    val_fraction: float = 0.2  # share of them held out for validation (like validation_split)
    data_dir: str | None = None  # folder with imdb.npz; None = $RNN_LAB_DATA_DIR / Keras cache
    seed: int = 0  # seed of the training subset

    def __post_init__(self) -> None:
        """Refuse a words-per-step count not in WORDS_PER_STEP, naming the choices."""
        k = self.words_per_step
        if isinstance(k, bool) or k not in WORDS_PER_STEP:
            choices = ", ".join(map(str, WORDS_PER_STEP))
            raise ValueError(f"words per step must be one of {choices}, got {k!r}")


@dataclass(frozen=True)
class MnistConfig:
    """MNIST digits read row by row: 28 timesteps of 28 pixels (or fewer, longer), ten classes."""

    train_size: int | None = None  # training images used (stratified subset); None = all 60k
    val_fraction: float = 0.1  # share of them held out for validation (like validation_split)
    data_dir: str | None = None  # folder with mnist.npz; None = $RNN_LAB_DATA_DIR / Keras cache
    seed: int = 0  # seed of the training subset
    rows_per_step: int = 1  # pixel rows read per timestep: 28 / this many steps (divides 28)

    def __post_init__(self) -> None:
        """Refuse a row count that does not split the 28 rows evenly, naming the choices."""
        _at_least(rows_per_step=(self.rows_per_step, 1))
        if 28 % self.rows_per_step:
            raise ValueError(
                f"rows per step must divide 28 (1, 2, 4, 7, 14 or 28), got {self.rows_per_step}"
            )


@dataclass(frozen=True)
class TextConfig:
    """Character-level text generation (Keras ``lstm_text_generation``): next-char windows."""

    corpus: str = "nietzsche"  # "nietzsche", "python-docs" or a path to a UTF-8 .txt file
    lowercase: bool = True  # lowercase the text first (smaller alphabet, as in Keras)
    max_chars: int | None = None  # use only the first this-many characters; None = all
    maxlen: int = 40  # characters in one training window (Keras: 40)
    step: int = 3  # characters between the starts of two training windows (Keras: 3)
    every_position: bool = True  # predict the next char after every prefix (False: last only)
    val_fraction: float = 0.1  # last share, held out: 1st half validates per epoch, 2nd tests once
    temperatures: tuple[float, ...] = (0.2, 0.5, 1.0, 1.2)  # sampled after every epoch
    sample_length: int = 400  # characters generated per sample
    seed_text: str = ""  # seed sampled from each epoch; "" = a sentence of the validation text
    window_sampling: bool = False  # re-read the last maxlen chars (Keras) instead of carrying h
    data_dir: str | None = None  # folder with nietzsche.txt; None = $RNN_LAB_DATA_DIR / Keras
    seed: int = 0  # seed of the sampling random generator


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a recurrent model; the task decides its inputs and outputs."""

    cell: str = "LSTM"  # SimpleRNN, LSTM or GRU (Dense: a non-recurrent baseline)
    units: int = 128  # hidden units per recurrent layer
    layers: int = 1  # stacked recurrent layers (in the encoder and decoder for addition)
    dropout: float = 0.0  # dropout on each recurrent layer's inputs
    bidirectional: bool = False  # wrap encoder layers in Bidirectional
    embedding_dim: int = 32  # embedding width for word-level tasks
    pooling: str = "last"  # classifiers: "last" state, or "max", "mean", "max+mean" over time
    unroll: bool = False  # write the RNN loop out step by step: faster on short sequences
    seed: int = 0  # seed of every initializer and dropout in this model

    def __post_init__(self) -> None:
        """Refuse sizes no model can have, with a message naming the setting."""
        _at_least(units=(self.units, 1), layers=(self.layers, 1))
        _at_least(embedding_dim=(self.embedding_dim, 0))
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")


OPS = (">=", "<=", ">", "<")  # comparisons a stop condition may use
_UNTIL_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<|≥|≤)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Until:
    """A stop condition on a validation metric, e.g. ``val_accuracy >= 0.89``."""

    metric: str  # a validation metric of the task, e.g. "val_exact_match", "val_bits_per_char"
    op: str  # one of OPS: ">=" / ">" when higher is better, "<=" / "<" when lower is better
    value: float  # the threshold the metric has to reach

    def __post_init__(self) -> None:
        """Refuse a comparison or threshold that cannot be checked."""
        if self.op not in OPS:
            raise ValueError(f"until: compare with one of {' '.join(OPS)}, got {self.op!r}")
        if not math.isfinite(self.value):
            raise ValueError(f"until: the threshold must be a finite number, got {self.value!r}")

    @property
    def higher_is_better(self) -> bool:
        """True for ``>=`` and ``>`` (the metric grows as the model improves)."""
        return self.op.startswith(">")

    def met(self, value: float) -> bool:
        """True when ``value`` satisfies the condition."""
        v, t = float(value), self.value
        return {">=": v >= t, "<=": v <= t, ">": v > t, "<": v < t}[self.op]

    def text(self) -> str:
        """The condition as written on the command line: ``val_accuracy>=0.89``."""
        return f"{self.metric}{self.op}{self.value:g}"


def parse_until(text: str) -> Until:
    """``"val_accuracy>=0.89"`` -> Until; ValueError with one readable line otherwise."""
    match = _UNTIL_RE.match(text or "")
    if match is None:
        raise ValueError(
            f"until: write METRIC>=VALUE or METRIC<=VALUE, e.g. val_accuracy>=0.89; got {text!r}"
        )
    metric, op, raw = match.groups()
    op = {"≥": ">=", "≤": "<="}.get(op, op)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"until: {raw!r} is not a number (in {text!r})") from None
    return Until(metric, op, value)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, batches, epochs and how often progress is published."""

    epochs: int = 30  # epochs to run in one call of start or train-more
    batch_size: int = 128  # samples per gradient step
    optimizer: str = "adam"  # adam, rmsprop, sgd or adamw
    learning_rate: float = 3e-3  # optimizer step size
    seed: int = 0  # seed of the per-epoch shuffle
    publish_every: int = 5  # batches between two progress snapshots
    until: str = ""  # stop once a validation metric reaches a value ("val_accuracy>=0.89"); ""=off
    patience: int = 0  # stop after this many epochs without a better validation score; 0 = off
    schedule: str = "constant"  # "cosine": the rate falls from learning_rate to 0 by the last epoch
    batch_by_length: bool = False  # word ids: batch reviews of similar length, cut off padding
    steps_per_execution: int = 1  # batches TensorFlow runs per call from Python; progress every N
    jit_compile: bool = False  # XLA: compile each training step into one fused program

    def __post_init__(self) -> None:
        """Refuse counts that cannot train and an unreadable stop condition, naming the setting."""
        _at_least(
            epochs=(self.epochs, 1), batch_size=(self.batch_size, 1),
            publish_every=(self.publish_every, 1), patience=(self.patience, 0),
            steps_per_execution=(self.steps_per_execution, 1),
        )  # fmt: skip
        if self.until:
            parse_until(self.until)
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to reproduce one run: task name plus its three configs."""

    task: str = "addition"  # registered task name
    data: Any = field(default_factory=AdditionConfig)  # the task's data config
    model: ModelConfig = field(default_factory=ModelConfig)  # model shape
    train: TrainConfig = field(default_factory=TrainConfig)  # training settings

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON output and query strings."""
        return {
            "task": self.task,
            "data": asdict(self.data),
            "model": asdict(self.model),
            "train": asdict(self.train),
        }


def update(cfg: Any, **changes: Any) -> Any:
    """Return a copy of a config with the given fields changed, ignoring unknown names."""
    names = {f.name for f in fields(cfg)}
    return replace(cfg, **{k: v for k, v in changes.items() if k in names and v is not None})
