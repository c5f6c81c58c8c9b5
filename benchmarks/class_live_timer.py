"""A class on one link, watched through each page's websocket: does every live panel keep redrawing?

Starts a server (warm pool of 1, cap 8), opens ``--sessions`` Chromium pages on the same
preset link, presses Start on all of them at once and waits until each shows "Train more" or
``--timeout`` seconds pass. Every message the server sends each page is decoded (Streamlit's
``ForwardMsg``) and logged with its time. Prints, per page, when it ended, how many whole-page
runs and redraw-timer settings it received, and the longest silence (no drawing) after Start;
for a page that never ended, its last 30 messages. A frozen panel is one whose redraw timer
was cleared by a whole-page run that never set it again.

Usage: python benchmarks/class_live_timer.py [--sessions 15 --preset addition-fast --epochs 3
       --split-cpus --log FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ray_class import warm  # noqa: E402
from benchmarks.class_cgroup import link, same_spec  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium, message_kind, streamlit_server  # noqa: E402


@dataclasses.dataclass
class Page:
    """What one page received, and when its run ended (seconds after Start)."""

    log: list[tuple[float, str]] = dataclasses.field(default_factory=list)
    done: float | None = None


async def session(
    browser, url: str, spec, gate: list[int], n: int, t0: list[float], timeout: float
) -> Page:  # noqa: ANN001, E501
    """Open the link, press Start once all ``n`` pages show it, wait for the end."""
    context = await browser.new_context(viewport={"width": 1300, "height": 1600})
    context.set_default_timeout(300_000)
    page, out = await context.new_page(), Page()

    def on_socket(ws) -> None:  # noqa: ANN001
        ws.on("framereceived", lambda p: out.log.append((time.time() - t0[0], message_kind(p))))

    page.on("websocket", on_socket)
    await page.goto(f"{url}/train?{link(spec)}", timeout=300_000)
    start = page.get_by_role("button", name="Start training")
    await start.wait_for(timeout=300_000)
    gate[0] += 1
    while gate[0] < n:
        await asyncio.sleep(0.2)
    t0[0] = t0[0] or time.time()
    await start.click()
    clicked = time.time()
    while time.time() - clicked < timeout:
        if await page.get_by_role("button", name="Train more").count():
            out.done = round(time.time() - clicked, 1)
            break
        await asyncio.sleep(1.0)
    await context.close()
    return out


def longest_silence(page: Page) -> float:
    """The longest time between two drawings (deltas) the page received after Start."""
    times = [t for t, k in page.log if k == "delta" and t > 0]
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


async def run(args: argparse.Namespace) -> int:
    """Drive the class; print one line per page and the pages that never ended."""
    from playwright.async_api import async_playwright

    spec = same_spec(args.preset, args.epochs)
    env = {"RNN_LAB_WARM_WORKERS": "1", "RNN_LAB_MAX_TRAININGS": "8"}
    wrap: list[str] = []
    if args.split_cpus:  # the students' browsers are not on the server in a real class
        os.sched_setaffinity(0, {1})  # this script; Chromium inherits it
        wrap = ["taskset", "-c", "0"]
    with streamlit_server(env, wrap=wrap) as url:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            await warm(browser, url)
            gate, t0 = [0], [0.0]
            pages = await asyncio.gather(
                *[session(browser, url, spec, gate, args.sessions, t0, args.timeout)
                  for _ in range(args.sessions)]
            )  # fmt: skip
            await browser.close()
    for i, page in enumerate(pages):
        kinds = [k for _, k in page.log if k != "delta"]
        print(
            f"page {i:02d}: done after {page.done} s; page runs "
            f"{sum(k.startswith('page run') for k in kinds)}, timers set "
            f"{sum(k.startswith('timer') for k in kinds)}; longest silence after Start "
            f"{longest_silence(page):.1f} s"
        )
    for i, page in enumerate(pages):
        if page.done is None:
            print(f"page {i:02d} never ended; its last messages (s after Start, kind):")
            for t, k in [e for e in page.log if e[1] != "delta"][-30:]:
                print(f"    {t:7.2f}  {k}")
    ended = sum(p.done is not None for p in pages)
    if args.log:
        Path(args.log).write_text(json.dumps([p.log for p in pages]))
    print(
        f"summary: {ended}/{len(pages)} pages ended; {time.strftime('%Y-%m-%d %H:%M')} UTC; "
        f"load {os.getloadavg()[0]:.1f}"
        + ("; server on CPU 0, browsers on CPU 1" if args.split_cpus else "")
    )
    return 0 if ended == len(pages) else 1


def main() -> int:
    """Parse flags and run the class."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=15)
    parser.add_argument("--preset", default="addition-fast")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per page")
    parser.add_argument("--log", help="write every page's messages to this JSON file")
    parser.add_argument(
        "--split-cpus", action="store_true", help="server on CPU 0, the browsers on CPU 1"
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
