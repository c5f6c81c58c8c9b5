"""Command line over the same core the app uses: ``python -m rnn_core train|presets|...``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from rnn_core.config import CELLS, OPTIMIZERS, RunSpec, update
from rnn_core.presets import PRESETS, get_preset


def _log(msg: str) -> None:
    """Progress goes to stderr so stdout's last line stays the JSON result."""
    print(msg, file=sys.stderr, flush=True)


def _train_parser(sub: Any) -> None:
    """Flags of ``train``; every one is optional and overrides the preset or default."""
    p = sub.add_parser("train", help="train a model headless and print its results")
    p.add_argument("--preset", help="start from a named preset (see `presets`)")
    p.add_argument("--task", help="addition (more tasks as they are added)")
    p.add_argument("--cell", choices=[*CELLS, "Dense"])
    p.add_argument("--units", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--digits", type=int, help="addition: operand digits (1-5)")
    p.add_argument("--reverse", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--train-size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--lr", type=float, dest="learning_rate")
    p.add_argument("--seed", type=int)
    p.add_argument("--save", help="write the trained model to this .keras path")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """Preset (or defaults for the task), then every flag the user gave on top."""
    from rnn_core.tasks import get_task

    if args.preset:
        spec = get_preset(args.preset).spec
        if args.task and args.task != spec.task:
            raise ValueError(f"preset {args.preset!r} is for task {spec.task!r}, not {args.task!r}")
    else:
        task = get_task(args.task or "addition")
        spec = RunSpec(task=task.info.name, data=task.data_config())
    values = vars(args)
    data = update(spec.data, **values)
    return RunSpec(
        task=spec.task,
        data=data,
        model=update(spec.model, **values),
        train=update(spec.train, **values),
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Train, evaluate on the held-out set, optionally save, and report."""
    from rnn_core.tasks import get_task, run_name
    from rnn_core.training import TrainingJob

    spec = spec_from_args(args)
    task = get_task(spec.task)
    _log(f"preparing {spec.task} data …")
    data = task.make_data(spec.data)
    if getattr(data, "note", ""):
        _log(data.note)
    model = task.build(spec, data)
    train, val = task.splits(data)
    _log(f"{run_name(spec)}: {model.count_params():,} parameters")

    job = TrainingJob(model, train, val, spec.train, on_epoch=task.epoch_report(data))
    job.start()
    shown = 0
    try:
        while job.snapshot().active:
            time.sleep(0.2)
            snap = job.snapshot()
            if snap.state == "queued":
                _log(f"waiting for a training slot (position {snap.queue_position})")
            for log, extra in zip(snap.epoch_logs[shown:], snap.epoch_extras[shown:], strict=True):
                metrics = "  ".join(f"{k} {v:.4f}" for k, v in log.items() if k != "epoch")
                more = f"  exact_match {extra['exact_match']:.3f}" if extra else ""
                _log(f"epoch {int(log['epoch'])}/{snap.epochs_target}  {metrics}{more}")
            shown = len(snap.epoch_logs)
    except KeyboardInterrupt:
        _log("stopping after the current batch …")
        job.stop()
    snap = job.wait()
    if snap.state == "failed":
        _log(f"training failed: {snap.error}")
        return 1
    test = task.evaluate(model, data)
    _log("test: " + "  ".join(f"{k} {v}" for k, v in test.items()))
    if args.save:
        model.save(args.save)
        _log(f"saved to {args.save}")
    result = {
        "task": spec.task,
        "config": spec.to_dict(),
        "params": int(model.count_params()),
        "epochs_run": snap.epoch,
        "stopped_early": snap.stopped_early,
        "train_seconds": round(snap.train_seconds, 2),
        "history": job.history(),
        "test": test,
    }
    if args.json:
        print(json.dumps(result))
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    """List presets, one per line (or as JSON)."""
    if args.json:
        print(json.dumps([{**asdict(p), "spec": p.spec.to_dict()} for p in PRESETS.values()]))
        return 0
    width = max(len(n) for n in PRESETS)
    for p in PRESETS.values():
        print(f"{p.name:<{width}}  {p.title}\n{'':<{width}}  source: {p.source_result}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with its subcommands."""
    parser = argparse.ArgumentParser(prog="python -m rnn_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    p = sub.add_parser("presets", help="list named presets")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors in the user's input print one line and exit 2."""
    args = build_parser().parse_args(argv)
    commands = {"train": cmd_train, "presets": cmd_presets}
    try:
        return commands[args.command](args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
