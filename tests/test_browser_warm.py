"""Warm workers in Chromium: started after the first page, reused by each Start, gone at exit."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import pytest

from benchmarks.warm_start_browser import session
from tests.browser import ARTIFACTS, chromium_page, streamlit_server, training_children
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_warm_workers_serve_each_start_and_end_with_the_server() -> None:
    with (
        streamlit_server(
            # each Start trains (identical runs would otherwise join the first one's result)
            {"RNN_LAB_WARM_WORKERS": "1", "RNN_LAB_MAX_TRAININGS": "2", "RNN_LAB_SHARE_RUNS": "0"}
        ) as url,
        chromium_page(1300, 1400) as page,
    ):
        out = session(page, url, "addition-tiny", runs=3, first_after=8.0)
        workers = training_children(out["port"])
    assert out["before"] == []  # none at server start: the pool waits for the first page
    assert len(workers) == 1 and all(pids == workers for pids in out["pids"])  # one, reused
    figures = {
        "start_to_first_progress_s": [round(t, 2) for t in out["firsts"]],
        "later_median_s": round(statistics.median(out["firsts"][1:]), 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "warm_start.json").write_text(json.dumps(figures, indent=1))
    print(figures)
    # the server was terminated on leaving the block: its workers follow
    wait_until(lambda: not _alive(workers), 60, 0.2, "the warm workers to end with the server")


def test_a_server_without_tensorflow_warms_one_worker_and_keeps_it() -> None:
    # the home page imports no TensorFlow, so the worker maps TensorFlow's library files alone;
    # counted as its own memory, they put it above the pool's bound, and it was replaced again
    # and again (5 workers spawned in 60 s), a core busy for as long as nobody trained
    with (
        streamlit_server({"RNN_LAB_WARM_WORKERS": "1"}) as url,
        chromium_page(1300, 1000) as page,
    ):
        port = int(url.rsplit(":", 1)[1].strip("/"))
        page.goto(url)
        page.get_by_text("RNN Lab").first.wait_for(timeout=60_000)
        first = wait_until(lambda: training_children(port), 120, 0.2, "the pool's first worker")
        seen = set(first)
        deadline = time.monotonic() + 45  # about three warm-ups of a worker on this machine
        while time.monotonic() < deadline:
            seen.update(training_children(port))
            time.sleep(0.5)
        assert seen == set(first) and _alive(first) == first, f"workers seen: {sorted(seen)}"


def _alive(pids: list[int]) -> list[int]:
    """The pids that still run (not zombies)."""
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            alive.append(pid)
    return alive
