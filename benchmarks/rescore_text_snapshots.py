"""Re-score the shipped text snapshots' ``test`` figures with the task's ``evaluate`` today.

Run it when the way the test half is scored changes. It rebuilds each text snapshot of
``assets/``, scores it once on the test half (the corpus's last ``val_fraction / 2``, never
trained on nor validated on) and writes the new ``test`` scores, plus a ``test_note`` saying
how and when they were made, into its JSON. The weights, the history (per-epoch validation
figures as recorded when it was trained) and ``saved`` stay as they were.

    taskset -c 1 .venv/bin/python -m benchmarks.rescore_text_snapshots --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

from rnn_core import pretrained
from rnn_core.tasks import get_task
from rnn_core.tasks.base import plain
from rnn_core.tasks.text import held_out_reading


def note(snap: pretrained.Pretrained, today: str) -> str:
    """The ``test_note`` of a re-scored snapshot: which text, read how, when, by what."""
    share = snap.spec.data.val_fraction / 2
    return (
        f"test half: the corpus's last {share:.0%}, scored on "
        f"{held_out_reading(snap.spec.data)}; re-scored on {today} by "
        "benchmarks/rescore_text_snapshots.py"
    )


def main() -> None:
    """Re-score every text snapshot (or those named) and rewrite its JSON's ``test``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("names", nargs="*", help="snapshot names (default: every text snapshot)")
    p.add_argument("--data-dir", help="folder with nietzsche.txt (python-docs needs none)")
    p.add_argument("--dry-run", action="store_true", help="print, do not write the JSON")
    a = p.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    today = time.strftime("%Y-%m-%d")
    for snap in pretrained.list_snapshots(pretrained.ASSETS, "text"):
        if a.names and snap.name not in a.names:
            continue
        cfg = replace(snap.spec.data, data_dir=a.data_dir)
        data = get_task("text").make_data(cfg)
        if data.vocab.chars != snap.vocab["chars"]:
            raise SystemExit(f"{snap.name}: this machine's {cfg.corpus} has another alphabet")
        path = pretrained.ASSETS / f"{snap.name}.json"
        body = json.loads(path.read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        fresh = pretrained.rescore(snap, data)
        print(json.dumps({
            "name": snap.name, "test_characters": int(data.test_read[1].size),
            "before": body["test"], "after": plain(fresh.stored()),
            "seconds": round(time.perf_counter() - t0, 2),
        }), flush=True)  # fmt: skip
        if a.dry_run:
            continue
        body["test"] = plain(fresh.stored())
        body["test_note"] = note(snap, today)
        path.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
