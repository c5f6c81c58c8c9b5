"""A worker whose server has gone ends even while its start-up (TensorFlow's import) is slow."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_worker_ends_when_its_stdin_closes_during_a_slow_setup(tmp_path) -> None:  # noqa: ANN001
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from rnn_core.engine import memory, worker

            def slow_setup(threads=None):  # TensorFlow's import on a box 10x slower than usual
                print("setting up", file=sys.stderr, flush=True)
                time.sleep(600)

            memory.child_setup = slow_setup
            sys.exit(worker.main())
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stderr is not None and child.stdin is not None
        assert child.stderr.readline().strip() == "setting up"  # the worker is in its set-up
        child.stdin.close()  # the server has gone
        assert child.wait(timeout=30) == 0  # at once, not after its set-up ends
    finally:
        child.kill()
        child.wait()
