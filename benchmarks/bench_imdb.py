"""IMDB on the real data: time for the imdb-fast preset (a GRU each way) to reach a validation goal.

Training stops once validation accuracy reaches --goal (the engine's stop condition, never the
test set), or at --max-seconds; the 25,000 test reviews are scored once, afterwards.
Trains past the preset's epochs until then (--epochs 0: the preset's).
Usage: python benchmarks/bench_imdb.py [--data-dir ../shared/data] [--max-seconds 135]
       [--maxlen 200 --units 32 --batch-size 64 --lr 0.001 --epochs 0 ...] (override the preset)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.classify_bench import parser, run  # noqa: E402

if __name__ == "__main__":
    run(parser(__doc__, preset="imdb-fast", goal=0.89, budget=45).parse_args())
