"""Server time to draw one live-panel frame's curves: building the Plotly figure vs reusing it.

A live panel redraws every 0.7 s for every student, in the server's one interpreter, so the
cost of one frame times the number of students is what the server spends on curves. The page
reuses a figure whose data did not change (``pages.common.cached_figure``); this prints what a
rebuild costs and what ``st.plotly_chart`` still spends on a reused figure (converting it).

Usage: python benchmarks/bench_figures.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402
import plotly.tools  # noqa: E402

from rnn_core.charts import training as charts  # noqa: E402


def convert_of(fig: go.Figure) -> str:
    """What ``st.plotly_chart`` does with a figure it is given: validate, then JSON."""
    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return pio.to_json(figure, validate=False)


def per_call_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``fn()`` over ``repeats`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 2]


def main() -> int:
    """Time a rebuild and a reuse of the curves of a 3-epoch run, as the page draws them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(  # addition-fast: 352 batches an epoch, one log every 5 batches
        "--logs", type=int, default=70, help="per-batch log entries per epoch"
    )
    parser.add_argument("--smoothing", type=float, default=0.6, help="the page's default")
    args = parser.parse_args()
    n = args.logs
    batches = [
        {"epoch": e + b / n, "loss": 1 / (1 + e + b / n), "accuracy": 0.5}
        for e in range(3)
        for b in range(n)
    ]
    epochs = [
        {"epoch": e + 1, "loss": 0.5, "accuracy": 0.6, "val_loss": 0.6, "val_accuracy": 0.55}
        for e in range(3)
    ]
    extra = [(1.0, 0.2), (2.0, 0.4), (3.0, 0.5)]

    def build() -> go.Figure:
        return charts.training_curves(
            batches, epochs, "accuracy", extra, "exact match", smoothing=args.smoothing
        )

    fig = build()
    rebuild = per_call_ms(lambda: convert_of(build()), args.repeats)
    reuse = per_call_ms(lambda: convert_of(fig), args.repeats)
    print(
        f"load {os.getloadavg()[0]:.1f}; median of {args.repeats} calls; 3 epochs x {n} batch "
        f"logs, smoothing {args.smoothing:g}"
    )
    print(f"rebuild the figure and convert it: {rebuild:.1f} ms per frame")
    print(f"reuse the figure, convert only:    {reuse:.1f} ms per frame ({rebuild / reuse:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
