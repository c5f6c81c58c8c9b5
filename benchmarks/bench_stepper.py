"""Benchmark one stepper redraw: the server work of one Previous / Next / scrubber move.

Default mode times exactly what the page's fragment does per step: ``stepper_view.step_view``
(step terms, equation, every figure, the coloured words) plus, for each figure, what
``st.plotly_chart`` does on the server (validate the figure and serialise it to JSON).
``--apptest`` also times whole clicks on "Next" in Streamlit's AppTest (an upper bound:
AppTest reruns the whole script, the browser reruns only the fragment).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rnn_core.stepper.sources import random_input  # noqa: E402
from rnn_core.stepper.view import GATE_WINDOW, build_case, step_view  # noqa: E402


def server_ms(case, t: int, unit: int, memo: dict | None) -> tuple[float, float, int, float]:
    """(step_view ms, st.plotly_chart serialisation ms, JSON bytes, CPU ms) for one redraw.

    Wall-clock times grow when other processes compete for the CPU; the CPU time this
    process used is the better guide to a quiet machine.

    ``memo`` is the per-input figure memo the page keeps (None: rebuild every figure).
    """
    import plotly.io
    import plotly.tools

    c0 = time.process_time()
    t0 = time.perf_counter()
    view = step_view(case.inp, case.traces, 0, t, unit, memo)
    t1 = time.perf_counter()
    size = 0
    for fig in (view.hidden_fig, view.terms_fig, view.gates_fig, view.digit_fig):
        if fig is None:
            continue
        fig = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
        spec = plotly.io.to_json(fig, validate=False)  # what st.plotly_chart sends
        hashlib.md5(spec.encode()).hexdigest()  # Streamlit hashes the spec into the element id
        size += len(spec)
    t2 = time.perf_counter()
    return (t1 - t0) * 1e3, (t2 - t1) * 1e3, size, (time.process_time() - c0) * 1e3


def bench_views(timesteps: int, units: int, steps: int, kinds: list[str], memo: bool) -> None:
    """Time ``steps`` consecutive redraws (Next, Next, …) for each cell kind."""
    for kind in kinds:
        inp = random_input(kind, "keras_default", timesteps, units)
        t0 = time.perf_counter()
        case = build_case(inp, ("bench",), "the layer on screen")  # once per input (cached)
        once = (time.perf_counter() - t0) * 1e3
        figs = {} if memo else None  # the page keeps one memo per input
        server_ms(case, 0, 0, figs)  # warm-up: imports, plotly validators, the memo's figures
        rows = []
        edge = GATE_WINDOW * max(1, round(timesteps / 2 / GATE_WINDOW))  # a new gate window
        start = max(1, min(edge - steps // 2, timesteps - steps))  # the steps cross it
        for i in range(steps):
            t = min(timesteps - 1, start + i)
            rows.append(server_ms(case, t, i % units, figs))
        view, ser, size, cpu = np.array(rows).T
        total = view + ser
        p95, cpu95 = np.percentile(total, 95), np.percentile(cpu, 95)
        print(
            f"{kind:<10} per input (forward + gradient lens, cached): {once:6.0f} ms | per step: "
            f"median {np.median(total):5.1f} ms, p95 {p95:5.1f} ms (step_view "
            f"{np.median(view):.1f} + plotly_chart serialisation {np.median(ser):.1f} ms; "
            f"{size[-1] / 1e3:.0f} kB JSON); CPU median {np.median(cpu):.1f} ms, p95 "
            f"{np.percentile(cpu, 95):.1f} ms; goal p95 <= 100 ms: wall "
            f"{'OK' if p95 <= 100 else 'OVER'}, CPU {'OK' if cpu95 <= 100 else 'OVER'}"
        )


def bench_apptest(timesteps: int, clicks: int) -> None:
    """Whole-script AppTest reruns per click on Next (LSTM, Keras defaults) — an upper bound."""
    import tempfile

    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pages").symlink_to(REPO / "pages")
        router = Path(tmp) / "router.py"
        router.write_text(
            "import streamlit as st\n"
            "st.navigation([st.Page('pages/stepper.py', default=True), "
            "st.Page('pages/train.py')]).run()\n"
        )
        at = AppTest.from_file(str(router), default_timeout=120)
        at.run()
        at.selectbox(key="stp_cell").set_value("LSTM").run()
        at.radio(key="stp_scheme").set_value("keras_default").run()
        at.number_input(key="stp_timesteps").set_value(timesteps).run()
        times = []
        for _ in range(clicks):
            nxt = next(b for b in at.button if b.label == "Next")
            t0 = time.perf_counter()
            nxt.click().run()
            times.append((time.perf_counter() - t0) * 1e3)
        assert not at.exception, at.exception
        print(
            f"AppTest whole-script rerun per Next click (LSTM, T={timesteps}): median "
            f"{np.median(times):.0f} ms, p95 {np.percentile(times, 95):.0f} ms over {clicks}"
        )


def main() -> None:
    """Parse flags, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timesteps", type=int, default=500)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--steps", type=int, default=60, help="redraws timed per cell kind")
    ap.add_argument("--kinds", default="simple_rnn,lstm,gru")
    ap.add_argument("--apptest", type=int, default=0, help="also time N AppTest Next clicks")
    ap.add_argument("--no-memo", action="store_true", help="rebuild every figure at each step")
    args = ap.parse_args()
    memo = "off" if args.no_memo else "on (as the page)"
    print(f"T={args.timesteps} F=32 H={args.units} steps={args.steps} figure memo {memo}")
    bench_views(args.timesteps, args.units, args.steps, args.kinds.split(","), not args.no_memo)
    if args.apptest:
        bench_apptest(args.timesteps, args.apptest)


if __name__ == "__main__":
    main()
