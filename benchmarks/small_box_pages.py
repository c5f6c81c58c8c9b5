"""A server in a small memory cgroup: one Chromium session uses what needs no training.

The server runs in a fresh memory cgroup of ``--memory`` bytes (see ``class_cgroup.py``) with
the app's defaults and ``RNN_LAB_DATA_DIR`` set to ``../shared/data``. One session walks:

1. Inside the RNN with random weights (NumPy only): Next, five times.
2. Train, the addition task: *Load the pretrained model* (loaded and scored in the server).
3. Inside the RNN on that model (*A model trained this session*).
4. Text generation: *Load the pretrained model* (scored on the test text), then *Generate*.

Printed per step: seconds, the cgroup's memory and its training worker processes after it,
and any error the page showed; then
the cgroup's peak, its OOM kills and whether the server still answers. A full-page screenshot
of each step goes to ``artifacts/small_box_*.png``. Needs root; elsewhere it says so and exits 0.

Usage: python benchmarks/small_box_pages.py --memory 0.7G [--drop-caches] [--warm-workers 0]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.class_cgroup import Cgroup, memory_cgroup, parse_bytes, why_no_cgroup  # noqa: E402
from tests.browser import ARTIFACTS, chromium_page, streamlit_server  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WAIT = 240_000  # ms for any one page to answer on a small, slow box
ERRORS = "[data-testid=stException], [data-testid=stAlertContentError]"


def _sidebar(page, title: str) -> None:  # noqa: ANN001
    """Open a page from the sidebar and wait for its title."""
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title, exact=True).click()


def stepper_random(page) -> None:  # noqa: ANN001
    """Inside the RNN, random weights: Next five times, to t = 5."""
    _sidebar(page, "Inside the RNN")
    page.get_by_role("heading", name="Inside the RNN").wait_for(timeout=WAIT)
    for _ in range(5):
        page.get_by_role("button", name=re.compile("Next")).first.click(timeout=WAIT)
        page.wait_for_timeout(400)
    page.get_by_text(re.compile(r"t = 5\b")).first.wait_for(timeout=WAIT)


def train_pretrained(page) -> None:  # noqa: ANN001
    """Train page, addition: load the pretrained model and wait for its results."""
    _sidebar(page, "Train")
    box = page.get_by_role("combobox", name="Task")
    box.wait_for(timeout=WAIT)
    box.click()
    box.fill("Addition")
    page.keyboard.press("Enter")
    page.wait_for_timeout(1000)
    page.get_by_text("Start from a pretrained model").click(timeout=WAIT)
    page.get_by_role("button", name="Load the pretrained model").click(timeout=WAIT)
    page.get_by_role("button", name="Train more").wait_for(timeout=WAIT)


def stepper_trained(page) -> None:  # noqa: ANN001
    """Inside the RNN on the session's model."""
    _sidebar(page, "Inside the RNN")
    page.get_by_text("A model trained this session").click(timeout=WAIT)
    page.get_by_text("How far back does it remember?").wait_for(timeout=WAIT)


def text_pretrained(page) -> None:  # noqa: ANN001
    """Text page: load the pretrained character model, then generate from its seed."""
    _sidebar(page, "Text generation")
    page.get_by_role("heading", name="Text generation").wait_for(timeout=WAIT)
    page.get_by_text("Start from a pretrained model").click(timeout=WAIT)
    page.get_by_role("button", name="Load the pretrained model").click(timeout=WAIT)
    page.get_by_text("Continue your own text").wait_for(timeout=WAIT)
    page.get_by_role("button", name="Generate").click(timeout=WAIT)
    page.wait_for_timeout(3000)


STEPS: list[tuple[str, Callable]] = [
    ("stepper, random weights", stepper_random),
    ("train, pretrained addition", train_pretrained),
    ("stepper, that model", stepper_trained),
    ("text, pretrained, generate", text_pretrained),
]


def alive(url: str) -> bool:
    """True when the server answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as reply:
            return reply.status == 200
    except OSError:
        return False


def workers(cg: Cgroup) -> int:
    """Training worker processes in the cgroup now (warm or training)."""
    found = 0
    for pid in cg.read("cgroup.procs").split():
        try:
            found += b"rnn_core.engine.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
    return found


def walk(url: str, cg: Cgroup) -> int:
    """Run every step in one session; print each; 0 when all passed with the server alive."""
    failed = 0
    with chromium_page(1400, 2400) as page:
        page.goto(url)
        page.get_by_role("heading", name="RNN Lab").wait_for(timeout=WAIT)
        for i, (name, step) in enumerate(STEPS, 1):
            t0 = time.time()
            try:
                step(page)
                outcome = "ok"
            except Exception as exc:  # noqa: BLE001 - reported, and the walk goes on
                outcome, failed = f"FAILED: {str(exc).splitlines()[0]}", failed + 1
            seconds = time.time() - t0
            errors = [e.inner_text()[:160] for e in page.locator(ERRORS).all()]
            page.screenshot(path=str(ARTIFACTS / f"small_box_{i}.png"), full_page=True)
            print(
                f"{i}. {name}: {outcome} in {seconds:.1f} s; cgroup {cg.usage() / 2**20:.0f} MB;"
                f" workers {workers(cg)}; errors shown: {errors or 'none'}",
                flush=True,
            )
    up = alive(url)
    print(f"peak {cg.peak() / 2**20:.0f} MB, OOM kills {cg.oom_kills()}, server alive: {up}")
    return 1 if failed or not up else 0


def main() -> int:
    """Parse flags, make the cgroup, start the server in it, walk the pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", default="0.7G", help="the cgroup's limit, e.g. 0.7G")
    parser.add_argument(
        "--drop-caches", action="store_true", help="drop the page cache first (a fresh box)"
    )
    parser.add_argument("--warm-workers", help="RNN_LAB_WARM_WORKERS (default: the app's)")
    args = parser.parse_args()
    reason = why_no_cgroup()
    if reason:
        print(f"skipped: {reason}")
        return 0
    ARTIFACTS.mkdir(exist_ok=True)
    if args.drop_caches:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    env = {"RNN_LAB_DATA_DIR": str(DATA)}
    if args.warm_workers is not None:
        env["RNN_LAB_WARM_WORKERS"] = args.warm_workers
    with memory_cgroup(parse_bytes(args.memory)) as cg:
        print(f"cgroup v{cg.version} {cg.path} limit {args.memory}; load {os.getloadavg()}")
        with streamlit_server(env, wrap=cg.enter_prefix()) as url:
            return walk(url, cg)


if __name__ == "__main__":
    raise SystemExit(main())
