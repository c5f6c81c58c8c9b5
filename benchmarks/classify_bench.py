"""Shared loop of bench_imdb.py and bench_mnist.py: train a preset on the real data until the
VALIDATION accuracy reaches the goal (the engine's stop condition) or time runs out, then score
the whole test set once.

The training wall is the history's ``seconds``: what the engine spends in ``fit`` (training,
validation, the task's own per-epoch hook). The test set is never scored during training.
For the median of 3 seeds use ``bench_presets.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from rnn_core.config import POOLINGS, update
from rnn_core.presets import get_preset

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def _load() -> str:
    """The 1-minute load average and the CPU count, for the record."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def parser(doc: str, preset: str, goal: float, budget: float) -> argparse.ArgumentParser:
    """Flags shared by both benchmarks; model/data flags override the preset."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--preset", default=preset)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--goal", type=float, default=goal, help="validation accuracy to reach")
    p.add_argument("--budget", type=float, default=budget, help="training wall allowed (s)")
    p.add_argument("--max-seconds", type=float, default=1.5 * budget, help="stop after this")
    p.add_argument("--keep-going", action="store_true", help="no stop condition: all epochs")
    p.add_argument("--epochs", type=int, default=50, help="epochs at most (the preset's: 0)")
    for flag in ("--units", "--layers", "--batch-size", "--train-size", "--seed"):
        p.add_argument(flag, type=int)
    p.add_argument("--maxlen", type=int)
    p.add_argument("--num-words", type=int)
    p.add_argument("--embedding-dim", type=int)
    p.add_argument("--cell")
    p.add_argument("--pooling", choices=POOLINGS)
    p.add_argument("--optimizer")
    p.add_argument("--lr", type=float, dest="learning_rate")
    p.add_argument("--dropout", type=float)
    p.add_argument("--val-fraction", type=float)
    p.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None)
    return p


def run(args: argparse.Namespace) -> dict:
    """Train the chosen spec until validation accuracy reaches the goal, then test once."""
    from benchmarks.bench_presets import measure

    spec = get_preset(args.preset).spec
    values = {k: v for k, v in vars(args).items() if v is not None}
    if args.epochs == 0:  # 0: the preset's own epoch count
        del values["epochs"]
    values["until"] = "" if args.keep_going else f"val_accuracy>={args.goal}"
    spec = replace(
        spec,
        data=update(spec.data, **values),
        model=update(spec.model, **values),
        train=update(spec.train, **values),
    )
    print(f"# {args.preset}: {json.dumps(spec.to_dict())}", flush=True)
    print(f"# start: {_load()}", flush=True)
    t = time.perf_counter()
    row = measure(spec, args.max_seconds)
    ok = (
        row["val"].get("val_accuracy", 0.0) >= args.goal
        and (row["train_seconds"] or 0.0) <= args.budget
    )
    summary = {"preset": args.preset, "goal": args.goal, "budget_seconds": args.budget, **row,
               "wall_seconds": round(time.perf_counter() - t, 1), "load_at_end": _load(),
               "pass": ok}  # fmt: skip
    print(json.dumps(summary), flush=True)
    print(
        f"SUMMARY {spec.task} {args.preset}: stop on val_accuracy >= {args.goal} -> "
        f"{row['stop_reason']} after {row['train_seconds']}s of training (budget "
        f"{args.budget:.0f}s); test accuracy, scored once: {row['test']:.4f}; "
        f"{'PASS' if ok else 'FAIL'} (validation goal within budget); {_load()}",
        flush=True,
    )
    return summary
