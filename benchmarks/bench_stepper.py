"""Benchmark one stepper redraw: step terms for the chosen unit plus that step's figures."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core import stepper_charts as charts  # noqa: E402
from rnn_core.numpy_rnn import forward, random_weights, step_at, unit_terms  # noqa: E402


def redraw(layers, traces, x, words, t: int, unit: int, serialise: bool) -> tuple[float, ...]:
    """Server work for one redraw at step t; returns (terms, figures, json) times in ms."""
    t0 = time.perf_counter()
    terms = step_at(layers, traces, x, layer=0, t=t)
    blocks, states = unit_terms(terms, unit)
    t1 = time.perf_counter()
    tr = traces[0]
    figs = [charts.hidden_heatmap(tr.h, t), charts.unit_terms_chart(blocks, states, unit, t)]
    if tr.gates:
        figs.append(charts.gates_heatmaps(tr.gates, t, tr.candidate, tr.c))
    charts.activation_spans_html(charts.word_activations(words, tr.h, unit))
    t2 = time.perf_counter()
    size = sum(len(f.to_json()) for f in figs) if serialise else 0  # what st.plotly_chart sends
    t3 = time.perf_counter()
    return (t3 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, size


def main() -> None:
    """Time ``--steps`` consecutive redraws per cell kind and print median / p95 in ms."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timesteps", type=int, default=500)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--no-json", action="store_true", help="skip Figure.to_json() serialisation")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (args.timesteps, args.features)).astype(np.float32)  # (T, F)
    words = [f"w{i}" for i in range(args.timesteps)]
    print(
        f"T={args.timesteps} F={args.features} H={args.units} steps={args.steps} "
        f"json={'no' if args.no_json else 'yes'}"
    )
    for kind in ("lstm", "simple_rnn"):
        layers = [random_weights(kind, args.features, args.units, "keras_default", rng)]
        t0 = time.perf_counter()
        traces = forward(layers, x)  # computed once per input; the page caches it
        fwd_ms = (time.perf_counter() - t0) * 1e3
        redraw(layers, traces, x, words, 0, 0, not args.no_json)  # warm-up (imports, caches)
        runs = []
        for i in range(args.steps):
            t = 1 + i * (args.timesteps - 2) // args.steps
            runs.append(redraw(layers, traces, x, words, t, i % args.units, not args.no_json))
        total, terms, figs, js, size = np.array(runs).T
        verdict = "OK" if np.percentile(total, 95) <= 100 else "OVER"
        print(
            f"{kind:<10} forward(once)={fwd_ms:6.1f} ms | redraw median={np.median(total):5.1f} ms "
            f"p95={np.percentile(total, 95):5.1f} ms (median terms={np.median(terms):.2f}, "
            f"figures={np.median(figs):.1f}, to_json={np.median(js):.1f} ms; "
            f"json={size[-1] / 1e6:.2f} MB) goal p95<=100 ms: {verdict}"
        )


if __name__ == "__main__":
    main()
