"""Classroom load: N browser sessions on one server all start a small training at once.

Each session picks the tiny addition preset with its own unit count, so cross-talk would
show: every session must end with its own "LSTM <units>×1" run and its own curves. The
server runs with a training cap (``--slots``) so later sessions queue; the script records the
queue positions each one saw, the wall time to finish, the server's peak RSS, the CPU time
the server process itself used (drawing every session's live panel) and any error text.
It also watches the server's training child processes (how many at once, when each ran): the
browsers' times include their own drawing, which on one shared 2-core machine lags behind.
An idle warm worker waiting for the next training (see rnn_core/engine/pool.py) counts too.

Usage: python benchmarks/load_classroom.py [--sessions 8 --slots 2 --timeout 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import (  # noqa: E402
    CHROMIUM_ARGS,
    chromium,
    streamlit_server,
    training_children,
)


def server_dir(port: int) -> Path | None:
    """``/proc/<pid>`` of the streamlit server listening on ``port``."""
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmdline = cmd.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "streamlit" in cmdline and f"--server.port {port}" in cmdline:
            return cmd.parent
    return None


def server_rss_mb(port: int) -> tuple[float, float]:
    """(current, peak) resident memory in MB of the process listening on ``port``."""
    proc = server_dir(port)
    if proc is None:
        return (float("nan"), float("nan"))
    text = (proc / "status").read_text()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def server_cpu_seconds(port: int) -> float:
    """CPU seconds (user + system) the server process itself has used, children excluded."""
    proc = server_dir(port)
    if proc is None:
        return float("nan")
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_session(browser, url: str, units: int, timeout: float) -> dict:
    """Open the Train page, start a tiny run with ``units`` units, wait until it ends."""
    context = await browser.new_context(viewport={"width": 1300, "height": 1600})
    page = await context.new_page()
    result = {"units": units, "queue_positions": set(), "error": "", "seconds": None}
    result |= {"own_run_shown": False, "other_runs_shown": []}
    try:
        await page.goto(f"{url}/train")
        box = page.get_by_role("combobox", name="Preset")
        await box.wait_for(timeout=120_000)
        await box.click()
        await box.fill("addition-tiny")
        await page.keyboard.press("Enter")
        await page.get_by_text("Source reports:").wait_for(timeout=60_000)
        units_box = page.get_by_label("Units", exact=True)
        await units_box.fill(str(units))
        await units_box.press("Tab")
        t0 = time.time()
        await page.get_by_role("button", name="Start training").click()
        while time.time() - t0 < timeout:
            body = await page.inner_text("body")
            for pos in re.findall(r"position (\d+) in the queue", body):
                result["queue_positions"].add(int(pos))
            if re.search(r"Traceback|Training failed|Error|Connection error", body):
                result["error"] = body[:300]
                break
            if await page.get_by_role("button", name="Train more").count():
                result["seconds"] = round(time.time() - t0, 1)
                break
            await asyncio.sleep(0.5)
        body = await page.inner_text("body")
        result["own_run_shown"] = f"LSTM {units}×1" in body
        others = {int(u) for u in re.findall(r"LSTM (\d+)×1", body)} - {units}
        result["other_runs_shown"] = sorted(others)
        await page.screenshot(path=str(ROOT / "artifacts" / f"load_{units}.png"), full_page=True)
    except Exception as exc:  # report, do not hide: the summary prints it
        result["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await context.close()
    result["queue_positions"] = sorted(result["queue_positions"])
    return result


async def main_async(args: argparse.Namespace) -> int:
    """Run the sessions concurrently against one server and print the summary."""
    from playwright.async_api import async_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    env = {"RNN_LAB_MAX_TRAININGS": str(args.slots)}
    with streamlit_server(env) as url:
        port = int(url.rsplit(":", 1)[1])
        print(f"server {url}, slots {args.slots}, idle RSS {server_rss_mb(port)[0]:.0f} MB")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            t0, cpu0 = time.time(), server_cpu_seconds(port)
            units = [8 + 4 * i for i in range(args.sessions)]
            seen: dict[int, list[float]] = {}  # training child pid -> [first, last] seen
            most = 0
            died: float | None = None  # seconds after the start when the server vanished

            async def watch_children() -> None:
                nonlocal most, died
                while True:
                    if died is None and server_dir(port) is None:
                        died = time.time() - t0
                    pids = training_children(port)
                    most = max(most, len(pids))
                    for pid in pids:
                        seen.setdefault(pid, [time.time() - t0] * 2)[1] = time.time() - t0
                    await asyncio.sleep(0.25)

            watcher = asyncio.create_task(watch_children())
            results = await asyncio.gather(
                *(one_session(browser, url, u, args.timeout) for u in units)
            )
            wall, cpu = time.time() - t0, server_cpu_seconds(port) - cpu0
            watcher.cancel()
            await browser.close()
        rss, peak = server_rss_mb(port)
    ok = 0
    for r in results:
        fine = r["seconds"] is not None and r["own_run_shown"] and not r["other_runs_shown"]
        ok += fine and not r["error"]
        print(
            f"units {r['units']:>3}: done in {r['seconds']} s, queue positions seen "
            f"{r['queue_positions'] or '-'}, own run shown {r['own_run_shown']}, "
            f"others' runs shown {r['other_runs_shown'] or 'none'}, error {r['error'] or 'none'}"
        )
    spans = sorted(seen.values())
    if spans:
        print(
            f"server side: {len(spans)} training processes, at most {most} at once "
            f"(slots {args.slots}); first started {spans[0][0]:.0f} s, last ended "
            f"{max(end for _, end in spans):.0f} s after the first page opened; each lived "
            + ", ".join(f"{end - start:.0f}" for start, end in spans)
            + " s"
        )
    print(
        f"summary: {ok}/{args.sessions} completed without cross-talk or error; "
        f"wall {wall:.0f} s; server process CPU {cpu:.1f} s (trainings excluded); "
        f"server RSS now {rss:.0f} MB, peak {peak:.0f} MB"
    )
    if died is not None:
        print(f"SERVER DIED {died:.0f} s after the pages opened: see its log in artifacts/")
    return 0 if ok == args.sessions else 1


def main() -> int:
    """Parse flags and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
