"""The gradient lens on the shipped imdb-lstm (max pooling): NumPy logit_gradients vs
tf.GradientTape, the old w·h_T readout vs the truth, and the time per review.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_logit_lens.py [DATA_DIR] [N]
(DATA_DIR holds imdb.npz; default ../shared/data; N test reviews, default 20).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    """Print one line per measured figure over the first N test reviews."""
    import tensorflow as tf

    from rnn_core import pretrained
    from rnn_core.data.loaders import load_imdb
    from rnn_core.stepper.gradient_lens import input_gradients, logit_lens
    from rnn_core.stepper.numpy_rnn import weights_from_keras

    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    snap = pretrained.read_snapshot(pretrained.ASSETS / "imdb-lstm.json")
    model = pretrained.build_model(snap)
    cfg = snap.spec.data
    _, (x_test, _) = load_imdb(num_words=cfg.num_words, data_dir=data_dir)
    emb, rnn, head = model.get_layer("embedding"), weights_from_keras(model), model.layers[-1]
    errs, old_errs, seconds, before = [], [], [], []
    for review in x_test[:n]:
        ids = np.zeros(cfg.maxlen, np.int64)  # (T,)
        tail = list(review)[-cfg.maxlen :]
        ids[-len(tail) :] = tail  # pre-padded and pre-truncated, as the task does
        t0 = time.perf_counter()
        lens = logit_lens(model, ids)
        seconds.append(time.perf_counter() - t0)
        seq = emb(ids[None])  # (1, T, E)
        with tf.GradientTape() as tape:
            tape.watch(seq)
            h = seq
            for lay in model.layers[2:-1]:
                h = lay(h, training=False)
            logit = tf.matmul(h, head.kernel)[0, 0] + head.bias[0]
        want = tape.gradient(logit, seq).numpy()[0].astype(np.float64)  # (T, E)
        x = np.asarray(seq)[0]  # (T, E)
        old = input_gradients(rnn, x, lens.readout)  # what the page showed: w·h_T
        errs.append(np.linalg.norm(lens.gradients - want) / np.linalg.norm(want))
        old_errs.append(np.linalg.norm(old - want) / np.linalg.norm(want))
        before.append(float(np.mean(lens.peaks < cfg.maxlen - 1)))
    print(f"reviews: {n} (test set, first {n}), model imdb-lstm, T = {cfg.maxlen}")
    print(f"logit_gradients vs GradientTape, relative error: max {max(errs):.1e}")
    print(f"old w·h_T lens vs GradientTape, relative error: median {np.median(old_errs):.2f}")
    print(f"units whose maximum is before the last step: mean {np.mean(before):.0%}")
    print(f"logit_lens time per review: median {np.median(seconds) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
