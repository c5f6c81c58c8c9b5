"""Threads and cores of training children: one run alone, and two at once, as the app trains them.

Each configuration runs in a fresh Python process: a warm pool of as many workers as runs
(:mod:`rnn_core.engine.pool`, the pages' child-process engine), then ``--runs`` trainings of the
preset (seeds 0, 1, ...) started together through ``rnn_core.run.start_run``. ``all``: the
workers warm up while nothing trains, so each has TensorFlow threads for every core (as the
pool gives a worker started on an idle server), each running training pinned to its share of
the cores (:mod:`rnn_core.engine.cores`); ``one`` gives every child one thread (the host's
``RNN_LAB_CHILD_THREADS=1``, and what the pool now gives a worker started beside a running
training on 2 cores). Configurations alternate over ``--repeats`` rounds so machine
noise hits both alike. Prints each run's training seconds (the history's fit-only ``seconds``)
and the wall time from the first Start to the last end; the last line is one JSON object.

Usage: python benchmarks/bench_cores.py [--preset mnist-fast] [--repeats 2]
       [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def one(preset: str, runs: int, threads: str, data_dir: str) -> dict:
    """Train ``runs`` seeds of ``preset`` at once in warm workers; their seconds and the wall."""
    os.environ["RNN_LAB_WARM_WORKERS"] = str(runs)
    os.environ["RNN_LAB_MAX_TRAININGS"] = str(runs)
    if threads == "one":
        os.environ["RNN_LAB_CHILD_THREADS"] = "1"  # the host's setting: every child one thread
    from benchmarks.bench_presets import seeded
    from rnn_core.engine.pool import POOL, pool_size
    from rnn_core.presets import get_preset
    from rnn_core.run import start_run

    POOL.warm()
    if not POOL.wait_idle(pool_size(), 300):
        raise SystemExit("the warm workers were not ready in 300 s")
    spec = get_preset(preset).spec
    started = [start_run(seeded(spec, seed, data_dir), None) for seed in range(runs)]
    t0 = time.perf_counter()
    for run in started:
        run.job.start()
    seconds = []
    for run in started:
        snap = run.job.wait()
        if snap.state != "done":
            raise SystemExit(f"training {snap.state}: {snap.error}")
        seconds.append(round(run.job.history()["seconds"][-1], 1))
    wall = round(time.perf_counter() - t0, 1)
    POOL.close()
    return {"runs": runs, "threads": threads, "seconds": seconds, "wall": wall}


def main() -> None:
    """Alternate the configurations, each in its own process; print the medians."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--preset", default="mnist-fast")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--one", nargs=2, metavar=("RUNS", "THREADS"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.preset, int(a.one[0]), a.one[1], a.data_dir)), flush=True)
        return
    env = os.environ | {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    results: dict[str, list[dict]] = {}
    for round_ in range(a.repeats):
        for runs in (1, 2):
            for threads in ("all", "one"):
                cmd = [sys.executable, __file__, "--preset", a.preset, "--data-dir", a.data_dir]
                out = subprocess.run(
                    [*cmd, "--one", str(runs), threads], env=env, capture_output=True, text=True
                )
                if out.returncode:
                    raise SystemExit(out.stderr[-2000:])
                got = json.loads(out.stdout.strip().splitlines()[-1])
                load = os.getloadavg()[0]
                print(
                    f"round {round_ + 1}: {runs} at once, threads {threads}: training "
                    f"{got['seconds']} s, wall {got['wall']} s, load {load:.2f}",
                    flush=True,
                )
                results.setdefault(f"{runs} {threads}", []).append(got)
    summary = {
        key: {
            "median_training_s": statistics.median(s for r in rs for s in r["seconds"]),
            "median_wall_s": statistics.median(r["wall"] for r in rs),
        }
        for key, rs in results.items()
    }
    for key, fig in summary.items():
        print(f"{key}: median training {fig['median_training_s']} s, wall {fig['median_wall_s']} s")
    print(json.dumps({"preset": a.preset, "summary": summary, "date": time.strftime("%F %H:%M")}))


if __name__ == "__main__":
    main()
