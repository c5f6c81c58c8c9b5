"""Try a preset with changed settings on the VALIDATION split only: one line per epoch.

For choosing settings: prints each epoch's seconds and validation metrics, never a test
figure (score the chosen settings once with ``bench_presets.py``).

Usage: python benchmarks/explore_preset.py mnist-fast --model '{"units": 64}' \
           --train '{"epochs": 2, "learning_rate": 0.012, "schedule": "cosine"}' [--seed 1]
       python benchmarks/explore_preset.py imdb-fast --other-movies [--seed 1]
       (IMDB: validation reviews of other movies than training's, chunk ``seed % 5`` of
       ``benchmarks/imdb_other_movies.py``; fewer training reviews than the preset's)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_presets import DEFAULT_DATA, seeded  # noqa: E402
from rnn_core.config import update  # noqa: E402
from rnn_core.presets import get_preset  # noqa: E402


def main() -> None:
    """Train the changed preset in this process and print its validation metrics per epoch."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("preset")
    for part in ("data", "model", "train"):
        p.add_argument(f"--{part}", default="{}", help=f"JSON of {part} config fields to change")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--other-movies", action="store_true", help="IMDB: validate on other movies")
    a = p.parse_args()
    spec = seeded(get_preset(a.preset).spec, a.seed, a.data_dir)
    spec = replace(
        spec,
        data=update(spec.data, **json.loads(a.data)),
        model=update(spec.model, **json.loads(a.model)),
        train=update(spec.train, **json.loads(a.train)),
    )
    print(f"# {a.preset} {spec.to_dict()} load {os.getloadavg()[0]:.2f}", flush=True)
    from rnn_core.run import start_run

    load_data = None
    if a.other_movies:
        from benchmarks.imdb_other_movies import loader

        load_data = loader(a.seed, a.data_dir)
    run = start_run(spec, None, load_data, in_process=True)
    print(f"# {run.note}", flush=True)
    job = run.job
    job.start()
    seen = 0
    while True:
        snap = job.wait(2.0)
        for logs in snap.epoch_logs[seen:]:
            shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k.startswith("val_"))
            print(f"  epoch {int(logs['epoch']):3d}  {logs.get('seconds', 0):7.1f}s  {shown}")
        seen = len(snap.epoch_logs)
        if not snap.active:
            break
    print(f"# end {snap.state} {snap.stop_reason} load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
