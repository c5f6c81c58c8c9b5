"""What loading a task's shared data source costs the server: peak and kept memory, seconds.

Each run is a fresh Python process that imports the task, loads the source the Train page
caches for all sessions (``load_source``), and reports the process's resident memory before,
its peak during the load (``ru_maxrss``), what it keeps after, the bytes of NumPy arrays the
source holds and the load's wall time. Real data from ``../shared/data`` (or ``--data-dir``).

Usage: python benchmarks/source_memory.py --task imdb --maxlen 120 --runs 3
       python benchmarks/source_memory.py --task mnist
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from rnn_core.config import ImdbConfig, MnistConfig
from rnn_core.engine.memory import data_bytes
from rnn_core.tasks import get_task

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

task = get_task({task!r})
cfg = (ImdbConfig(maxlen={maxlen}, data_dir={data!r}) if {task!r} == "imdb"
       else MnistConfig(data_dir={data!r}))
before = rss_mb()
t = time.perf_counter()
source = task.load_source(cfg)
seconds = time.perf_counter() - t
print(json.dumps(dict(before=before, peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      after=rss_mb(), arrays=data_bytes(source) / 2**20, seconds=seconds)))
"""


def one(task: str, maxlen: int, data: str) -> dict[str, float]:
    """One fresh process's figures (MB and seconds)."""
    code = CHILD.format(root=str(ROOT), task=task, maxlen=maxlen, data=data)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run ``--runs`` fresh processes and print each one's figures and the median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["imdb", "mnist"], default="imdb")
    parser.add_argument("--maxlen", type=int, default=120, help="IMDB: tokens per review")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", default=str(DATA))
    args = parser.parse_args()
    if not Path(args.data_dir).is_dir():
        print(f"no data folder at {args.data_dir}: nothing measured")
        return
    rows = [one(args.task, args.maxlen, args.data_dir) for _ in range(args.runs)]
    for r in rows:
        print(
            f"{args.task}: before {r['before']:.0f} MB, peak {r['peak']:.0f} MB "
            f"(+{r['peak'] - r['before']:.0f}), after {r['after']:.0f} MB, source arrays "
            f"{r['arrays']:.0f} MB, load {r['seconds']:.2f} s"
        )
    med = {k: sorted(r[k] for r in rows)[len(rows) // 2] for k in rows[0]}
    print(
        f"median of {len(rows)}: peak +{med['peak'] - med['before']:.0f} MB, kept "
        f"+{med['after'] - med['before']:.0f} MB, arrays {med['arrays']:.0f} MB, "
        f"{med['seconds']:.2f} s; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
