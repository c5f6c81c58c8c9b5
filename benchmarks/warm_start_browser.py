"""Start -> first live progress in Chromium, runs 1-5 of one session, with the warm worker pool.

Starts a server, opens Home (the server starts its pool after this first page), waits
``--first-after`` seconds, opens the preset's page (Train, or Text generation) and presses
Start ``--runs`` times, each after the previous run ended. Each time is measured in the
browser, from the click to the live panel's first "epoch 1/E · batch N" (N ≥ 1), or to the
run counted as finished when it ended between two refreshes of the panel. Prints each run
(also when the new run's panel first showed, and which of the two ended the wait), the median
of runs 2 to the end, the training processes seen, and the machine load.

Usage: python benchmarks/warm_start_browser.py [--preset addition-tiny --runs 5
       --first-after 8 --workers 2]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_core.presets import PRESETS  # noqa: E402
from tests.browser import chromium_page, streamlit_server, training_children  # noqa: E402

PROGRESS = re.compile(r"epoch 1/\d+ · batch [1-9]")  # the live panel's first batch count
ANY_EPOCH = re.compile(r"epoch \d+/\d+ · batch [1-9]")  # a batch count of any epoch


def session(
    page: Any,
    url: str,
    preset: str,
    runs: int,
    first_after: float,
    progress: re.Pattern = PROGRESS,
) -> dict[str, Any]:
    """Drive one student's session; the figures and the worker pids seen per run.

    ``progress`` is what counts as the first progress (default: a batch count of epoch 1)."""
    port = int(url.rsplit(":", 1)[1])
    before = sorted(training_children(port))  # nothing yet: the pool starts after a page
    page.goto(url)
    page.get_by_role("heading", name="RNN Lab").wait_for(timeout=120_000)
    t_home = time.perf_counter()
    where = "text" if PRESETS[preset].spec.task == "text" else "train"  # the preset's page
    page.goto(f"{url}/{where}?preset={preset}")
    page.get_by_text("Source reports:").wait_for(timeout=120_000)
    page.wait_for_timeout(max(0.0, first_after - (time.perf_counter() - t_home)) * 1000)
    firsts, pids, panels, seen = [], [], [], []
    for i in range(1, runs + 1):
        start = page.get_by_role("button", name="Start training", disabled=False)
        start.wait_for(timeout=120_000)
        t0 = time.perf_counter()
        start.click()
        # the new run's panel, drawn by the page's rerun after Start: starting, queued or already
        # counting batches (or the run over: the sidebar counts it among the finished ones)
        page.wait_for_function(
            "([pattern, done]) => { const t = document.body.innerText;"
            " return /· starting|free training slot/.test(t) || new RegExp(pattern).test(t)"
            " || t.includes(done); }",
            arg=[progress.pattern, f"{i} run(s) in the file."],
            timeout=300_000,
            polling=20,
        )
        panels.append(time.perf_counter() - t0)
        # the first batch count, or (a run that ended between two refreshes of the live panel)
        # the sidebar counting this run among the finished ones: whichever the page shows first
        page.wait_for_function(
            "([pattern, done]) => { const t = document.body.innerText;"
            " return new RegExp(pattern).test(t) || t.includes(done); }",
            arg=[progress.pattern, f"{i} run(s) in the file."],
            timeout=300_000,
            polling=50,
        )
        firsts.append(time.perf_counter() - t0)
        shown = progress.search(page.evaluate("document.body.innerText"))
        seen.append("batch" if shown else "ended")  # the run ended between two refreshes
        pids.append(sorted(training_children(port)))
        page.get_by_role("button", name="Train more").wait_for(timeout=300_000)
        page.wait_for_timeout(1000)  # the student glances at the result
    return {
        "before": before,
        "firsts": firsts,
        "pids": pids,
        "port": port,
        "panels": panels,
        "seen": seen,
    }


def main() -> int:
    """Measure one session and print its figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="addition-tiny")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--first-after", type=float, default=8.0, help="s from Home to run 1")
    p.add_argument("--workers", default="2", help="RNN_LAB_WARM_WORKERS for the server")
    p.add_argument(
        "--any-epoch",
        action="store_true",
        help="count a batch count of any epoch (a fast run's epoch 1 can pass between refreshes)",
    )
    a = p.parse_args()
    with (
        streamlit_server({"RNN_LAB_WARM_WORKERS": a.workers, "RNN_LAB_SHARE_RUNS": "0"}) as url,
        chromium_page(1300, 1400) as page,
    ):
        progress = ANY_EPOCH if a.any_epoch else PROGRESS
        out = session(page, url, a.preset, a.runs, a.first_after, progress)
    runs = zip(out["firsts"], out["panels"], out["seen"], out["pids"], strict=True)
    for i, (t, panel, seen, pids) in enumerate(runs):
        print(
            f"run {i + 1}: Start -> new run's panel {panel:.2f} s, -> first progress {t:.2f} s "
            f"({'a batch count' if seen == 'batch' else 'the run already ended'}); "
            f"worker processes {pids}"
        )
    later = out["firsts"][1:]
    if later:
        print(
            f"first run {out['firsts'][0]:.2f} s; runs 2-{a.runs}: median "
            f"{statistics.median(later):.2f} s (min {min(later):.2f}, max {max(later):.2f}); "
            f"load {os.getloadavg()[0]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
