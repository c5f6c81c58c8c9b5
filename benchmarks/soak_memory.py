"""Memory soak: one browser session trains N small models in a row; server RSS is sampled.

The first run pays for importing TensorFlow and compiling kernels, so growth is measured from
the end of run 1 to the end of run N (goal: at most 50 MB over 10 runs).

Usage: python benchmarks/soak_memory.py [--runs 10 --preset addition-tiny]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_classroom import server_rss_mb  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402


def main() -> int:
    """Run the soak and print RSS after every run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--preset", default="addition-tiny")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    # identical runs would be trained once and reused (engine/sharing.py): measure real trainings
    with streamlit_server({"RNN_LAB_SHARE_RUNS": "0"}) as url, sync_playwright() as p:
        port = int(url.rsplit(":", 1)[1])
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1600})
        page.goto(f"{url}/train")
        box = page.get_by_role("combobox", name="Preset")
        box.wait_for(timeout=120_000)
        box.click()
        box.fill(args.preset)
        page.keyboard.press("Enter")
        page.get_by_text("Source reports:").wait_for(timeout=60_000)
        print(f"before any run: RSS {server_rss_mb(port)[0]:.0f} MB")
        after = []
        for i in range(args.runs):
            t0 = time.time()
            page.get_by_role("button", name="Start training").click()
            page.get_by_role("button", name="Stop").wait_for(timeout=120_000)
            page.get_by_role("button", name="Train more").wait_for(timeout=300_000)
            page.wait_for_timeout(1500)
            rss = server_rss_mb(port)[0]
            after.append(rss)
            print(f"run {i + 1:>2}: {time.time() - t0:5.1f} s, RSS {rss:.0f} MB")
        page.screenshot(path=str(ROOT / "artifacts" / "soak_last.png"), full_page=True)
        browser.close()
    growth = after[-1] - after[0]
    print(f"summary: RSS after run 1 {after[0]:.0f} MB, after run {args.runs} {after[-1]:.0f} MB, ")
    print(f"growth {growth:+.0f} MB over {args.runs - 1} further runs (goal <= 50 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
