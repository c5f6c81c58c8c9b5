"""Validation bits per character of the counting character n-gram baseline on a corpus.

Fits :func:`rnn_core.ngram.fit_ngram` on the first 90 % of the (lowercased) corpus for orders
1-7, with absolute discounting and with Kneser-Ney lower orders, and prints the bits/char on
the validation half of the held-out last 10 % (comparing orders is a choice, so the test half
is left alone): over the whole half (each character from the ones before it); over the
half's stretches as the Text page's per-epoch curve scores them (the same, with the context
cut at the start of each of its stretches of up to 4,000 characters); and over windows of
``maxlen`` (context cut at each window's start, as the page scored it before). Last line: one
JSON object.

Usage: python benchmarks/bench_ngram.py [--data-dir ../shared/data] [--discount 0.75]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rnn_core.config import TextConfig
from rnn_core.ngram import MAX_ORDER, fit_ngram
from rnn_core.tasks.text import held_out_cuts, make_text_data

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Fit and score every order and both smoothings; print a table and a JSON line."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--corpus", default="nietzsche")
    p.add_argument("--discount", type=float, default=0.75)
    p.add_argument("--maxlen", type=int, default=40, help="window length, as text-fast")
    a = p.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    data = make_text_data(TextConfig(corpus=a.corpus, maxlen=a.maxlen, data_dir=a.data_dir))
    ids = data.vocab.encode(data.corpus.text)
    cut, mid = held_out_cuts(len(ids), data.config.val_fraction)
    print(f"{a.corpus}: {cut:,} training and {mid - cut:,} validation characters, "
          f"alphabet {data.vocab.size}", flush=True)  # fmt: skip
    rows = []
    for kn in (False, True):
        for order in range(1, MAX_ORDER + 1):
            t0 = time.perf_counter()
            model = fit_ngram(ids[:cut], data.vocab.size, order, a.discount, kn)
            fit = time.perf_counter() - t0
            tail = model.text_bits(ids[cut:mid])
            stretches = model.window_bits(*data.val_read)
            windows = model.window_bits(data.x_val, data.y_val)
            rows.append({
                "smoothing": "kneser-ney" if kn else "absolute", "order": order,
                "tail_bits": round(tail, 4), "stretch_bits": round(stretches, 4),
                "window_bits": round(windows, 4),
                "fit_seconds": round(fit, 3), "seconds": round(time.perf_counter() - t0, 3),
            })  # fmt: skip
            print(
                f"{rows[-1]['smoothing']:>10} order {order}: validation half {tail:.4f} bits/char, "
                f"its stretches {stretches:.4f}, windows {windows:.4f}, fit {fit:.2f} s, "
                f"all {rows[-1]['seconds']} s",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)
    print(json.dumps({"corpus": a.corpus, "discount": a.discount, "rows": rows}))


if __name__ == "__main__":
    main()
