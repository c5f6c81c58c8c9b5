"""Named presets: ready-made run specs, each labelled with the result its source reports."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_core.config import (
    AdditionConfig,
    ImdbConfig,
    MnistConfig,
    ModelConfig,
    RunSpec,
    TextConfig,
    TrainConfig,
)
from rnn_core.tasks.forecast import ForecastConfig


@dataclass(frozen=True)
class Preset:
    """A named run spec and what its source says it reaches."""

    name: str  # CLI and URL key
    title: str  # one-line description shown in pickers
    spec: RunSpec  # the full configuration
    source_result: str  # the result the source reports, quoted beside the user's own
    measured: str = ""  # this app's own figure: results file, date, machine and seed; or ""

    def results_line(self) -> str:
        """What the source reports and, when recorded, what this app measured (and where)."""
        line = f"Source reports: {self.source_result}"
        return line + (f" · Measured here ({self.measured})" if self.measured else "")


def _addition(
    digits: int, units: int, layers: int, size: int, epochs: int, unroll: bool = False, **train
) -> RunSpec:
    """An addition run spec."""
    return RunSpec(
        task="addition",
        data=AdditionConfig(digits=digits, train_size=size),
        model=ModelConfig(cell="LSTM", units=units, layers=layers, unroll=unroll),
        train=TrainConfig(epochs=epochs, **train),
    )


def _imdb(
    maxlen: int,
    cell: str,
    units: int,
    emb: int,
    epochs: int,
    dropout: float = 0.0,
    val: float = 0.2,
    words: int = 10_000,
    pooling: str = "last",
    per_step: int = 1,
    bidirectional: bool = False,
    **train,
) -> RunSpec:
    """An IMDB run spec on all 25k training reviews (``val`` of them held out), read
    ``per_step`` words per timestep."""
    return RunSpec(
        task="imdb",
        data=ImdbConfig(num_words=words, maxlen=maxlen, val_fraction=val, words_per_step=per_step),
        model=ModelConfig(
            cell=cell,
            units=units,
            layers=1,
            embedding_dim=emb,
            dropout=dropout,
            pooling=pooling,
            bidirectional=bidirectional,
        ),
        train=TrainConfig(epochs=epochs, **train),
    )


def _seed_imdb(maxlen: int, cell: str, units: int, emb: int) -> RunSpec:
    """The seed tutorials' IMDB setup: rmsprop at Keras's default rate, batch 128, 10 epochs."""
    return _imdb(maxlen, cell, units, emb, 10, optimizer="rmsprop", learning_rate=1e-3)


def _mnist(
    cell: str,
    units: int,
    epochs: int,
    dropout: float = 0.0,
    val: float = 0.1,
    rows: int = 1,
    **train,
) -> RunSpec:
    """An MNIST run spec on all 60k training images (``val`` of them held out), read ``rows``
    pixel rows per timestep."""
    return RunSpec(
        task="mnist",
        data=MnistConfig(val_fraction=val, rows_per_step=rows),
        model=ModelConfig(cell=cell, units=units, layers=1, dropout=dropout),
        train=TrainConfig(epochs=epochs, **train),
    )


# imdb-fast on top of _imdb: the 3k most frequent words, four per step, max over time, a
# rate falling to 0; its GRU reads both ways (imdb-fast-forward: one way, 80 units).
_IMDB_FAST = {
    "words": 3_000,
    "per_step": 4,
    "pooling": "max",
    "batch_size": 256,
    "learning_rate": 1e-2,
    "schedule": "cosine",
}
# mnist-fast (and its constant-rate twin): GRU 64 reading two pixel rows per step, 3 epochs.
_MNIST_FAST = {
    "val": 0.04,
    "rows": 2,
    "batch_size": 128,
    "steps_per_execution": 8,
    "jit_compile": True,
}
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "addition-fast",
            "Addition, 3 digits, LSTM 128 unrolled, batch 128 (8 per call), adam 0.01 falling to "
            "0 over 8 epochs (cosine); stops once val_exact_match>=0.99",
            _addition(
                3,
                128,
                1,
                50_000,
                8,
                unroll=True,
                learning_rate=1e-2,
                schedule="cosine",
                until="val_exact_match>=0.99",
                steps_per_execution=8,
            ),
            "Keras addition_rnn: 99% train/test accuracy in 100 epochs (3 digits, 128 units)",
            "benchmarks/RESULTS.md, 2026-12-05, the 2-core VM (load 2.1-3.2), seeds 0-2, "
            "stopped on validation: exact match 0.9930 (0.9910-0.9960) on 1,000 test questions "
            "after 6 epochs; 33.3 s (33.3-35.2) of training, 0.85x the loop's 39.3 s back to back",
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
            "Addition, 2 digits, LSTM 32, 2k questions, 3 epochs: for demos and tests",
            _addition(2, 32, 1, 2_000, 3),
            "not a source figure: a smoke test that shows curves within seconds",
        ),
        Preset(
            "seed000-imdb-dense",
            "Seed 000: IMDB, maxlen 30, Embedding 16 -> Flatten -> Dense 32 (no RNN), rmsprop",
            _seed_imdb(30, "Dense", 32, 16),
            "about 77% test accuracy (seed 000)",
        ),
        Preset(
            "seed000-imdb-simplernn",
            "Seed 000 variant: IMDB, maxlen 30, Embedding 16 -> SimpleRNN 32, rmsprop",
            _seed_imdb(30, "SimpleRNN", 32, 16),
            "about 68% test accuracy (seed 000)",
        ),
        Preset(
            "seed001-imdb-simplernn",
            "Seed 001/002: IMDB, maxlen 500, Embedding 32 -> SimpleRNN 32, rmsprop, 10 epochs",
            _seed_imdb(500, "SimpleRNN", 32, 32),
            "validation accuracy peaks at about 0.85 (seeds 001/002)",
        ),
        Preset(
            "seed002-imdb-lstm",
            "Seed 002: IMDB, maxlen 500, Embedding 32 -> LSTM 32, rmsprop, 10 epochs",
            _seed_imdb(500, "LSTM", 32, 32),
            "validation accuracy peaks at about 0.89 (seed 002)",
        ),
        Preset(
            "imdb-fast",
            "IMDB, 3k words, maxlen 400, Embedding 32, 4 words per timestep -> GRU 32 each way "
            "(bidirectional, dropout 0.5) -> max over time, reviews batched by length, batch "
            "256, adam 0.01 falling to 0 over 4 epochs (cosine)",
            _imdb(
                400,
                "GRU",
                32,
                32,
                4,
                0.5,
                0.04,
                **_IMDB_FAST,
                bidirectional=True,
                batch_by_length=True,
            ),
            "seed 002 reports about 0.89 validation accuracy (LSTM 32, maxlen 500, 10 epochs)",
            "benchmarks/RESULTS.md, 2026-12-06, the 2-core VM (load 0.6-2.1), seeds 0-2: test "
            "accuracy 0.8946 (0.8933-0.8969) on all 25,000 reviews after 4 epochs, 28.0 s "
            "(27.9-31.9) of training",
        ),
        Preset(
            "imdb-fast-forward",
            "imdb-fast reading forward only, with a GRU of 80: the model Inside the RNN can "
            "step through",
            _imdb(400, "GRU", 80, 32, 4, 0.5, 0.04, **_IMDB_FAST, batch_by_length=True),
            "not a source figure: imdb-fast with a one-way GRU, for lesson 7",
            "benchmarks/RESULTS.md, 2026-12-06, the 2-core VM (load 1.9-2.0), seeds 0-2: test "
            "accuracy 0.8885 (0.8861-0.8895) on all 25,000 reviews after 4 epochs, 31.2 s "
            "(27.9-31.8) of training",
        ),
        Preset(
            "imdb-fast-random-batches",
            "imdb-fast with batches of random reviews, each read at maxlen 400: the same model, "
            "more padding read",
            _imdb(400, "GRU", 32, 32, 4, 0.5, 0.04, **_IMDB_FAST, bidirectional=True),
            "not a source figure: imdb-fast without batching by length, for lesson 6",
            "benchmarks/RESULTS.md, 2026-12-06, the 2-core VM (load 2.1-2.5), seeds 0-2: test "
            "accuracy 0.8955 (0.8953-0.8971) after 4 epochs, 47.9 s (46.7-52.2) of training; "
            "imdb-fast right before it: 28.0 s",
        ),
        Preset(
            "mnist-fast-constant",
            "mnist-fast without its falling rate: GRU 64, two rows per step, adam 0.012 held "
            "constant, 3 epochs, XLA",
            _mnist("GRU", 64, 3, **_MNIST_FAST, optimizer="adam", learning_rate=1.2e-2),
            "not a source figure: mnist-fast with a constant learning rate, for lesson 5",
        ),
        Preset(
            "seed004-mnist-simplernn",
            "Seed 004: MNIST rows, SimpleRNN 256, dropout 0.2, SGD, batch 128, 20 epochs",
            _mnist("SimpleRNN", 256, 20, 0.2, batch_size=128, optimizer="sgd", learning_rate=0.01),
            "about 97.5% test accuracy (seed 004)",
        ),
        Preset(
            "mnist-fast",
            "MNIST, two pixel rows per step (14 steps of 56), GRU 64, batch 128 (8 per call), "
            "adam 0.012 falling to 0 over 3 epochs (cosine), compiled with XLA",
            _mnist(
                "GRU",
                64,
                3,
                **_MNIST_FAST,
                optimizer="adam",
                learning_rate=1.2e-2,
                schedule="cosine",
            ),  # fmt: skip
            "seed 004 reports about 97.5% test accuracy (SimpleRNN 256, 20 epochs)",
            "benchmarks/RESULTS.md, 2026-12-05 (evening), the 2-core VM (load 1.1-1.7), seeds "
            "0-2: test accuracy 0.9862 (0.9860-0.9868) on all 10,000 images after 3 epochs, "
            "12.2 s (12.1-12.8) of training; without XLA, right after: 15.4 s",
        ),
    ]
}


def _text(cell: str, units: int, emb: int, epochs: int, data: dict, **train) -> RunSpec:
    """A character-level text run spec on Nietzsche."""
    return RunSpec(
        task="text",
        data=TextConfig(**data),
        model=ModelConfig(cell=cell, units=units, layers=1, embedding_dim=emb),
        train=TrainConfig(epochs=epochs, **train),
    )


_KERAS_TEXT = {"batch_size": 128, "optimizer": "rmsprop", "learning_rate": 0.01}
PRESETS.update(
    {
        p.name: p
        for p in [
            Preset(
                "text-fast",
                "Nietzsche, GRU 128, Embedding 32, next char after every prefix; adam 0.01 "
                "falling to 0 over 4 epochs (cosine); compiled with XLA",
                _text(
                    "GRU",
                    128,
                    32,
                    4,
                    {"step": 20},
                    batch_size=64,
                    learning_rate=1e-2,
                    schedule="cosine",
                    jit_compile=True,
                ),
                "Keras lstm_text_generation: readable text after about 20 epochs (LSTM 128)",
                "benchmarks/RESULTS.md, 2026-12-06, the 2-core VM (load 1.4-1.6), seeds 0-2: "
                "test-half bits/char 2.0057 (2.0033-2.0209), every character read straight "
                "through, after 4 epochs, 56.0 s (55.6-57.1) of training; the 5-gram 2.0300 on "
                "the same characters",
            ),
            Preset(
                "seed003-text-keras",
                "Seed 003 / Keras lstm_text_generation: one-hot input, LSTM 128, RMSprop 0.01",
                _text(
                    "LSTM",
                    128,
                    0,
                    20,
                    {"step": 3, "every_position": False, "window_sampling": True},
                    **_KERAS_TEXT,
                ),  # fmt: skip
                "readable text after about 20 epochs (Keras example docstring)",
            ),
        ]
    }
)


def _forecast(data: ForecastConfig, cell: str, units: int, epochs: int, **train) -> RunSpec:
    """A forecast run spec."""
    return RunSpec(
        task="forecast",
        data=data,
        model=ModelConfig(cell=cell, units=units, layers=1),
        train=TrainConfig(epochs=epochs, **train),
    )


PRESETS.update(
    {
        p.name: p
        for p in [
            Preset(
                "forecast-sines",
                "Noisy sines, window 24, GRU 16, 5 epochs: can it beat 'repeat the last value'?",
                _forecast(ForecastConfig(), "GRU", 16, 5, batch_size=32, learning_rate=1e-2),
                "not a source figure: RNN Lab's own quick demo (the naive MAE is shown beside)",
            ),
            Preset(
                "forecast-jena",
                "Jena climate, hourly temperature, window 120 h (5 days), GRU 32, 10 epochs",
                _forecast(
                    ForecastConfig(source="jena", window=120, length=None),
                    "GRU",
                    32,
                    10,
                    batch_size=256,
                    learning_rate=1e-3,
                ),  # fmt: skip
                "DLwP 6.3 forecasts 24 h ahead from all 14 columns: naive 2.57 °C, GRU about "
                "2.35 °C; this preset forecasts the next hour from the temperature alone",
            ),
        ]
    }
)


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ValueError listing the choices otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
