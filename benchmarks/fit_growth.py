"""Why training runs in a child process: RSS growth of one process per new Keras model.

Builds a small seq2seq LSTM 12 times; each is either fitted for one epoch, or only used for
``predict``; the model is deleted and garbage collected every time. Growth is measured after
two warm-up models. No Streamlit, no RNN Lab engine: TensorFlow alone.

Usage: python benchmarks/fit_growth.py [--mode fit|predict] [--models 12]
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

import keras
import numpy as np


def rss_mb() -> float:
    """This process's resident memory in MB."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def build(seed: int) -> keras.Model:
    """An LSTM encoder-decoder like the addition task's, seeded per model."""
    inp = keras.Input((7, 12))
    h = keras.layers.LSTM(32, seed=seed)(inp)  # (B, H)
    h = keras.layers.RepeatVector(4)(h)  # (B, 4, H)
    h = keras.layers.LSTM(32, return_sequences=True, seed=seed)(h)  # (B, 4, H)
    out = keras.layers.Dense(12, activation="softmax")(h)  # (B, 4, V)
    model = keras.Model(inp, out)
    model.compile("adam", "categorical_crossentropy", jit_compile=False)
    return model


def main() -> None:
    """Print RSS growth over the models after the first two."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("fit", "predict"), default="fit")
    p.add_argument("--models", type=int, default=12)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((512, 7, 12), dtype=np.float32)  # (N, T_in, V)
    y = rng.random((512, 4, 12), dtype=np.float32)  # (N, T_out, V)
    base = 0.0
    for i in range(a.models):
        model = build(i)
        if a.mode == "fit":
            model.fit(x, y, epochs=1, batch_size=64, verbose=0)
        else:
            model.predict(x, verbose=0)
        del model
        gc.collect()
        if i == 1:
            base = rss_mb()
    print(f"{a.mode}: RSS grew {rss_mb() - base:.1f} MB over {a.models - 2} models after 2 warm-up")


if __name__ == "__main__":
    main()
