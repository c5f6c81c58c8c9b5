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
