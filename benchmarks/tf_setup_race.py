"""Try to reproduce the load-test server crash: 8 threads of a fresh process use TensorFlow at once.

Each run starts a new Python process in which 8 threads wait at a barrier, then all import
the engine, build the tiny addition model and save it to bytes, as 8 sessions pressing Start
on a fresh server do (without the lock ``pages.common.load_training`` now takes). Prints how
many processes ended with a signal (a segfault is -11).

Usage: python benchmarks/tf_setup_race.py [--runs 20 --busy 0]
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, threading
sys.path.insert(0, {root!r})
barrier = threading.Barrier(8)

def work():
    barrier.wait()
    import rnn_core.engine.job  # noqa: F401
    from rnn_core.export import model_bytes
    from rnn_core.presets import PRESETS
    from rnn_core.tasks import get_task

    spec = PRESETS["addition-tiny"].spec
    task = get_task("addition")
    model_bytes(task.build(spec, task.make_data(spec.data)))

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def busy() -> None:
    """Spin, to crowd the cores as 8 browsers and two trainings did."""
    while True:
        pass


def main() -> int:
    """Run the fresh processes and count the ones that died of a signal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--busy", type=int, default=0, help="busy-loop processes alongside")
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.busy)]
    for s in spinners:
        s.start()
    codes = []
    try:
        for _ in range(args.runs):
            proc = subprocess.run(
                [sys.executable, "-c", CHILD.format(root=str(ROOT))],
                capture_output=True,
            )
            codes.append(proc.returncode)
    finally:
        for s in spinners:
            s.terminate()
    crashed = [c for c in codes if c < 0]
    print(f"{args.runs} fresh processes, {args.busy} busy loops: {len(crashed)} ended by a signal")
    print(f"exit codes: {sorted(set(codes))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
