"""MNIST rows on the real data: time for the mnist-fast preset to reach 0.98 test accuracy.

Goal from the issue: test accuracy >= 0.98 with a training wall <= 60 s on a 2-core CPU.
Trains past the preset's epochs until the goal or --max-seconds (--epochs 0: the preset's).
Usage: python benchmarks/bench_mnist.py [--data-dir ../shared/data] [--max-seconds 90]
       [--cell GRU --units 96 --batch-size 128 --lr 0.004 --epochs 0 ...] (override the preset)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.classify_bench import parser, run  # noqa: E402

if __name__ == "__main__":
    run(parser(__doc__, preset="mnist-fast", goal=0.98, budget=60).parse_args())
