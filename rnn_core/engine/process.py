"""Training in a child process: this process keeps the job, the child runs ``model.fit``.

Every ``fit`` of a new Keras model leaves 18-28 MB of TensorFlow tracing state behind in its
process for good, and a fit holds Python's GIL for long stretches. A
:class:`ProcessTrainingJob` has the same API and snapshots as a :class:`TrainingJob`, but each
start spawns ``python -m rnn_core.engine.worker``, sends it the model (``.keras`` bytes) and the
task's data, and relays its progress; the weights come back every epoch and at the end. So
the serving process never fits (no growth), Stop works within one batch and, if the child
hangs, by killing it, and an out-of-memory kill ends only that run.
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
from rnn_core.engine.job import TrainingJob
from rnn_core.engine.slots import SlotPool
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


def _spawn_worker(spare: bool = False) -> tuple[subprocess.Popen, IO[bytes]]:
    """Start ``python -m rnn_core.engine.worker``; it imports TensorFlow (a spare also warms it
    up with a tiny fit), then waits on stdin."""
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - the child's stderr, closed by _fit
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnn_core.engine.worker", *(["--spare"] if spare else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=env,
        cwd=_ROOT,
    )
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
            _standby = _spawn_worker(spare=True)


def take_worker() -> tuple[subprocess.Popen, IO[bytes]]:
    """The ready worker if there is one, else a new one.

    A worker spends about 4.5 s importing TensorFlow; taken warm, a training starts at once.
    The next spare is started when a training ends (:meth:`ProcessTrainingJob._fit`), not
    now, so its import does not compete with this training for the CPU; it costs about
    230 MB of private memory while it waits.
    """
    global _standby
    with _standby_lock:
        ready, _standby = _standby, None
    if ready is None or ready[0].poll() is not None:
        ready = _spawn_worker()
    return ready


class ProcessTrainingJob(TrainingJob):
    """A :class:`TrainingJob` whose training runs in a child process (same API, same snapshots).

    ``task`` names the task in :data:`rnn_core.tasks.TASKS`: the child rebuilds the splits and
    the per-epoch report from ``data`` itself, so no closure has to cross the process boundary.
    """

    def __init__(
        self,
        model: Any,
        task: str,
        data: Any,
        cfg: TrainConfig,
        pool: SlotPool | None = None,
    ) -> None:
        """Prepare a job; nothing runs until :meth:`start`."""
        from rnn_core.tasks import get_task

        train, val = get_task(task).splits(data)
        super().__init__(model, train, val, cfg, pool=pool)
        self.task, self.data = task, data
        self.checkpoint: bytes | None = None  # the child's last model, optimizer state included
        self._proc: subprocess.Popen | None = None
        self._proc_lock = threading.Lock()

    def stop(self) -> None:
        """Ask the child to stop after its current batch; kill it if it has not within grace."""
        super().stop()
        with self._proc_lock:
            proc = self._proc
        if proc is not None:
            self._tell_stop(proc)
            timer = threading.Timer(STOP_GRACE_SECONDS, self._kill, args=(proc,))
            timer.daemon = True
            timer.start()

    def release(self, keep_model: bool = False) -> None:
        """Also drop the data and the checkpoint bytes."""
        super().release(keep_model)
        self.data = self.checkpoint = None

    # ----- relay side -------------------------------------------------------------------
    def _fit(self, initial: int, target: int) -> dict[str, Any]:
        request = {
            "task": self.task,
            "data": self.data,
            "cfg": self.cfg,
            "call": self._calls,
            "initial": initial,
            "target": target,
            "model": self.checkpoint or model_bytes(self.model),
        }
        proc, errors = take_worker()
        with errors:
            with self._proc_lock:
                self._proc = proc
            outcome = None
            try:
                outcome = self._relay(proc, request)
            finally:
                with self._proc_lock:
                    self._proc = None
                self._close(proc)  # at most 2 processes per 2 slots; an exit code explains a crash
                warm_up()  # a spare for the next training, importing while nobody waits
            if outcome is None:
                if self._stop.is_set():  # killed after Stop: keep the last epoch's weights
                    return {"state": "done", "stopped_early": True}
                errors.seek(0)
                raise RuntimeError(_exit_text(proc.returncode, errors.read()))
        return outcome

    def _relay(self, proc: subprocess.Popen, request: dict[str, Any]) -> dict[str, Any] | None:
        """Send the request, then turn the child's messages into snapshots until it ends."""
        try:
            write_frame(proc.stdin, request)
            if self._stop.is_set():  # Stop pressed while the child was starting
                self._tell_stop(proc)
            while True:
                kind, *payload = read_frame(proc.stdout)
                if kind == "epoch_begin":
                    self._on_epoch_begin()
                elif kind == "batch":
                    self._record_batch(*payload)
                elif kind == "epoch_end":
                    epoch, logs, extra, weights = payload
                    self.model.set_weights(weights)
                    self._record_epoch(epoch, logs, extra)
                elif kind == "done":
                    stopped, weights, self.checkpoint = payload
                    self.model.set_weights(weights)
                    return {"state": "done", "stopped_early": stopped}
                elif kind == "failed":
                    return {"state": "failed", "error": payload[0]}
        except (EOFError, pickle.UnpicklingError, BrokenPipeError, OSError):
            return None  # the child died: its exit code says why

    @staticmethod
    def _tell_stop(proc: subprocess.Popen) -> None:
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):  # already gone
            proc.stdin.write(b"stop\n")
            proc.stdin.flush()

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.kill()

    @staticmethod
    def _close(proc: subprocess.Popen) -> None:
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(BrokenPipeError, OSError):
                stream.close()
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _exit_text(code: int | None, stderr: bytes) -> str:
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


def new_job(model: Any, task: str, data: Any, cfg: TrainConfig, in_process: bool = False) -> Any:
    """The job a caller should use: a child process per training unless ``in_process``.

    ``RNN_LAB_TRAIN_IN_THREAD=1`` makes every job train in a thread of this process instead.
    """
    from rnn_core.tasks import get_task

    if in_process or os.environ.get("RNN_LAB_TRAIN_IN_THREAD") == "1":
        t = get_task(task)
        train, val = t.splits(data)
        return TrainingJob(model, train, val, cfg, on_epoch=t.epoch_report(data))
    return ProcessTrainingJob(model, task, data, cfg)
