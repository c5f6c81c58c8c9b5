"""Named presets: ready-made run specs, each labelled with the result its source reports."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig


@dataclass(frozen=True)
class Preset:
    """A named run spec and what its source says it reaches."""

    name: str  # CLI and URL key
    title: str  # one-line description shown in pickers
    spec: RunSpec  # the full configuration
    source_result: str  # the result the source reports, quoted beside the user's own


def _addition(digits: int, units: int, layers: int, size: int, epochs: int, **train) -> RunSpec:
    """An addition run spec."""
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=digits, train_size=size),
        model=ModelConfig(cell="LSTM", units=units, layers=layers),
        train=TrainConfig(epochs=epochs, **train),
    )


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "addition-fast",
            "Addition, 3 digits, LSTM 128: the fastest way to 99% exact match here",
            _addition(3, 128, 1, 50_000, 30),
            "Keras addition_rnn: 99% train/test accuracy in 100 epochs (3 digits, 128 units)",
        ),
        Preset(
            "seed003-addition-128",
            "Seed 003 / Keras addition_rnn: 3 digits reversed, LSTM 128, batch 32",
            _addition(3, 128, 1, 50_000, 100, batch_size=32, learning_rate=1e-3),
            "99% train/test accuracy in 100 epochs (Keras addition_rnn docstring)",
        ),
        Preset(
            "seed003-addition-300",
            "Seed 003 variant: 3 digits reversed, LSTM 300, batch 32",
            _addition(3, 300, 1, 50_000, 30, batch_size=32, learning_rate=1e-3),
            "seed 003 names this size; it reports no figure for it",
        ),
        Preset(
            "seed003-addition-5digits-2layers",
            "Seed 003 variant: 5 digits reversed, 2-layer LSTM 128, 550k questions",
            _addition(5, 128, 2, 550_000, 30, batch_size=128, learning_rate=1e-3),
            "Keras addition_rnn: 5 digits, 550k examples, 99% accuracy in 30 epochs (1 layer)",
        ),
        Preset(
            "addition-tiny",
            "Addition, 2 digits, LSTM 32, 2k questions: a few seconds, for demos and tests",
            _addition(2, 32, 1, 2_000, 3),
            "not a source figure: a smoke test that shows curves within seconds",
        ),
    ]
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ValueError listing the choices otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
