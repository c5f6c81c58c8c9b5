"""Cold start: server process start -> Home rendered in Chromium, and -> a TF page rendered.

Prints the seconds to the health endpoint, to Home's title in the browser, the server's RSS
after Home (TensorFlow not yet imported), and the same after opening the Train page.

Usage: python benchmarks/cold_start.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_classroom import server_rss_mb  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402


def one(p) -> dict[str, float]:
    """One cold start, timed from just before the server process is spawned."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page()
    t0 = time.perf_counter()
    with streamlit_server() as url:
        healthy = time.perf_counter() - t0
        port = int(url.rsplit(":", 1)[1])
        page.goto(url)
        page.get_by_role("heading", name="RNN Lab").wait_for(timeout=120_000)
        home = time.perf_counter() - t0
        home_rss = server_rss_mb(port)[0]
        t1 = time.perf_counter()
        page.goto(f"{url}/train")
        page.get_by_role("button", name="Start training").wait_for(timeout=120_000)
        train = time.perf_counter() - t1
        train_rss = server_rss_mb(port)[0]
    browser.close()
    return {
        "health_s": healthy,
        "home_s": home,
        "home_rss_mb": home_rss,
        "train_page_s": train,
        "train_rss_mb": train_rss,
    }


def main() -> int:
    """Repeat cold starts and print each and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        for i in range(args.repeats):
            rows.append(one(p))
            print(f"start {i + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in rows[-1].items()))
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print("median: " + ", ".join(f"{k} {v:.1f}" for k, v in med.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
