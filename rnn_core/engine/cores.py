"""Cores for the trainings running now: each training child pinned to its share of the CPUs.

A training child sets its TensorFlow thread pools once, when it starts, and a warm worker
serves many runs, so its thread count cannot follow how many trainings run at once. A worker
gets threads for its share of the server's cores as they are when it starts (every core when
nothing trains; :func:`rnn_core.engine.memory.child_threads`), the pool replaces workers
started with a share once nothing trains, and the server pins each running training's process
to its share of the cores whenever a training starts or ends: one training alone uses every
core; two on two cores get one core each (benchmarks/RESULTS.md, "Training children: their
memory bound and their cores").
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from pathlib import Path

from rnn_core.engine.notices import warn_once


def plan(count: int, cpus: Sequence[int], quota: float) -> list[frozenset[int]]:
    """CPU sets for ``count`` trainings running at once, in their order of start.

    ``cpus`` are the CPUs the server may run on and ``quota`` the cores it may use (its cgroup
    quota, else the CPU count): only the first ``floor(quota)`` CPUs are handed out. One
    training gets all of them; several get equal disjoint shares (the first ones the larger
    share when they do not divide evenly); more trainings than CPUs take the CPUs in turn.
    """
    usable = sorted(cpus)[: max(1, math.floor(quota))]
    if count <= 0 or not usable:
        return []
    if count >= len(usable):
        return [frozenset({usable[i % len(usable)]}) for i in range(count)]
    per, extra = divmod(len(usable), count)
    shares, start = [], 0
    for i in range(count):
        size = per + (1 if i < extra else 0)
        shares.append(frozenset(usable[start : start + size]))
        start += size
    return shares


def pin(pid: int, cpus: frozenset[int], proc: Path = Path("/proc")) -> bool:
    """Pin every thread of the process ``pid`` to ``cpus`` (threads it starts later inherit
    it). False, logged once, where the system refuses; False for a process that is gone."""
    try:
        tids = [int(t.name) for t in (proc / str(pid) / "task").iterdir() if t.name.isdigit()]
    except OSError:
        return False
    done = False
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cpus)
            done = True
        except ProcessLookupError:  # that thread just ended
            continue
        except OSError as exc:
            warn_once("pin", f"RNN Lab: could not pin training {pid} to CPUs {sorted(cpus)}: {exc}")
            return False
    return done


def server_cpus() -> list[int]:
    """The CPUs this process may run on."""
    with contextlib.suppress(AttributeError, OSError):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def share(pids: Sequence[int], quota: float | None = None) -> list[frozenset[int]]:
    """Pin the processes ``pids`` (running trainings, oldest first) to their shares of this
    server's CPUs (:func:`plan`; ``quota`` defaults to the server's CPU quota); the shares."""
    if quota is None:
        from rnn_core.engine.memory import MEMORY

        quota = MEMORY.limits().cpus
    shares = plan(len(pids), server_cpus(), quota)
    for pid, cpus in zip(pids, shares, strict=True):
        pin(pid, cpus)
    return shares
