"""A class on several Streamlit servers sharing one local Ray cluster, beside one server alone.

``--ray``: starts a Ray head on this machine (``ray start --head --block`` in its own session,
``--cpus`` CPUs, token authentication on, stopped at the end by its process group), then
``--servers`` Streamlit servers with ``RNN_LAB_RAY_ADDRESS`` pointing at it. Without ``--ray``:
``--servers`` servers training in their own child processes (the baseline: one server).
``--per-server`` browser contexts per server each press Start at once on a mixed class: the
tiny addition preset and the noisy-sines forecast preset in turn, each session with its own
unit count, so every page must end with its own run and no other. Printed per session: the
wait (Start pressed → first batch shown), the time to done, whether "waiting for the cluster"
was shown, errors; then the wall time, the slowest wait, each server's CPU seconds and
whether it survived, and with Ray the CPU seconds of the cluster's processes (the head's
process tree: GCS, raylet, workers and actors, finished ones through their parents' cutime).
Each server's Train page is opened once before the class, as a teacher wakes the app.

Usage: python benchmarks/bench_ray_class.py --ray --servers 2 --per-server 6
       python benchmarks/bench_ray_class.py --servers 1 --per-server 12
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_classroom import server_cpu_seconds, server_dir  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium, streamlit_server  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

PRESETS = (("addition-tiny", "LSTM"), ("forecast-sines", "GRU"))  # taken in turn


class ClusterCpu:
    """CPU seconds of the processes of one Ray cluster (those whose environment holds its
    ``RAY_TMPDIR``: GCS, raylet, workers, actors), read every second from a thread; an
    actor's last second before it ends is missed."""

    def __init__(self, tmp: str) -> None:
        """Watch the processes started with ``RAY_TMPDIR=tmp``."""
        self.mark = f"RAY_TMPDIR={tmp}".encode()
        self.seen: dict[int, float] = {}  # pid -> its CPU seconds when last read
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self.done.wait(1.0):
            for env in Path("/proc").glob("[0-9]*/environ"):
                try:
                    if self.mark not in env.read_bytes():
                        continue
                    fields = (env.parent / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.seen[int(env.parent.name)] = (int(fields[11]) + int(fields[12])) / tick

    def total(self) -> float:
        """CPU seconds seen so far."""
        return sum(self.seen.values())


def group_alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def ray_head(cpus: int, log: Path) -> Iterator[tuple[str, int]]:
    """A Ray head on 127.0.0.1 with ``cpus`` CPUs; yields (address, its CPU watcher)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="rnnlab-ray-")
    env = os.environ | {"RAY_AUTH_MODE": "token", "RAY_TMPDIR": tmp}
    cmd = [
        str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}",
        f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats",
        "--object-store-memory=500000000", "--block",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, start_new_session=True)

    def up() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(up, 120, what=f"the Ray head on port {port}")
        time.sleep(3)  # the raylet registers after the GCS answers
        cpu = ClusterCpu(tmp)
        cpu.thread.start()
        yield f"127.0.0.1:{port}", cpu
    finally:
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(Exception):
                wait_until(lambda: not group_alive(proc.pid), wait, what="ray stops")
                break
        proc.wait(10)


def link(preset: str, units: int) -> str:
    """The Train page's share-link query for ``preset`` with ``units`` units."""
    from rnn_core.links import to_query
    from rnn_core.presets import get_preset

    spec = get_preset(preset).spec
    spec = dataclasses.replace(spec, model=dataclasses.replace(spec.model, units=units))
    return urllib.parse.urlencode(to_query(spec))


async def warm(browser, url: str) -> None:
    """Open the Train page once, as a teacher does before class (the server loads its code)."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{url}/train", timeout=300_000)
    await page.get_by_role("button", name="Start training").wait_for(timeout=300_000)
    await context.close()


async def one_session(browser, url: str, preset: str, cell: str, units: int, timeout: float):
    """Open the Train page, start ``preset`` with ``units`` units, wait until it ends."""
    context = await browser.new_context(viewport={"width": 1300, "height": 1600})
    context.set_default_timeout(300_000)  # 12 pages on 2 loaded cores: the browser lags
    page = await context.new_page()
    r = {"url": url, "preset": preset, "units": units, "wait": None, "seconds": None}
    r |= {"cluster_wait_shown": False, "error": "", "own": False, "others": []}
    try:
        await page.goto(f"{url}/train?{link(preset, units)}", timeout=300_000)
        start = page.get_by_role("button", name="Start training")
        await start.wait_for(timeout=300_000)
        await asyncio.sleep(1.0)
        t0 = time.time()
        await start.click()
        while time.time() - t0 < timeout:
            body = await page.inner_text("body")
            if "Waiting for the cluster" in body and not r["cluster_wait_shown"]:
                r["cluster_wait_shown"] = True
                shot = ROOT / "artifacts" / f"rayclass_wait_{url.rsplit(':', 1)[1]}_{units}.png"
                await page.screenshot(path=str(shot))
            if r["wait"] is None and re.search(r"batch [1-9]\d*/\d+", body):
                r["wait"] = round(time.time() - t0, 1)
            if re.search(r"Traceback|Training failed|Error|Connection error|lost this", body):
                r["error"] = body[:300]
                break
            if await page.get_by_role("button", name="Train more").count():
                r["seconds"] = round(time.time() - t0, 1)
                break
            await asyncio.sleep(2.0)
        body = await page.inner_text("body")
        r["own"] = f"{cell} {units}×1" in body
        names = {(c, int(u)) for c, u in re.findall(r"(LSTM|GRU) (\d+)×1", body)}
        r["others"] = sorted(names - {(cell, units)})
        tag = f"{url.rsplit(':', 1)[1]}_{units}"
        await page.screenshot(path=str(ROOT / "artifacts" / f"rayclass_{tag}.png"), full_page=True)
    except Exception as exc:  # reported in the summary, not hidden
        r["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await context.close()
    return r


async def run_class(
    urls: list[str], per_server: int, timeout: float, sid: ClusterCpu | None
) -> int:
    """All sessions at once on ``urls``; print the per-session lines and the summary."""
    from playwright.async_api import async_playwright

    ports = [int(u.rsplit(":", 1)[1]) for u in urls]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        cpu0 = [server_cpu_seconds(port) for port in ports]
        await asyncio.gather(*(warm(browser, url) for url in urls))
        ray0 = sid.total() if sid else 0.0
        t0 = time.time()
        jobs = []
        for s, url in enumerate(urls):
            for i in range(per_server):
                preset, cell = PRESETS[i % len(PRESETS)]
                units = 8 + 4 * (s * per_server + i)
                jobs.append(one_session(browser, url, preset, cell, units, timeout))
        results = await asyncio.gather(*jobs)
        wall = time.time() - t0
        ray_cpu = sid.total() - ray0 if sid else 0.0
        cpu = [server_cpu_seconds(port) - c for port, c in zip(ports, cpu0, strict=True)]
        alive = [server_dir(port) is not None for port in ports]
        await browser.close()
    ok = 0
    for r in results:
        fine = r["seconds"] is not None and r["own"] and not r["others"] and not r["error"]
        ok += fine
        print(
            f"{r['url']} {r['preset']:<14} units {r['units']:>3}: first batch after {r['wait']} s, "
            f"done after {r['seconds']} s, 'waiting for the cluster' shown "
            f"{r['cluster_wait_shown']}, own run {r['own']}, others {r['others'] or 'none'}, "
            f"error {r['error'] or 'none'}"
        )
    cluster = f"; Ray cluster processes CPU {ray_cpu:.1f} s ({ray_cpu / wall:.2f} cores)"
    waits = [r["wait"] for r in results if r["wait"] is not None]
    dones = [r["seconds"] for r in results if r["seconds"] is not None]
    print(
        f"summary: {ok}/{len(results)} finished with their own run and no error; wall "
        f"{wall:.0f} s; slowest wait for a first batch {max(waits, default=float('nan')):.1f} s; "
        f"slowest Start → done {max(dones, default=float('nan')):.1f} s; servers' own CPU "
        + ", ".join(f"{c:.1f} s" for c in cpu)
        + f"; servers alive {alive}"
        + (cluster if sid else "")
    )
    return 0 if ok == len(results) and all(alive) else 1


def main() -> int:
    """Parse flags, start the cluster and servers, run the class."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ray", action="store_true", help="share one local Ray cluster")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--per-server", type=int, default=6)
    parser.add_argument("--cpus", type=int, default=2, help="the Ray cluster's CPUs")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        sid = None
        if args.ray:
            address, sid = stack.enter_context(ray_head(args.cpus, ROOT / "artifacts" / "ray.log"))
            env = {"RNN_LAB_RAY_ADDRESS": address, "RAY_AUTH_MODE": "token"}
            print(f"Ray head at {address} with {args.cpus} CPUs")
        urls = [stack.enter_context(streamlit_server(env)) for _ in range(args.servers)]
        print(f"servers {urls}; load before: {os.getloadavg()}")
        return asyncio.run(run_class(urls, args.per_server, args.timeout, sid))


if __name__ == "__main__":
    raise SystemExit(main())
