"""After a run ends: seconds until the page shows its whole-test-set score, and whether the page
itself scored (its "Scoring all …" spinner) meanwhile, in Chromium.

Starts a server (data from ``RNN_LAB_DATA_DIR``), opens the Train page on a preset cut to
``--epochs`` epochs and presses Start ``--runs`` times, each after the last run's score showed.
Each time is measured in the browser from the click (once the new run's panel counts batches):
to the live panel's last epoch done
("E/E epochs done"), to Train more, and to the task's "test accuracy, all N test …" tile.
A MutationObserver notes every "Scoring all" spinner the page shows; the server's anonymous
memory (RssAnon) is read after each run's score showed. Prints each run, the medians and the
machine load.

Usage: RNN_LAB_DATA_DIR=../shared/data python benchmarks/scoring_browser.py
       [--preset imdb-fast --epochs 1 --runs 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_core.links import to_query  # noqa: E402
from rnn_core.presets import PRESETS  # noqa: E402
from tests.browser import chromium_page, streamlit_server  # noqa: E402

WATCH = """
window.__spinner = 0;
new MutationObserver(() => {
  const t = document.body ? document.body.innerText : "";
  if (t.includes("Scoring all")) window.__spinner += 1;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _seconds_until(page, text: str, t0: float) -> float:  # noqa: ANN001
    """Seconds from ``t0`` until the page shows ``text`` (polled every 50 ms)."""
    page.wait_for_function(
        "t => document.body.innerText.includes(t)", arg=text, timeout=600_000, polling=50
    )
    return time.perf_counter() - t0


def server_anon_mb(port: int) -> float:
    """RssAnon of the Streamlit server listening on ``port``, in MB (0 when not found)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f"--server.port\0{port}\0" not in cmdline.read_bytes().decode(errors="replace"):
                continue
            status = (cmdline.parent / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    """Measure one session and print its figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="imdb-fast")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    spec = PRESETS[a.preset].spec
    spec = dataclasses.replace(spec, train=dataclasses.replace(spec.train, epochs=a.epochs))
    what = {"imdb": "test reviews", "mnist": "test images"}[spec.task]
    rows = []
    with (
        streamlit_server({"RNN_LAB_SHARE_RUNS": "0"}) as url,
        chromium_page(1300, 1400) as page,
    ):
        page.add_init_script(WATCH)
        page.goto(f"{url}/train?{urlencode(to_query(spec))}")
        for i in range(1, a.runs + 1):
            start = page.get_by_role("button", name="Start training", disabled=False)
            start.wait_for(timeout=300_000)
            page.evaluate("window.__spinner = 0")
            t0 = time.perf_counter()
            start.click()
            _seconds_until(page, f"epoch 1/{a.epochs} · batch", t0)  # the new run's own panel
            done = _seconds_until(page, f"{a.epochs}/{a.epochs} epochs done", t0)
            page.get_by_role("button", name="Train more").wait_for(timeout=600_000)
            more = time.perf_counter() - t0
            score = _seconds_until(page, "test accuracy, all ", t0)
            spinner = page.evaluate("window.__spinner")
            anon = server_anon_mb(int(url.rsplit(":", 1)[1]))
            rows.append((done, more, score))
            print(
                f"run {i}: Start -> last epoch done {done:.2f} s, -> Train more {more:.2f} s, "
                f"-> whole-test score shown {score:.2f} s (last epoch -> score "
                f"{score - done:.2f} s); the page's own 'Scoring all {what}' spinner seen: "
                f"{'yes' if spinner else 'no'}; server RssAnon {anon:.0f} MB",
                flush=True,
            )
            page.wait_for_timeout(1000)
    gaps = [s - d for d, _, s in rows]
    print(
        f"last epoch -> score: median {statistics.median(gaps):.2f} s (min {min(gaps):.2f}, "
        f"max {max(gaps):.2f}); Start -> score: median "
        f"{statistics.median(s for _, _, s in rows):.2f} s; load {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
