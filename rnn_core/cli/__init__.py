"""Command line over the same core the app uses: ``python -m rnn_core train|presets|...``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from rnn_core.cli.text import add_generate_parser, cmd_generate
from rnn_core.cli.text import add_train_flags as add_text_train_flags
from rnn_core.config import CELLS, OPTIMIZERS, POOLINGS, SCHEDULES, RunSpec, update
from rnn_core.data.files import ENV_VAR, DataMissingError
from rnn_core.presets import PRESETS, get_preset


def _log(msg: str) -> None:
    """Progress goes to stderr so stdout's last line stays the JSON result."""
    print(msg, file=sys.stderr, flush=True)


def _train_parser(sub: Any) -> None:
    """Flags of ``train``; every one is optional and overrides the preset or default."""
    p = sub.add_parser("train", help="train a model headless and print its results")
    p.add_argument("--preset", help="start from a named preset (see `presets`)")
    p.add_argument("--task", help="addition, imdb, mnist, ... (an unknown name lists them)")
    p.add_argument("--cell", choices=[*CELLS, "Dense"])
    p.add_argument("--units", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument(
        "--unroll", action=argparse.BooleanOptionalAction, default=None,
        help="write the RNN loop out step by step (faster on short fixed-length sequences)",
    )  # fmt: skip
    p.add_argument("--pooling", choices=POOLINGS, help="imdb/mnist: last state, max or mean")
    p.add_argument("--digits", type=int, help="addition: operand digits (1-5)")
    p.add_argument("--reverse", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--maxlen", type=int, help="imdb: pad/cut reviews to N tokens; text: window")
    p.add_argument("--num-words", type=int, help="imdb: vocabulary (rarer words read as <OOV>)")
    p.add_argument("--embedding-dim", type=int, help="imdb: word vectors; text: 0 = one-hot")
    p.add_argument("--padding", choices=["pre", "post"], help="imdb: where short reviews get 0s")
    p.add_argument("--truncating", choices=["pre", "post"], help="imdb: which end is cut")
    p.add_argument("--data-dir", help=f"folder with the dataset files (default ${ENV_VAR})")
    p.add_argument("--train-size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--lr", type=float, dest="learning_rate")
    p.add_argument(
        "--schedule", choices=SCHEDULES,
        help="cosine: the rate falls from --lr to 0 over the epochs of each training call",
    )  # fmt: skip
    p.add_argument(
        "--batch-by-length", action=argparse.BooleanOptionalAction, default=None,
        help="imdb: batches of reviews of similar length, each cut to its longest (less padding)",
    )  # fmt: skip
    p.add_argument(
        "--steps-per-execution", type=int, metavar="N",
        help="batches TensorFlow runs per call from Python (faster for small models; progress "
        "and Stop then come every N batches)",
    )  # fmt: skip
    p.add_argument(
        "--xla", action=argparse.BooleanOptionalAction, default=None, dest="jit_compile",
        help="compile each training step with XLA (faster for fixed-length batches: MNIST, "
        "text; slower for long IMDB reviews)",
    )  # fmt: skip
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--until", metavar="EXPR",
        help="stop once a validation metric reaches a value, e.g. val_exact_match>=0.99, "
        "val_accuracy>=0.89, val_bits_per_char<=2.0 (checked after every epoch)",
    )  # fmt: skip
    p.add_argument(
        "--patience", type=int, metavar="N",
        help="stop after N epochs without a better validation score (the --until metric, "
        "else val_loss) and keep the best epoch's weights",
    )  # fmt: skip
    add_text_train_flags(p)
    _add_data_flags(p)
    p.add_argument(
        "--save", help="write the model to PATH.keras, or a snapshot to NAME.weights.h5 + NAME.json"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _add_data_flags(p: argparse.ArgumentParser) -> None:
    """A flag for each data-config field of a registered task that has none yet (``--window``)."""
    from dataclasses import MISSING, fields

    from rnn_core.tasks import TASKS

    owners: dict[str, list[str]] = {}
    kinds: dict[str, Any] = {}
    for task in TASKS.values():
        for f in fields(task.data_config):
            kind = next((k for k in (bool, int, float, str) if k.__name__ in str(f.type)), None)
            if f.default is MISSING or kind is None or "tuple" in str(f.type):
                continue
            owners.setdefault(f.name, []).append(task.info.name)
            kinds[f.name] = kind
    for name, tasks in owners.items():
        flag, help_ = "--" + name.replace("_", "-"), f"{', '.join(tasks)}: the {name} setting"
        try:
            if kinds[name] is bool:
                p.add_argument(
                    flag, action=argparse.BooleanOptionalAction, default=None, help=help_
                )
            else:
                p.add_argument(flag, type=kinds[name], help=help_)
        except argparse.ArgumentError:
            continue  # the flag is written out above, with its own help


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """Preset (or defaults for the task), then every flag the user gave on top."""
    from rnn_core.tasks import get_task

    if args.preset:
        spec = get_preset(args.preset).spec
        if args.task and args.task != spec.task:
            raise ValueError(f"preset {args.preset!r} is for task {spec.task!r}, not {args.task!r}")
    else:
        spec = get_task(args.task or "addition").default_spec()  # its fast preset, if any
    values = vars(args)
    data = update(spec.data, **values)
    return RunSpec(
        task=spec.task,
        data=data,
        model=update(spec.model, **values),
        train=update(spec.train, **values),
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Train (stopping on validation if asked), score the test set once, maybe save, report.

    The JSON's ``history`` has per epoch Keras's metrics, the task's validation scores
    (``val_exact_match``, ``val_bits_per_char``) and ``seconds`` (fit's wall time so far).
    """
    from rnn_core.engine.budgets import Budget
    from rnn_core.run import start_run

    def load(task: Any, cfg: Any) -> Any:
        """The task's own data, with progress on stderr."""
        _log(f"preparing {spec.task} data …")
        data = task.make_data(cfg)
        if data.note:
            _log(data.note)
        return data

    spec = spec_from_args(args)
    run = start_run(spec, Budget.from_sources(), load, in_process=True)  # trains in a thread
    task, data, job, model = run.task, run.data, run.job, run.job.model
    _log(f"{run.name}: {run.params:,} parameters")
    job.start()
    shown = 0
    try:
        while job.snapshot().active:
            time.sleep(0.2)
            snap = job.snapshot()
            if snap.state == "queued":
                why = snap.queue_reason or "waiting for a training slot"
                _log(f"{why} (position {snap.queue_position})")
            for log in snap.epoch_logs[shown:]:  # validation scores only: no test set here
                metrics = "  ".join(f"{k} {v:.4f}" for k, v in log.items() if k != "epoch")
                _log(f"epoch {int(log['epoch'])}/{snap.epochs_target}  {metrics}")
            shown = len(snap.epoch_logs)
    except KeyboardInterrupt:
        _log("stopping after the current batch …")
        job.stop()
    snap = job.wait()
    if snap.state == "failed":
        _log(f"training failed: {snap.error}")
        return 1
    if snap.stop_reason:
        _log(snap.stop_reason)
    test = task.evaluate(model, data)  # the test set, scored once, after training
    _log("test: " + "  ".join(f"{k} {v}" for k, v in test.scores().items()))
    if args.save:
        if args.save.endswith(".weights.h5"):  # a pretrained snapshot: weights + JSON sidecar
            _save_snapshot(args, model, spec, data, job.wait(), test)
        else:  # the model, and what the task keeps beside it (text: its alphabet)
            task.save(model, data, args.save)
        _log(f"saved to {args.save}")
    result = {
        "task": spec.task,
        "config": spec.to_dict(),
        "params": int(model.count_params()),
        "epochs_run": snap.epoch,
        "stopped_early": snap.stopped_early,
        "stop_reason": snap.stop_reason,
        "train_seconds": round(snap.train_seconds, 2),
        "history": job.history(),
        "test": test.scores(),
    }
    if args.json:
        print(json.dumps(result))
    return 0


def _save_snapshot(
    args: argparse.Namespace, model: Any, spec: RunSpec, data: Any, snap: Any, test: Any
) -> None:
    """Write the weights and the JSON (spec, scores, history, text alphabet) of a snapshot."""
    import shlex

    from rnn_core.pretrained import save_snapshot
    from rnn_core.tasks import get_task

    companion = get_task(spec.task).companion(data)  # text: its alphabet, stored as "vocab"
    vocab = None if companion is None else json.loads(companion[1])
    command = "python -m rnn_core " + shlex.join(getattr(args, "argv", None) or sys.argv[1:])
    meta = save_snapshot(args.save, model, spec, snap, test, vocab, command)
    _log(f"snapshot description: {meta}")


def cmd_presets(args: argparse.Namespace) -> int:
    """List presets, one per line (or as JSON)."""
    if args.json:
        print(json.dumps([{**asdict(p), "spec": p.spec.to_dict()} for p in PRESETS.values()]))
        return 0
    width = max(len(n) for n in PRESETS)
    for p in PRESETS.values():
        print(f"{p.name:<{width}}  {p.title}\n{'':<{width}}  {p.results_line()}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Download every dataset file into the data directory, so later runs work offline."""
    from rnn_core.data.files import fetch_all, keras_cache_dirs, resolve_data_dir, source_names

    target = resolve_data_dir(args.data_dir) or keras_cache_dirs()[0]
    _log(f"fetching {', '.join(source_names())} into {target}")
    try:
        fetch_all(target, progress=_log, overwrite=args.overwrite)
    except DataMissingError as exc:
        _log(
            f"error: could not download {exc.filename}. Connect to the internet and run "
            f"`python -m rnn_core fetch --data-dir {target}` again, or copy the files from a "
            f"machine that has them into {target}."
        )
        return 1
    _log(f"done: point --data-dir, ${ENV_VAR} or the app's data-directory setting at {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with its subcommands."""
    parser = argparse.ArgumentParser(prog="python -m rnn_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    p = sub.add_parser("presets", help="list named presets")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser(
        "fetch", help="download every task's dataset files (IMDB, MNIST, ...) for offline use"
    )
    p.add_argument("--data-dir", help=f"target folder (default ${ENV_VAR}, else Keras's cache)")
    p.add_argument("--overwrite", action="store_true", help="download files already present")
    add_generate_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors in the user's input print one line and exit 2."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in saved snapshots
    commands = {"train": cmd_train, "presets": cmd_presets, "fetch": cmd_fetch}
    commands["generate"] = cmd_generate
    try:
        return commands[args.command](args)
    except (ValueError, DataMissingError) as exc:  # bad input, or data not there (no traceback)
        print(f"error: {exc}", file=sys.stderr)
        return 2
