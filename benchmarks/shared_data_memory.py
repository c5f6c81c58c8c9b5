"""Server memory of identical Starts: N runs of mnist-fast through the run flow, with or without
the share registry (``share`` / ``none``); prints the process's RSS after each Start. The
source is loaded once and kept, as the pages' source cache does; each run's data is its subset.

Usage: python benchmarks/shared_data_memory.py share|none [N]
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_presets import DEFAULT_DATA, seeded  # noqa: E402

from rnn_core.engine.sharing import ShareRegistry  # noqa: E402
from rnn_core.presets import get_preset  # noqa: E402
from rnn_core.run import start_run  # noqa: E402


def rss() -> float:
    """This process's resident memory in MB."""
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


spec = seeded(get_preset("mnist-fast").spec, 0, str(DEFAULT_DATA))
reg = ShareRegistry(max_bytes=50 << 20, book=None)
share = reg if sys.argv[1] == "share" else None
_sources: dict = {}


def load(task, cfg):  # noqa: ANN001, ANN201
    """The pages' loader: the source once for all runs, the run's subset of it each time."""
    if "mnist" not in _sources:
        _sources["mnist"] = task.load_source(cfg)
    return task.make_data(cfg, _sources["mnist"])


runs = []
base = rss()
print(f"before: {base:.0f} MB")
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 4):
    runs.append(start_run(spec, None, load, in_process=True, share=share, owner=f"s{i}"))
    print(f"after start {i + 1}: {rss():.0f} MB (+{rss() - base:.0f})", flush=True)
