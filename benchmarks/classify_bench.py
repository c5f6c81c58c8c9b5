"""Shared loop of bench_imdb.py and bench_mnist.py: train a preset on the real data until the
whole test set reaches the goal or time runs out, printing per-epoch wall and accuracy.

The training wall counts what the app's engine spends in ``fit`` (training, validation, the
task's own per-epoch hook) and excludes this script's scoring of the whole test set after each
epoch. CPU seconds of the process are printed too: with other jobs on the machine, wall time
grows but CPU time hardly does.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from rnn_core.config import POOLINGS, update
from rnn_core.engine.job import TrainingJob
from rnn_core.presets import get_preset
from rnn_core.tasks import get_task

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
    p.add_argument("--goal", type=float, default=goal, help="test accuracy to reach")
    p.add_argument("--budget", type=float, default=budget, help="training wall allowed (s)")
    p.add_argument("--max-seconds", type=float, default=1.5 * budget, help="stop after this")
    p.add_argument("--keep-going", action="store_true", help="run all epochs past the goal")
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
    """Train the chosen spec epoch by epoch, print one line per epoch and a summary."""
    spec = get_preset(args.preset).spec
    values = {k: v for k, v in vars(args).items() if v is not None}
    if args.epochs == 0:  # 0: the preset's own epoch count
        del values["epochs"]
    spec = replace(
        spec,
        data=update(spec.data, **values),
        model=update(spec.model, **values),
        train=update(spec.train, **values),
    )
    task = get_task(spec.task)
    print(f"# {args.preset}: {json.dumps(spec.to_dict())}", flush=True)
    print(f"# start: {_load()}", flush=True)
    t = time.perf_counter()
    data = task.make_data(spec.data)
    load_s = time.perf_counter() - t
    print(f"# data loaded in {load_s:.1f}s: {data.note}", flush=True)
    model = task.build(spec, data)
    own_hook = task.epoch_report(data)
    scored: list[dict] = []
    clock = {"eval": 0.0, "eval_cpu": 0.0, "last": 0.0}

    def on_epoch(m, epoch: int) -> dict:
        out = own_hook(m, epoch)  # what the app computes after every epoch: part of the wall
        e0, ec0 = time.perf_counter(), time.process_time()
        wall, cpu = e0 - t0 - clock["eval"], ec0 - c0 - clock["eval_cpu"]
        acc = task.evaluate(m, data)["accuracy"]  # the whole test set: not part of the wall
        clock["eval"] += time.perf_counter() - e0
        clock["eval_cpu"] += time.process_time() - ec0
        scored.append({"epoch": epoch, "wall": wall, "test_accuracy": acc})
        print(
            f"epoch {epoch:2d}  epoch wall {wall - clock['last']:5.1f}s  train wall {wall:6.1f}s"
            f"  cpu {cpu:6.1f}s  test_accuracy {acc:.4f}  ({_load()})",
            flush=True,
        )
        clock["last"] = wall
        if (acc >= args.goal and not args.keep_going) or wall > args.max_seconds:
            job.stop()
        return out

    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, on_epoch=on_epoch)
    t0, c0 = time.perf_counter(), time.process_time()
    job.start()
    snap = job.wait()
    if snap.state == "failed":
        raise SystemExit(f"training failed: {snap.error}")
    hit = next((s for s in scored if s["test_accuracy"] >= args.goal), None)
    final = scored[-1] if scored else {"epoch": 0, "wall": 0.0, "test_accuracy": 0.0}
    history = job.history()
    ok = hit is not None and hit["wall"] <= args.budget
    summary = {
        "preset": args.preset,
        "params": int(model.count_params()),
        "goal": args.goal,
        "budget_seconds": args.budget,
        "reached": hit is not None,
        "epoch_at_goal": hit["epoch"] if hit else None,
        "train_wall_at_goal": round(hit["wall"], 1) if hit else None,
        "final_epoch": final["epoch"],
        "final_test_accuracy": round(final["test_accuracy"], 4),
        "final_train_wall": round(final["wall"], 1),
        "train_cpu_seconds": round(time.process_time() - c0 - clock["eval_cpu"], 1),
        "load_seconds": round(load_s, 1),
        "val_accuracy": [round(v, 4) for v in history.get("val_accuracy", [])],
        "load_at_end": _load(),
        "pass": ok,
    }
    print(json.dumps(summary), flush=True)
    at = f"epoch {hit['epoch']}, train wall {hit['wall']:.1f}s" if hit else "not reached"
    print(
        f"SUMMARY {spec.task} {args.preset}: goal test accuracy {args.goal} -> {at} "
        f"(budget {args.budget:.0f}s) final {final['test_accuracy']:.4f}; "
        f"{'PASS' if ok else 'FAIL'}; {_load()}",
        flush=True,
    )
    return summary
