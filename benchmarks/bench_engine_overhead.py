"""Engine overhead: the same model and data trained by bare ``model.fit`` and by the engine.

The engine run has a consumer thread polling snapshots and building the curves figure every
0.7 s, as the Train page does. Runs alternate (bare, engine, bare, engine, ...) so machine
noise hits both alike; the ratio of medians is printed. With ``--process`` the engine is the
pages' one: each training borrows a worker process of the warm pool
(:mod:`rnn_core.engine.pool`), started before round 1 as the server starts it after its first
page; a ``--settle`` pause follows each engine run, as a user reading results would give it.
The engine's time includes its start (sending model and data, loading the model there).

Usage: python benchmarks/bench_engine_overhead.py [--repeats 3 --epochs 3 --train-size 20000]
       [--process]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

from rnn_core.charts import training as charts
from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine.job import SlotPool, TrainingJob, make_dataset
from rnn_core.engine.pool import POOL, pool_size
from rnn_core.engine.process import ProcessRunner
from rnn_core.tasks import get_task


def bare_fit(task, spec, data) -> float:
    """Wall seconds of a plain model.fit over the same pipeline."""
    model = task.build(spec, data)
    (x, y), (xv, yv) = task.splits(data)
    train = make_dataset(x, y, spec.train.batch_size, spec.train.seed)
    val = make_dataset(xv, yv, max(256, spec.train.batch_size), None)
    t0 = time.perf_counter()
    model.fit(train, epochs=spec.train.epochs, validation_data=val, verbose=0, shuffle=False)
    return time.perf_counter() - t0


def engine_fit(task, spec, data, process: bool = False) -> float:
    """Wall seconds of the engine with a page-like consumer polling every 0.7 s."""
    model = task.build(spec, data)
    train, val = task.splits(data)
    runner = ProcessRunner(spec.task, data) if process else None  # the server's pool
    job = TrainingJob(model, train, val, spec.train, pool=SlotPool(1), runner=runner)
    frames = 0

    def consumer() -> None:
        nonlocal frames
        while True:
            snap = job.snapshot()
            charts.training_curves(snap.batch_logs, snap.epoch_logs, "accuracy").to_dict()
            frames += 1
            if snap.state in ("done", "failed"):
                return
            time.sleep(0.7)

    t0 = time.perf_counter()
    job.start()
    poller = threading.Thread(target=consumer)
    poller.start()
    snap = job.wait()
    elapsed = time.perf_counter() - t0
    poller.join()
    assert snap.state == "done", snap.error
    return elapsed


def main() -> None:
    """Alternate bare and engine runs; print each time and the ratio of medians."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-size", type=int, default=20_000)
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--process", action="store_true", help="the pages' child-process engine")
    p.add_argument("--settle", type=float, default=3.0, help="pause after a --process run (s)")
    a = p.parse_args()
    spec = RunSpec(
        data=AdditionConfig(digits=3, train_size=a.train_size),
        model=ModelConfig(cell="LSTM", units=a.units),
        train=TrainConfig(epochs=a.epochs, batch_size=128),
    )
    task = get_task("addition")
    data = task.make_data(spec.data)
    if a.process:  # the server's pool, started after its first page, long before a Start
        POOL.warm()
        print(f"pool warm: {POOL.wait_idle(pool_size(), 300)}, {pool_size()} workers", flush=True)
    bare, engine = [], []
    for i in range(a.repeats):
        bare.append(bare_fit(task, spec, data))
        engine.append(engine_fit(task, spec, data, a.process))
        if a.process:
            time.sleep(a.settle)  # the worker cleans up, as while a user reads results
        print(f"round {i + 1}: bare fit {bare[-1]:.2f} s   engine {engine[-1]:.2f} s", flush=True)
    ratio = statistics.median(engine) / statistics.median(bare)
    print(
        f"median bare {statistics.median(bare):.2f} s, median engine "
        f"{statistics.median(engine):.2f} s, ratio engine/bare = {ratio:.3f}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    POOL.close()


if __name__ == "__main__":
    main()
