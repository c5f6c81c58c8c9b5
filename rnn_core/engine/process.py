"""Training in a child process: this process keeps the job, the child runs ``model.fit``.

Every ``fit`` of a new Keras model leaves 18-28 MB of TensorFlow tracing state behind in its
process for good, and a fit holds Python's GIL for long stretches. A :class:`ProcessRunner`
gives a :class:`~rnn_core.engine.job.TrainingJob` the same snapshots as the in-thread runner,
but each training call spawns ``python -m rnn_core.engine.worker`` (or takes the warmed
spare), sends it the model (``.keras`` bytes) and the task's data, and relays its progress to
the job's recorder; the weights come back every epoch and at the end. So the serving process
never fits (no growth), Stop works within one batch and, if the child hangs, by killing it,
and an out-of-memory kill ends only that run.
"""

from __future__ import annotations

import contextlib
import copyreg
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from rnn_core.config import TrainConfig
from rnn_core.engine import memory
from rnn_core.engine.job import TrainingJob
from rnn_core.engine.recorder import Recorder
from rnn_core.engine.runner import Outcome, Runner, RunRequest, StopSignal, ThreadRunner
from rnn_core.export import model_bytes

STOP_GRACE_SECONDS = 15.0  # after Stop, a child still running this long is killed
_ROOT = Path(__file__).resolve().parents[2]  # so ``-m rnn_core.engine.worker`` resolves


def _read_only(mapping: dict) -> MappingProxyType:
    """Unpickling side of a read-only mapping."""
    return MappingProxyType(mapping)


class _Pickler(pickle.Pickler):
    """Pickles read-only mappings (the IMDB word index) as well as what pickle already can."""

    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = lambda m: (_read_only, (dict(m),))


def write_frame(stream: IO[bytes], message: Any) -> None:
    """Send one pickled message straight into the stream (no in-memory copy) and flush."""
    _Pickler(stream, protocol=5).dump(message)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """Receive one message, unpickled as it streams in; EOFError when the other side is gone."""
    return pickle.load(stream)


_standby: tuple[subprocess.Popen, IO[bytes]] | None = None  # a worker importing TF ahead
_standby_lock = threading.Lock()


def spawn_worker(spare: bool = False) -> tuple[subprocess.Popen, IO[bytes]]:
    """Start ``python -m rnn_core.engine.worker``; it imports TensorFlow (a spare also warms it
    up with a tiny fit), then waits on stdin."""
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    env |= memory.child_env()  # TensorFlow threads: its slot's share of the cores
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - the child's stderr, closed by the runner
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnn_core.engine.worker", *(["--spare"] if spare else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=env,
        cwd=_ROOT,
    )
    memory.set_oom_score(proc.pid)  # the kernel kills a training before the server
    return proc, errors


def warm_up() -> None:
    """Have one worker process ready (TensorFlow imported) for the next training.

    Off unless ``RNN_LAB_SPARE_WORKER=1``: with it on, one classroom load run ended 7/8 (a
    finished run's page kept its queue button) and the cause is not known yet. Off, each
    training starts its own worker, about 4.5 s later, and nothing waits in memory.
    """
    global _standby
    if os.environ.get("RNN_LAB_SPARE_WORKER", "0") != "1":
        return
    with _standby_lock:
        if _standby is None or _standby[0].poll() is not None:
            _standby = spawn_worker(spare=True)


def take_worker() -> tuple[subprocess.Popen, IO[bytes]]:
    """The ready worker if there is one, else a new one.

    A worker spends about 4.5 s importing TensorFlow; taken warm, a training starts at once.
    The next spare is started when a training ends (:meth:`ProcessRunner.run`), not
    now, so its import does not compete with this training for the CPU; it costs about
    230 MB of private memory while it waits.
    """
    global _standby
    with _standby_lock:
        ready, _standby = _standby, None
    if ready is None or ready[0].poll() is not None:
        ready = spawn_worker()
    return ready


class ProcessRunner:
    """Runs each training call in a child process (:mod:`rnn_core.engine.worker`).

    ``task`` names the task in :data:`rnn_core.tasks.TASKS`: the child rebuilds the splits and
    the per-epoch report from ``data`` itself (``task.splits(data)``,
    ``task.epoch_report(data)``), so no closure has to cross the process boundary. The
    optimizer state crosses calls in :attr:`Outcome.checkpoint` (model bytes).
    """

    def __init__(self, task: str, data: Any) -> None:
        """A runner for ``task``'s ``data``; no process starts before :meth:`run`."""
        self.task, self.data = task, data
        self.process: subprocess.Popen | None = None  # the child training right now, if any

    def run(self, request: RunRequest, recorder: Recorder, stop: StopSignal) -> Outcome:
        """Send the request to a worker, relay its frames to ``recorder`` until it ends.

        Stop (also pressed while the child starts) is forwarded at once; a child still
        running :data:`STOP_GRACE_SECONDS` later is killed. A child that dies without
        reporting fails the call with its exit reason, unless Stop had asked it to end.
        """
        if self.data is None:
            raise RuntimeError("this runner's data was released")
        message = {
            "task": self.task,
            "data": self.data,
            "cfg": request.cfg,
            "call": request.call,
            "initial": request.initial,
            "target": request.target,
            "model": request.checkpoint or model_bytes(request.model),
        }
        proc, errors = take_worker()
        with errors:
            self.process = proc
            outcome = None
            try:
                outcome = self.relay(proc, message, request.model, recorder, stop)
            finally:
                self.process = None
                close_worker(proc)  # at most 2 processes per 2 slots; its exit code explains
                warm_up()  # a spare for the next training, importing while nobody waits
            if outcome is None:
                if stop.is_set():  # killed after Stop: keep the last epoch's weights
                    return Outcome(stopped=True)
                errors.seek(0)
                raise RuntimeError(exit_text(proc.returncode, errors.read()))
        return outcome

    def relay(
        self,
        proc: Any,
        message: dict[str, Any],
        model: Any,
        recorder: Recorder,
        stop: StopSignal,
    ) -> Outcome | None:
        """Write ``message`` to the child, then turn its frames into the recorder's events.

        Sets ``model``'s weights to the child's after every epoch and at the end; None when
        the child died without a last word.
        """
        try:
            write_frame(proc.stdin, message)
            with stop.listening(lambda: stop_worker(proc)):
                while True:
                    kind, *payload = read_frame(proc.stdout)
                    if kind == "epoch_begin":
                        recorder.epoch_begin()
                    elif kind == "batch":
                        recorder.batch(*payload)
                    elif kind == "epoch_end":
                        epoch, logs, report, weights = payload
                        model.set_weights(weights)
                        recorder.epoch_end(epoch, logs, report)
                    elif kind == "done":
                        stopped, weights, checkpoint, *why = payload  # why: the stop rule's
                        model.set_weights(weights)
                        reason = str(why[0]) if why else ""
                        return Outcome(stopped=stopped, checkpoint=checkpoint, reason=reason)
                    elif kind == "failed":
                        return Outcome(error=payload[0])
        except (EOFError, pickle.UnpicklingError, BrokenPipeError, OSError):
            return None  # the child died: its exit code says why

    def release(self) -> None:
        """Drop the data (the job can no longer train)."""
        self.data = None


def stop_worker(proc: subprocess.Popen) -> None:
    """Ask a worker to stop after its current batch; kill it if it has not within the grace."""
    with contextlib.suppress(BrokenPipeError, OSError, ValueError):  # already gone
        proc.stdin.write(b"stop\n")
        proc.stdin.flush()
    timer = threading.Timer(STOP_GRACE_SECONDS, kill_worker, args=(proc,))
    timer.daemon = True
    timer.start()


def kill_worker(proc: subprocess.Popen) -> None:
    """Kill a worker that is still running."""
    if proc.poll() is None:
        proc.kill()


def close_worker(proc: subprocess.Popen) -> None:
    """Close a worker's pipes and reap it (killed if it does not exit within the grace)."""
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(BrokenPipeError, OSError):
            stream.close()
    try:
        proc.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def exit_text(code: int | None, stderr: bytes) -> str:
    """A readable reason for a child that ended without reporting."""
    if code is not None and code < 0 and -code == 9:
        reason = "the training process was killed (signal 9), most likely out of memory"
    elif code is not None and code < 0:
        reason = f"the training process was ended by signal {-code}"
    else:
        reason = f"the training process exited with code {code}"
    lines = [ln for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    tail = lines[-1] if lines else ""
    return f"{reason}; try a smaller model or training size" + (f" ({tail})" if tail else "")


def new_job(
    model: Any,
    task: str,
    data: Any,
    cfg: TrainConfig,
    in_process: bool = False,
    runner: Runner | None = None,
) -> TrainingJob:
    """The job a caller should use: a child process per training unless ``in_process``.

    ``RNN_LAB_TRAIN_IN_THREAD=1`` makes every job train in a thread of this process instead;
    ``runner`` overrides both. The job's splits and epoch report come from the task.
    """
    from rnn_core.tasks import get_task

    t = get_task(task)
    train, val = t.splits(data)
    if runner is None:
        in_thread = in_process or os.environ.get("RNN_LAB_TRAIN_IN_THREAD") == "1"
        runner = ThreadRunner() if in_thread else ProcessRunner(task, data)
    return TrainingJob(model, train, val, cfg, on_epoch=t.epoch_report(data), runner=runner)
