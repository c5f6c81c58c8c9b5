"""A named preset trained with several seeds, stopped on validation, the test set scored once.

Each seed trains through the app's run flow (``rnn_core.run.start_run``, the engine's
in-thread runner) until the stop condition on the VALIDATION split is met (``--until``;
default: the task's goal below) or the preset's epochs run out, then scores the whole test set
once. Prints one line per seed, then the median, min and max of the test metric and of the
training seconds (fit's wall time, from the history's ``seconds``), the command and the load;
the last line is one JSON object. Nothing is chosen on the test set.

Usage: python benchmarks/bench_presets.py --preset addition-fast [--seeds 0 1 2]
       [--until val_exact_match>=0.99 | --until off] [--patience N] [--epochs N]
       [--max-seconds S] [--data-dir ../shared/data] [--train-size N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core.config import RunSpec, update  # noqa: E402
from rnn_core.presets import PRESETS, get_preset  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GOALS = {  # the class-speed goals of issue 15, as stop conditions on validation
    "addition": "val_exact_match>=0.99",
    "imdb": "val_accuracy>=0.89",
    "mnist": "val_accuracy>=0.985",
    "text": "val_bits_per_char<=2.14",  # the 5-gram: 2.1446 on the validation half, 2.0300 on test
}


def load() -> str:
    """The 1-minute load average and the CPU count, for the record."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def seeded(spec: RunSpec, seed: int, data_dir: str | None = None, **train: Any) -> RunSpec:
    """``spec`` with ``seed`` for its data, model and shuffle, and the given training fields."""
    data = update(spec.data, seed=seed, data_dir=data_dir)
    return replace(
        spec, data=data, model=update(spec.model, seed=seed),
        train=update(spec.train, seed=seed, **train),
    )  # fmt: skip


def measure(spec: RunSpec, max_seconds: float | None = None, log: Any = print) -> dict[str, Any]:
    """Train ``spec`` as the app does (stop rule included), then score the test set once.

    ``max_seconds`` of waiting at most, then Stop (the run is marked ``cut``). Per-epoch lines
    show validation metrics only.
    """
    from rnn_core.run import start_run

    run = start_run(spec, None, in_process=True)
    job = run.job
    job.start()
    snap = job.wait(max_seconds)
    cut = snap.active
    if cut:
        job.stop()
        snap = job.wait()
    if snap.state == "failed":
        raise SystemExit(f"training failed: {snap.error}")
    history = job.history()
    for log_ in snap.epoch_logs:
        shown = "  ".join(f"{k} {v:.4f}" for k, v in log_.items() if k.startswith("val_"))
        log(f"  epoch {int(log_['epoch']):3d}  {log_.get('seconds', 0):7.1f}s  {shown}")
    results = run.score()  # the test set, once, after training
    label, value = results.headline
    seconds = history.get("seconds", [])
    return {
        "seed": spec.train.seed,
        "epochs": snap.epoch,
        "stop_reason": snap.stop_reason or ("cut at --max-seconds" if cut else "all epochs"),
        "cut": cut,
        "train_seconds": round(seconds[-1], 1) if seconds else None,
        "test_metric": label,
        "test": round(float(value), 4),
        "test_scores": {k: v for k, v in results.scores().items() if isinstance(v, float)},
        "val": {k: round(v[-1], 4) for k, v in history.items() if k.startswith("val_")},
    }


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    """Run one preset with each seed and print the spread of its test metric and seconds."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--until", help="a stop condition on validation; 'off' = the preset's epochs")
    p.add_argument("--patience", type=int, help="early stopping on the until metric or val_loss")
    p.add_argument("--epochs", type=int, help="epochs at most (default: the preset's)")
    p.add_argument("--train-size", type=int, help="a smaller training set (quick checks)")
    p.add_argument("--max-seconds", type=float, help="per seed: Stop after this long")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    a = p.parse_args()
    base = get_preset(a.preset).spec
    until = a.until or base.train.until or GOALS.get(base.task, "")
    until = "" if until == "off" else until
    train = {"until": until, "patience": a.patience, "epochs": a.epochs}
    command = "python benchmarks/bench_presets.py " + shlex.join(sys.argv[1:])
    print(f"# {command}\n# start: {load()}", flush=True)
    rows = []
    for seed in a.seeds:
        spec = seeded(base, seed, a.data_dir, **train)
        if a.train_size:
            spec = replace(spec, data=update(spec.data, train_size=a.train_size))
        print(f"# seed {seed}: until {spec.train.until or 'off'}, {spec.train.epochs} epochs "
              f"at most", flush=True)  # fmt: skip
        t = time.perf_counter()
        row = measure(spec, a.max_seconds)
        row["wall_seconds"] = round(time.perf_counter() - t, 1)  # data, build, fit, test
        row["load"] = load()
        print(
            f"seed {seed}: {row['test_metric']} {row['test']:.4f}  train {row['train_seconds']}s"
            f"  {row['epochs']} epochs  ({row['stop_reason']}; {row['load']})",
            flush=True,
        )
        rows.append(row)
    tests = spread([r["test"] for r in rows])
    secs = spread([r["train_seconds"] or 0.0 for r in rows])
    metric = rows[0]["test_metric"]
    print(
        f"SUMMARY {a.preset} ({len(rows)} seeds, stop on validation: {until or 'off'}): "
        f"{metric} median {tests['median']:.4f} (min {tests['min']:.4f}, max {tests['max']:.4f});"
        f" training seconds median {secs['median']:.1f} (min {secs['min']:.1f}, "
        f"max {secs['max']:.1f}); {time.strftime('%Y-%m-%d')}; {load()}",
        flush=True,
    )
    summary = {
        "preset": a.preset,
        "command": command,
        "date": time.strftime("%Y-%m-%d"),
        "until": until,
        "test_metric": metric,
        "test": tests,
        "train_seconds": secs,
        "runs": rows,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
