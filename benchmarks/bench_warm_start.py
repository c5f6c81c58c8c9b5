"""Start -> first live progress with the pages' engine (warm worker pool), runs 1-5 of a session.

Times, in this process, from ``job.start()`` to the first snapshot that shows a trained batch
(what the live panel draws first), for ``--runs`` trainings of a preset one after another, as
one student pressing Start again after reading each result. The pool is started first, as the
server does after its first page, and the first run begins ``--first-after`` seconds later.
Prints each run, the median of runs 2 to the end, and the machine load. On a shared machine
the wall times follow the load; the CPU seconds spent from Start to first progress by the
worker and by this process do not, so they are printed beside them.

Usage: python benchmarks/bench_warm_start.py [--preset addition-tiny --runs 5
       --first-after 8 --pause 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    """Run the session and print its figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="addition-tiny")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--first-after", type=float, default=8.0, help="s from pool start to run 1")
    p.add_argument("--pause", type=float, default=2.0, help="s between a run's end and the next")
    a = p.parse_args()
    from rnn_core.engine.pool import POOL, anonymous_mb, pool_size, warm_workers

    t_pool = time.perf_counter()
    warm_workers()  # what the server does after its first page
    from rnn_core.engine.process import new_job
    from rnn_core.presets import PRESETS
    from rnn_core.tasks import get_task

    spec = PRESETS[a.preset].spec
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    time.sleep(max(0.0, a.first_after - (time.perf_counter() - t_pool)))
    print(f"pool size {pool_size()}, load {os.getloadavg()[0]:.2f}", flush=True)
    firsts, totals = [], []
    for i in range(a.runs):
        model = task.build(spec, data)
        job = new_job(model, spec.task, data, spec.train)
        idle = {w.pid: cpu_seconds(w.pid) for w in list(POOL.idle)}
        c0, t0 = time.process_time(), time.perf_counter()
        job.start()
        deadline = t0 + 300
        while job.snapshot().batch == 0 and job.snapshot().active:
            if time.perf_counter() > deadline:
                break
            time.sleep(0.005)
        firsts.append(time.perf_counter() - t0)
        server_cpu = time.process_time() - c0
        pid = job.runner.worker_pid
        worker_cpu = cpu_seconds(pid) - idle.get(pid, 0.0)  # a new worker: since its spawn
        snap = job.wait(300)
        totals.append(time.perf_counter() - t0)
        assert snap.state == "done", snap.error
        print(
            f"run {i + 1}: start -> first progress {firsts[-1]:.2f} s (CPU: worker "
            f"{worker_cpu:.2f} s{'' if pid in idle else ', new worker'}, this process "
            f"{server_cpu:.2f} s), whole run {totals[-1]:.2f} s, worker pid {pid}, "
            f"load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        time.sleep(a.pause)
        print(f"  its anonymous memory now {anonymous_mb(pid):.0f} MB", flush=True)
    later = firsts[1:]
    if later:
        print(
            f"first run {firsts[0]:.2f} s; runs 2-{a.runs}: median {statistics.median(later):.2f} s"
            f" (min {min(later):.2f}, max {max(later):.2f}); workers retired {POOL.retired}"
        )
    POOL.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
