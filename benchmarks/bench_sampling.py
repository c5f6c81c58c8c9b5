"""Where the speed of text generation comes from: two factors, each measured on its own.

On the shipped pretrained character model (``assets/nietzsche-lstm``; no corpus and no
training needed) 400 characters at T = 0.5 are generated three ways:

1. the Keras example: ``model.predict`` on the last maxlen characters, once per character;
2. NumPy window mode: the same computation (the last maxlen characters re-read from a zero
   state for every character) in the NumPy cells, so 1 / 2 is the factor of NumPy alone;
3. NumPy carry mode: one cell step per character, the state carried, so 2 / 3 is the factor
   of carrying the state instead of re-reading the window.

It also prints how far the two NumPy modes' next-character distributions drift apart once a
text is longer than the window (mean total variation distance after position maxlen). Last
line: one JSON object.

Usage: python benchmarks/bench_sampling.py [--predict-chars 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from rnn_core import pretrained
from rnn_core.data.corpus import Vocabulary
from rnn_core.sampling import CharGenerator, apply_temperature

SEED = "the philosopher is not a man who follows "  # any text in the model's alphabet


def predict_loop(model, ids: list[int], length: int, maxlen: int, rng) -> float:
    """Seconds for the Keras example's generator: ``model.predict`` on the window, per char."""
    ids = list(ids)
    t0 = time.perf_counter()
    for _ in range(length):
        x = np.asarray(ids[-maxlen:], np.int32)[None]  # (1, maxlen)
        p = np.asarray(model.predict(x, verbose=0))  # (1, maxlen, V)
        q = apply_temperature(p[0, -1], 0.5)  # (V,)
        ids.append(int(rng.choice(len(q), p=q)))
    return time.perf_counter() - t0


def main() -> None:
    """Time the three generators and print the two factors."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--snapshot", default="nietzsche-lstm")
    p.add_argument("--length", type=int, default=400)
    p.add_argument("--predict-chars", type=int, default=100, help="timed, then scaled to length")
    p.add_argument("--repeats", type=int, default=3, help="NumPy timings: the best of these")
    a = p.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    snap = pretrained.read_snapshot(pretrained.ASSETS / f"{a.snapshot}.json")
    model = pretrained.build_model(snap)
    vocab, maxlen = Vocabulary.from_json(snap.vocab), int(snap.vocab["maxlen"])
    gen = CharGenerator.from_keras(model)
    seed = vocab.encode(SEED[-maxlen:])
    numpy_s = {}
    for mode, window in (("window", maxlen), ("carry", None)):
        gen.generate(seed, 5, [0.5], np.random.default_rng(0), window)  # warm up
        best = []
        for r in range(a.repeats):
            t0 = time.perf_counter()
            gen.generate(seed, a.length, [0.5], np.random.default_rng(r), window)
            best.append(time.perf_counter() - t0)
        numpy_s[mode] = min(best)
    predict_loop(model, list(seed), 3, maxlen, np.random.default_rng(0))  # warm up
    k = a.predict_chars
    keras_s = predict_loop(model, list(seed), k, maxlen, np.random.default_rng(1)) * a.length / k
    text = gen.generate(seed, a.length, [0.5], np.random.default_rng(9))[0]  # (length,)
    ids = np.concatenate([seed, text])
    carry = gen.prefix_probs(ids)  # (S, V)
    window = gen.prefix_probs(ids, maxlen)  # (S, V)
    tv = 0.5 * np.abs(carry - window).sum(axis=1)[maxlen:]  # (S - maxlen,)
    result = {
        "snapshot": a.snapshot,
        "length": a.length,
        "keras_predict_seconds": round(keras_s, 3),
        "numpy_window_seconds": round(numpy_s["window"], 4),
        "numpy_carry_seconds": round(numpy_s["carry"], 4),
        "factor_numpy_instead_of_predict": round(keras_s / numpy_s["window"], 1),
        "factor_carry_instead_of_window": round(numpy_s["window"] / numpy_s["carry"], 1),
        "factor_total": round(keras_s / numpy_s["carry"], 1),
        "mean_tv_after_maxlen": round(float(tv.mean()), 4),
        "max_tv_after_maxlen": round(float(tv.max()), 4),
        "load_after": round(os.getloadavg()[0], 2),
    }
    print(
        f"{a.length} chars: model.predict per char {keras_s:.2f} s (timed {k}, scaled); "
        f"NumPy window {numpy_s['window'] * 1e3:.0f} ms; NumPy carry "
        f"{numpy_s['carry'] * 1e3:.0f} ms. NumPy instead of predict: "
        f"{result['factor_numpy_instead_of_predict']}x; carrying instead of re-reading: "
        f"{result['factor_carry_instead_of_window']}x; both: {result['factor_total']}x. "
        f"Carry vs window next-char distributions after {maxlen} chars: mean total variation "
        f"{result['mean_tv_after_maxlen']}, max {result['max_tv_after_maxlen']}",
        flush=True,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
