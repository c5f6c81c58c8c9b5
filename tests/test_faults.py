"""Faults of a training child: kill -9 mid-epoch fails that run readably, frees its slot and
its memory, and the next queued run starts; the child is the OOM killer's first choice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from rnn_core.engine.job import TrainingJob
from rnn_core.engine.memory import CHILD_OOM_SCORE, Memory
from rnn_core.engine.process import ProcessRunner
from rnn_core.engine.slots import SlotPool

REPO = Path(__file__).resolve().parents[1]


def _wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    """Bounded wait for ``cond()``, failing with ``what``."""
    tick = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        tick.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _job(tiny_run, pool: SlotPool, epochs: int) -> TrainingJob:
    task, data, model, spec = tiny_run(epochs=epochs)
    train, val = task.splits(data)
    job = TrainingJob(
        model, train, val, spec.train, on_epoch=task.epoch_report(data), pool=pool,
        runner=ProcessRunner("addition", data),
    )  # fmt: skip
    job.memory_need = 300 << 20  # admitted by memory too: its reservation must be given back
    return job


@pytest.mark.process
def test_kill_9_mid_epoch_fails_readably_frees_the_slot_and_starts_the_next(tiny_run) -> None:
    book = Memory()
    pool = SlotPool(1, book)
    first, second = _job(tiny_run, pool, epochs=200), _job(tiny_run, pool, epochs=1)
    first.start()
    _wait_for(lambda: first.snapshot().state == "running", 30, "the first run to take the slot")
    second.start()
    _wait_for(lambda: first.snapshot().batch > 0, 180, "the first run's first batches")
    queued = second.snapshot()
    assert queued.state == "queued" and queued.queue_position == 1
    assert queued.queue_reason.startswith("waiting for a free training slot")
    pid = first.runner.process.pid
    assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == str(CHILD_OOM_SCORE)
    assert first.snapshot().state == "running"  # inside an epoch of 200
    os.kill(pid, signal.SIGKILL)  # what the kernel's OOM killer does
    failed = first.wait(60)
    assert failed.state == "failed"
    assert "killed (signal 9)" in failed.error and "smaller model or training size" in failed.error
    _wait_for(lambda: second.snapshot().state != "queued", 30, "the queued run to start")
    done = second.wait(180)
    assert done.state == "done" and done.epoch == 1, done.error
    assert pool.usage() == (0, 0)  # both slots given back
    assert book.outstanding(book.usage(fresh=True)) == 0  # and both memory reservations


def test_child_setup_sets_the_oom_score_and_the_slots_threads() -> None:
    code = (
        "from rnn_core.engine import memory; memory.child_setup(); import tensorflow as tf; "
        "print(open('/proc/self/oom_score_adj').read().strip(), "
        "tf.config.threading.get_intra_op_parallelism_threads(), "
        "tf.config.threading.get_inter_op_parallelism_threads())"
    )
    env = os.environ | {"RNN_LAB_CHILD_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
        timeout=180, check=True,
    )  # fmt: skip
    assert out.stdout.split() == [str(CHILD_OOM_SCORE), "1", "1"]


def test_the_server_lowers_its_own_oom_score_where_permitted() -> None:
    code = (
        "from rnn_core.engine import memory; ok = memory.protect_server(); "
        "again = memory.protect_server(); "
        "print(ok, again, open('/proc/self/oom_score_adj').read().strip())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
        check=True,
    )  # fmt: skip
    ok, again, score = out.stdout.split()
    assert ok == again  # done once per process
    if ok == "True":
        assert score == "-500"
    else:  # not permitted here (no CAP_SYS_RESOURCE): the score is left as it was
        assert int(score) >= 0


def test_a_run_that_could_never_fit_fails_naming_the_limit(tiny_run, tmp_path: Path) -> None:
    from tests.test_memory import SERVER, _proc, _v2

    book = Memory(_v2(tmp_path, str(1 << 30)), _proc(tmp_path, "0::/app/web\n"), pid=SERVER)
    task, data, model, spec = tiny_run(epochs=1)
    train, val = task.splits(data)
    job = TrainingJob(model, train, val, spec.train, pool=SlotPool(2, book))
    job.memory_need = 2 << 30
    job.start()
    snap = job.wait(30)
    assert snap.state == "failed" and snap.epoch == 0
    assert snap.error.startswith("Not started: this run needs about 2.0 GB")
    assert "1.0 GB in all (cgroup v2 memory.max)" in snap.error


def test_a_killed_trainings_message_leaves_out_tensorflows_log_lines() -> None:
    from rnn_core.engine.process import exit_text

    noise = (
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        b"I0000 00:00:1796252893.572149 25075 port.cc:153] oneDNN custom operations are on.\n"
        b"E0000 00:00:1796249347.050999 6281 util.cc:131] oneDNN supports DT_INT32 only\n"
    )
    text = exit_text(-9, noise)
    assert text == (
        "the training process was killed (signal 9), most likely out of memory; "
        "try a smaller model or training size"
    )
    crashed = exit_text(1, noise + b"Traceback (most recent call last):\nMemoryError: no room\n")
    assert crashed.endswith("(MemoryError: no room)")
    warned = noise + (  # a Python warning: its line, then the source line it points at
        b"/venv/keras/src/saving/saving_lib.py:869: UserWarning: Skipping variable loading for "
        b"optimizer 'adam', because it has 18 variables whereas the saved optimizer has 2.\n"
        b"  saveable.load_own_variables(store)\n"
    )
    assert exit_text(-9, warned) == text  # not "… (  saveable.load_own_variables(store))"
    assert exit_text(1, warned + b"MemoryError: no room\n").endswith("(MemoryError: no room)")
