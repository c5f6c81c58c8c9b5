"""Where a warm Start's time goes, in-process: the pages' steps from Start to first progress.

Like ``bench_warm_start.py`` (the pool started first, runs one after another), but each run is
timed step by step as the Train page does it: the model built (``task.build``, in the script
run of the Start click), the job made and started, then in the job's thread the worker taken
from the pool, the request's model bytes, the request written, and the worker's frames as
they arrive (``epoch_begin``; each batch with its own duration measured in the worker). Each
step is printed as milliseconds since the click's build began; the median over runs 2 to the
end follows. The page's own cost (its script reruns, the live panel's refresh period, drawing)
is not here: see ``warm_start_browser.py``.

Usage: python benchmarks/warm_start_breakdown.py [--preset addition-tiny --runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Run the session, print each run's steps and the medians."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="addition-tiny")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--first-after", type=float, default=8.0, help="s from pool start to run 1")
    p.add_argument("--pause", type=float, default=2.0, help="s between a run's end and the next")
    a = p.parse_args()
    from rnn_core.engine.pool import POOL, warm_workers

    t_pool = time.perf_counter()
    warm_workers()
    import rnn_core.engine.process as process
    from rnn_core.engine.memory import estimate
    from rnn_core.presets import PRESETS
    from rnn_core.tasks import get_task

    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, time.perf_counter())

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mark(f"{name} begins")
            out = fn(*args, **kwargs)
            mark(f"{name} ends")
            return out

        return wrapper

    batch_seconds: list[float] = []
    read, take = process.read_frame, POOL.take

    def read_frame(stream: Any) -> Any:
        frame = read(stream)
        if frame[0] == "epoch_begin":
            mark("worker: epoch_begin frame")
        elif frame[0] == "batch":
            batch_seconds.append(frame[3])
            mark(f"worker: batch {frame[1] + 1} frame")
        return frame

    process.read_frame = read_frame
    process.model_bytes = timed("model bytes", process.model_bytes)
    process.model_key = timed("model key", process.model_key)
    POOL.take = timed("pool take", take)  # type: ignore[method-assign]
    process.write_frame = timed("request written", process.write_frame)

    spec = PRESETS[a.preset].spec
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    time.sleep(max(0.0, a.first_after - (time.perf_counter() - t_pool)))
    rows: list[dict[str, float]] = []
    for i in range(a.runs):
        marks.clear()
        batch_seconds.clear()
        t0 = time.perf_counter()
        model = task.build(spec, data)
        mark("model built")
        job = process.new_job(model, spec.task, data, spec.train)
        job.memory_need = estimate(spec.task, data, spec.model, spec.train, model.count_params())
        mark("job made")
        job.start()
        while job.snapshot().batch == 0 and job.snapshot().active:
            time.sleep(0.002)
        mark("first progress in the snapshot")
        snap = job.wait(300)
        assert snap.state == "done", snap.error
        row = {k: (v - t0) * 1000 for k, v in sorted(marks.items(), key=lambda kv: kv[1])}
        first = batch_seconds[0] * 1000 if batch_seconds else float("nan")
        print(f"run {i + 1} (load {os.getloadavg()[0]:.2f}, worker's first batch {first:.0f} ms):")
        for k, v in row.items():
            print(f"  {v:7.0f} ms  {k}")
        rows.append(row | {"worker's first batch": first})
        time.sleep(a.pause)
    if len(rows) > 1:
        print(f"median over runs 2-{a.runs}, ms since the build began:")
        for k in rows[-1]:
            values = [r[k] for r in rows[1:] if k in r]
            print(f"  {statistics.median(values):7.0f} ms  {k}")
    POOL.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
