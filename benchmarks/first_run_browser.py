"""A fresh server's first run against later ones, timed per epoch in Chromium.

Starts a server, opens the preset's page ``--first-after`` seconds after the server answered,
presses Start and reads the live panel every 0.1 s until the run's results are drawn; then
again ``--runs`` - 1 times, each with the next seed (identical runs would be shared). Prints,
per run, the seconds from the click to each epoch's first batch count and to the results, and
the CPU seconds the server and each training process spent during the run (who else used the
2 cores while it trained).

Usage: python benchmarks/first_run_browser.py [--preset addition-fast --runs 2
       --first-after 2 --pause 60]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_warm_start import cpu_seconds  # noqa: E402
from benchmarks.load_classroom import server_dir  # noqa: E402
from rnn_core.links import to_query  # noqa: E402
from rnn_core.presets import PRESETS  # noqa: E402
from tests.browser import chromium_page, streamlit_server, training_children  # noqa: E402

EPOCH = re.compile(r"epoch (\d+)/(\d+) · batch [1-9]")  # the live panel's batch count


def server_pid(port: int) -> int:
    """The Streamlit server listening on ``port``."""
    found = server_dir(port)
    if found is None:
        raise RuntimeError(f"no streamlit server on port {port}")
    return int(found.name)


def one_run(page: Any, url: str, query: dict[str, str], port: int) -> dict[str, Any]:
    """Open the page with ``query``, press Start, time each epoch and the results."""
    where = "text" if query.get("task") == "text" else "train"
    page.goto(f"{url}/{where}?" + "&".join(f"{k}={v}" for k, v in query.items()))
    start = page.get_by_role("button", name="Start training", disabled=False)
    start.wait_for(timeout=120_000)
    pids = {server_pid(port), *training_children(port)}
    cpu0 = {pid: cpu_seconds(pid) for pid in pids}
    t0 = time.perf_counter()
    start.click()
    epochs: dict[int, float] = {}
    done = page.get_by_role("button", name=re.compile("Train more"))
    while not done.count():
        text = page.evaluate("document.body.innerText")
        for k, _ in EPOCH.findall(text):
            epochs.setdefault(int(k), time.perf_counter() - t0)
        for pid in training_children(port):
            cpu0.setdefault(pid, cpu_seconds(pid) if pid in pids else 0.0)
            pids.add(pid)
        if time.perf_counter() - t0 > 600:
            raise RuntimeError("no results within 600 s")
        time.sleep(0.1)
    total = time.perf_counter() - t0
    cpu = {pid: cpu_seconds(pid) - cpu0.get(pid, 0.0) for pid in sorted(pids)}
    return {"epochs": epochs, "total": total, "cpu": cpu}


def main() -> int:
    """Measure the runs of one server and print them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="addition-fast")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--first-after", type=float, default=2.0, help="s from the server's answer")
    p.add_argument("--pause", type=float, default=60.0, help="s between two runs")
    a = p.parse_args()
    spec = PRESETS[a.preset].spec
    with streamlit_server({"RNN_LAB_SHARE_RUNS": "0"}) as url, chromium_page(1300, 1400) as page:
        port = int(url.rsplit(":", 1)[1])
        page.goto(url)
        time.sleep(a.first_after)
        for i in range(a.runs):
            if i:
                time.sleep(a.pause)
            query = to_query(spec) | {"t.seed": str(spec.train.seed + i)}
            out = one_run(page, url, query, port)
            server = server_pid(port)
            steps = " ".join(f"{k}:{s:.1f}" for k, s in sorted(out["epochs"].items()))
            cpu = ", ".join(
                f"{'server' if pid == server else pid} {s:.1f}" for pid, s in out["cpu"].items()
            )
            print(
                f"run {i + 1} (seed {spec.train.seed + i}): Start -> epoch's first batch "
                f"[{steps}] s, -> results {out['total']:.1f} s; CPU s during it: {cpu}; "
                f"load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
