"""Memory of one training child: peak private (anonymous) and total RSS while a preset trains.

The serving process is sampled too, before and after, to show it does not grow. RSS counts
TensorFlow's shared libraries (about 400 MB of file pages) in every process that maps them;
the private figure is what each extra training slot really costs.

The estimate the server admits the run by (``rnn_core.engine.memory.estimate``) is printed
beside the measured peak. ``--set section.field=value`` changes the preset's spec (e.g.
``--set data.train_size=4000 --set model.units=64``).

Usage: python benchmarks/child_memory.py [--preset addition-tiny --epochs 1
       --data-dir ../shared/data --set data.train_size=4000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS, VmHWM and RssAnon of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            fields[key] = int(rest.split()[0]) / 1024
    return fields


def main() -> int:
    """Train a preset in a child process and print its memory."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="addition-tiny")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--set", action="append", default=[], help="section.field=value")
    p.add_argument(
        "--max-seconds", type=float, default=0, help="stop the training after this long (0: no)"
    )
    a = p.parse_args()
    from rnn_core.engine.job import TrainingJob
    from rnn_core.engine.memory import data_bytes, estimate
    from rnn_core.engine.process import ProcessRunner
    from rnn_core.engine.slots import SlotPool
    from rnn_core.presets import PRESETS
    from rnn_core.tasks import get_task

    spec = PRESETS[a.preset].spec
    if hasattr(spec.data, "data_dir"):
        spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, data_dir=a.data_dir))
    spec = dataclasses.replace(spec, train=dataclasses.replace(spec.train, epochs=a.epochs))
    for item in a.set:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        part = getattr(spec, section)
        kind = type(getattr(part, name))
        if kind is bool:
            value = raw.lower() in ("1", "true", "yes")
        else:
            value = raw if kind is str else (None if raw == "None" else int(raw))
        spec = dataclasses.replace(spec, **{section: dataclasses.replace(part, **{name: value})})
    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    need = estimate(spec.task, data, spec.model, spec.train, int(model.count_params()))
    server_before = memory_mb()
    train, val = task.splits(data)
    runner = ProcessRunner(spec.task, data)
    job = TrainingJob(model, train, val, spec.train, pool=SlotPool(1), runner=runner)
    peak = {"RssAnon": 0.0, "VmRSS": 0.0}

    def sample() -> None:
        while job.snapshot().active:
            proc = runner.process
            if proc is not None:
                try:
                    now = memory_mb(proc.pid)
                except (FileNotFoundError, ProcessLookupError):
                    now = {}
                for k in peak:
                    peak[k] = max(peak[k], now.get(k, 0.0))
            time.sleep(0.1)

    t0 = time.perf_counter()
    job.start()
    sampler = threading.Thread(target=sample)
    sampler.start()
    snap = job.wait(a.max_seconds or None)
    if snap.active:  # the peak comes with the data and the first batches: enough seen
        job.stop()
        snap = job.wait()
    sampler.join()
    server_after = memory_mb()
    print(
        f"{a.preset}, {a.epochs} epoch(s): {snap.state} in {time.perf_counter() - t0:.1f} s"
        + (f", stopped at epoch {snap.epoch} batch {snap.batch}" if snap.stopped_early else "")
    )
    print(f"training child: peak private {peak['RssAnon']:.0f} MB, peak RSS {peak['VmRSS']:.0f} MB")
    print(
        f"estimate: {need / 2**20:.0f} MB (data arrays {data_bytes(data) / 2**20:.0f} MB, "
        f"{model.count_params():,} parameters, spec {a.set or 'as the preset'})"
    )
    print(
        f"this process: RSS {server_before['VmRSS']:.0f} -> {server_after['VmRSS']:.0f} MB, "
        f"private {server_before['RssAnon']:.0f} -> {server_after['RssAnon']:.0f} MB"
    )
    return 0 if snap.state == "done" else 1


if __name__ == "__main__":
    raise SystemExit(main())
