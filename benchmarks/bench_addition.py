"""Time for an addition model to reach an exact-match goal on VALIDATION questions on this CPU.

Training stops after the first epoch whose exact match on the validation questions reaches
``--goal`` (the engine's stop condition ``val_exact_match>=GOAL``); the 1,000 test questions
are scored once, afterwards. For the median of 3 seeds use ``bench_presets.py``.
Usage: python benchmarks/bench_addition.py [--cell LSTM --units 128 --digits 3 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_presets import load, measure  # noqa: E402
from rnn_core.config import AdditionConfig, ModelConfig, RunSpec, TrainConfig  # noqa: E402


def main() -> None:
    """Train until validation exact match reaches the goal (or time runs out), test once."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cell", default="LSTM")
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--digits", type=int, default=3)
    p.add_argument("--train-size", type=int, default=50_000)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--goal", type=float, default=0.99, help="validation exact match to reach")
    p.add_argument("--patience", type=int, default=0)
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
            until=f"val_exact_match>={a.goal}",
            patience=a.patience,
        ),
    )
    print(f"# start: {load()}", flush=True)
    row = measure(spec, a.max_seconds)
    print(json.dumps({"config": spec.to_dict(), "goal": a.goal, **row, "load": load()}))


if __name__ == "__main__":
    main()
