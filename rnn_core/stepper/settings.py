"""What the "Inside the RNN" stepper shows: its weights, input, timestep and unit (for links)."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_core.config import CELLS
from rnn_core.stepper.sources import SCHEMES

SOURCES = ("random", "trained")  # random weights (seed 001's demo), or a run of the session
MAX_TIMESTEPS = 500  # longest random input the page offers
MAX_SEED = 10_000  # largest seed the page offers


@dataclass(frozen=True)
class StepperSettings:
    """The stepper's settings a share link carries (never the weights of a trained run)."""

    source: str = "random"  # "random" weights, or "trained": a run of the viewer's session
    cell: str = "SimpleRNN"  # random weights' cell: SimpleRNN, LSTM or GRU
    scheme: str = "uniform01"  # random weights' initialisers: uniform [0, 1) or Keras's
    reset_after: bool = True  # GRU only: the reset gate after U·h (Keras's default)
    timesteps: int = 100  # length of the random input (10-500)
    seed: int = 1  # seed of the random input and weights (0-10000)
    example: int = 0  # trained source: which offered test input (its place in the list)
    layer: int = 0  # recurrent layer on screen (0 = the first)
    t: int = 0  # timestep on screen (a longer one is clamped to the input's last)
    unit: int = 0  # unit written out (a larger one is clamped to the layer's last)

    def __post_init__(self) -> None:
        """Refuse settings the page cannot show, with a one-line message naming the setting."""
        for name, value, allowed in (
            ("source", self.source, SOURCES),
            ("cell", self.cell, CELLS),
            ("scheme", self.scheme, tuple(SCHEMES)),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        for name, value, low, high in (
            ("timesteps", self.timesteps, 10, MAX_TIMESTEPS),
            ("seed", self.seed, 0, MAX_SEED),
            ("example", self.example, 0, None),
            ("layer", self.layer, 0, None),
            ("t", self.t, 0, None),
            ("unit", self.unit, 0, None),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
            if high is not None and value > high:
                raise ValueError(f"{name} must be at most {high}, got {value}")
