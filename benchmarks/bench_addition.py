"""Time for an addition model to reach a held-out exact-match goal on this CPU.

Usage: python benchmarks/bench_addition.py [--cell LSTM --units 128 --digits 3 ...]
"""

from __future__ import annotations

import argparse
import json
import time

from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.engine.job import TrainingJob
from rnn_core.tasks import get_task


def main() -> None:
    """Train until exact match on held-out questions reaches the goal or time runs out."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cell", default="LSTM")
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--digits", type=int, default=3)
    p.add_argument("--train-size", type=int, default=50_000)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--goal", type=float, default=0.99)
    p.add_argument("--max-epochs", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    spec = RunSpec(
        data=AdditionConfig(digits=a.digits, train_size=a.train_size, seed=a.seed),
        model=ModelConfig(cell=a.cell, units=a.units, layers=a.layers, seed=a.seed),
        train=TrainConfig(
            epochs=a.max_epochs,
            batch_size=a.batch_size,
            optimizer=a.optimizer,
            learning_rate=a.lr,
            seed=a.seed,
        ),
    )
    task = get_task("addition")
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    report = task.epoch_report(data)
    reached: dict[str, float] = {}
    t0 = time.perf_counter()

    def on_epoch(m, epoch: int) -> dict:
        out = report(m, epoch)
        wall = time.perf_counter() - t0
        print(
            f"epoch {epoch:3d}  wall {wall:6.1f}s  exact_match {out['exact_match']:.3f}", flush=True
        )
        if out["exact_match"] >= a.goal and not reached:
            reached.update(epoch=epoch, seconds=wall)
            job.stop()
        if wall > a.max_seconds:
            job.stop()
        return out

    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, on_epoch=on_epoch)
    job.start()
    snap = job.wait()
    result = {
        "config": spec.to_dict(),
        "params": int(model.count_params()),
        "goal": a.goal,
        "reached": bool(reached),
        "epochs": reached.get("epoch", snap.epoch),
        "seconds_to_goal": reached.get("seconds"),
        "train_seconds": round(snap.train_seconds, 1),
        "test": task.evaluate(model, data),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
