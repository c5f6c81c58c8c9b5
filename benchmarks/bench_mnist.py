"""MNIST rows on the real data: time for the mnist-fast preset to reach a validation goal.

Training stops once validation accuracy reaches --goal (the engine's stop condition, never the
test set), or at --max-seconds; the 10,000 test images are scored once, afterwards.
Trains past the preset's epochs until then (--epochs 0: the preset's).
Usage: python benchmarks/bench_mnist.py [--data-dir ../shared/data] [--max-seconds 90]
       [--cell GRU --units 96 --batch-size 128 --lr 0.004 --epochs 0 ...] (override the preset)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.classify_bench import parser, run  # noqa: E402

if __name__ == "__main__":
    run(parser(__doc__, preset="mnist-fast", goal=0.985, budget=30).parse_args())
