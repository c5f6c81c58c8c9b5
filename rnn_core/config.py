"""Frozen, typed configuration dataclasses shared by the CLI, the pages and the engine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

CELLS = ("SimpleRNN", "LSTM", "GRU")
OPTIMIZERS = ("adam", "rmsprop", "sgd", "adamw")


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
class ModelConfig:
    """Shape of a recurrent model; the task decides its inputs and outputs."""

    cell: str = "LSTM"  # SimpleRNN, LSTM or GRU (Dense: a non-recurrent baseline)
    units: int = 128  # hidden units per recurrent layer
    layers: int = 1  # stacked recurrent layers (in the encoder and decoder for addition)
    dropout: float = 0.0  # dropout on each recurrent layer's inputs
    bidirectional: bool = False  # wrap encoder layers in Bidirectional
    embedding_dim: int = 32  # embedding width for word-level tasks
    seed: int = 0  # seed of every initializer and dropout in this model


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, batches, epochs and how often progress is published."""

    epochs: int = 30  # epochs to run in one call of start or train-more
    batch_size: int = 128  # samples per gradient step
    optimizer: str = "adam"  # adam, rmsprop, sgd or adamw
    learning_rate: float = 3e-3  # optimizer step size
    seed: int = 0  # seed of the per-epoch shuffle
    publish_every: int = 5  # batches between two progress snapshots


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
