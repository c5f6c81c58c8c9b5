"""Each seed preset, trained as the app trains it, beside the figure its source reports. Long.

The IMDB and MNIST presets read the real data (--data-dir, default ../shared/data). Seeds 001
and 002 report the peak validation accuracy, the others test accuracy (addition: per character
on held-out questions), so both are printed.
Usage: python benchmarks/bench_presets.py [--only seed004-mnist-simplernn ...] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core.config import update  # noqa: E402
from rnn_core.engine.job import TrainingJob  # noqa: E402
from rnn_core.presets import PRESETS  # noqa: E402
from rnn_core.tasks import get_task  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# preset -> (the metric the source quotes, its value); None where the source gives no figure
SOURCE = {
    "seed000-imdb-dense": ("test_accuracy", 0.77),
    "seed000-imdb-simplernn": ("test_accuracy", 0.68),
    "seed001-imdb-simplernn": ("val_accuracy_peak", 0.85),
    "seed002-imdb-lstm": ("val_accuracy_peak", 0.89),
    "seed004-mnist-simplernn": ("test_accuracy", 0.975),
    "seed003-addition-128": ("test_accuracy", 0.99),
    "seed003-addition-300": ("test_accuracy", None),
    "seed003-addition-5digits-2layers": ("test_accuracy", 0.99),
}


def run_preset(name: str, data_dir: str, epochs: int | None) -> dict:
    """Train one preset to its epoch count (or ``epochs``) and measure what its source quotes."""
    spec = PRESETS[name].spec
    spec = replace(spec, data=update(spec.data, data_dir=data_dir))
    if epochs:
        spec = replace(spec, train=replace(spec.train, epochs=epochs))
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train)
    load0 = os.getloadavg()[0]
    job.start()
    snap = job.wait()
    if snap.state == "failed":
        raise SystemExit(f"{name}: training failed: {snap.error}")
    val_acc = job.history().get("val_accuracy", [])
    return {
        "preset": name,
        "epochs": snap.epoch,
        "train_seconds": round(snap.train_seconds, 1),
        "test_accuracy": round(task.evaluate(model, data)["accuracy"], 4),
        "val_accuracy_peak": round(max(val_acc), 4) if val_acc else None,
        "val_accuracy_final": round(val_acc[-1], 4) if val_acc else None,
        "load": f"{load0:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
    }


def main() -> None:
    """Run the chosen seed presets one after another and print measured vs source."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", action="append", choices=sorted(SOURCE), help="repeatable")
    p.add_argument("--skip-addition", action="store_true", help="only IMDB and MNIST")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--epochs", type=int, help="override every preset's epochs (quick check)")
    a = p.parse_args()
    names = a.only or [n for n in SOURCE if not (a.skip_addition and "addition" in n)]
    rows = []
    for name in names:
        t = time.perf_counter()
        row = run_preset(name, a.data_dir, a.epochs)
        metric, figure = SOURCE[name]
        row.update(source_metric=metric, source_figure=figure, source=PRESETS[name].source_result)
        row["wall_seconds"] = round(time.perf_counter() - t, 1)
        print(json.dumps(row), flush=True)
        shown = "n/a" if figure is None else f"{figure:.3f}"
        print(
            f"{name:34s} {metric} measured {row[metric]:.4f}  source {shown}  "
            f"({row['epochs']} epochs, train {row['train_seconds']}s, load {row['load']})",
            flush=True,
        )
        rows.append(row)
    print("SUMMARY")
    for r in rows:
        shown = "n/a" if r["source_figure"] is None else f"{r['source_figure']:.3f}"
        print(f"  {r['preset']:34s} measured {r[r['source_metric']]:.4f}  source {shown}")


if __name__ == "__main__":
    main()
