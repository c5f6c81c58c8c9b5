"""Cores for running trainings: the shares planned, and every thread of a process pinned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_core.engine import cores
from tests.waiting import wait_until


def test_one_training_gets_every_core_of_the_quota() -> None:
    assert cores.plan(1, [0, 1], 2.0) == [{0, 1}]
    assert cores.plan(1, [3, 1, 2, 0], 4.0) == [{0, 1, 2, 3}]
    assert cores.plan(1, list(range(8)), 2.0) == [{0, 1}]  # 8 CPUs seen, a quota of 2
    assert cores.plan(1, [0, 1], 1.5) == [{0}]


def test_several_trainings_get_disjoint_shares_then_take_the_cores_in_turn() -> None:
    assert cores.plan(2, [0, 1], 2.0) == [{0}, {1}]
    assert cores.plan(2, [0, 1, 2, 3], 4.0) == [{0, 1}, {2, 3}]
    assert cores.plan(3, [0, 1, 2, 3], 4.0) == [{0, 1}, {2}, {3}]
    assert cores.plan(3, [0, 1], 2.0) == [{0}, {1}, {0}]
    assert cores.plan(0, [0, 1], 2.0) == []


def test_pinning_a_process_that_is_gone_says_so(tmp_path: Path) -> None:
    assert cores.pin(999_999_999, frozenset({0}), tmp_path) is False


@pytest.mark.process  # a child process with threads
def test_every_thread_of_a_process_is_pinned_and_unpinned() -> None:
    cpus = cores.server_cpus()
    if len(cpus) < 2:
        pytest.skip(f"needs 2 CPUs to tell a pin from none; this process may use {cpus}")
    code = (
        "import threading, sys\n"
        "for _ in range(3): threading.Thread(target=sys.stdin.read, daemon=True).start()\n"
        "print('up', flush=True); sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "up"
        tasks = Path(f"/proc/{child.pid}/task")
        wait_until(lambda: len(list(tasks.iterdir())) >= 4, 30, what="the child's 4 threads")
        one = frozenset(cpus[-1:])
        assert cores.pin(child.pid, one)
        assert {t.name: os.sched_getaffinity(int(t.name)) for t in tasks.iterdir()} == {
            t.name: set(one) for t in tasks.iterdir()
        }
        assert cores.pin(child.pid, frozenset(cpus))
        assert all(os.sched_getaffinity(int(t.name)) == set(cpus) for t in tasks.iterdir())
    finally:
        child.kill()
        child.wait()


def test_a_notice_is_printed_once_per_key(capsys) -> None:
    from rnn_core.engine.notices import warn_once

    key = f"test-{id(capsys)}"
    assert warn_once(key, "RNN Lab: first") is True
    assert warn_once(key, "RNN Lab: again") is False
    assert warn_once(key + "-other", "RNN Lab: another thing") is True
    assert capsys.readouterr().err.splitlines() == ["RNN Lab: first", "RNN Lab: another thing"]
