"""Live-training engine: one :class:`TrainingJob`, its :class:`Recorder` and the runner it is given.

The engine never draws. A caller (page, CLI, test) starts a :class:`TrainingJob`, polls
:meth:`TrainingJob.snapshot` or passes ``on_progress`` / ``on_epoch`` callbacks, and can stop
the job within one batch. Where ``fit`` runs is the job's :class:`~rnn_core.engine.runner.Runner`
(:class:`~rnn_core.engine.runner.ThreadRunner` here, or
:class:`~rnn_core.engine.process.ProcessRunner` in a child process). A process-wide
:class:`~rnn_core.engine.slots.SlotPool` caps simultaneous trainings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from rnn_core.config import TrainConfig
from rnn_core.engine.memory import XLA_EXTRA
from rnn_core.engine.recorder import STATES, Recorder, Snapshot
from rnn_core.engine.runner import (
    Outcome,
    Runner,
    RunRequest,
    StopSignal,
    ThreadRunner,
    fit_model,
    make_dataset,
)
from rnn_core.engine.slots import DEFAULT_POOL, MemoryRefused, Refused, SlotPool

__all__ = [
    "STATES",
    "Outcome",
    "Recorder",
    "RunRequest",
    "Runner",
    "SlotPool",
    "Snapshot",
    "ThreadRunner",
    "TrainingJob",
    "fit_model",
    "make_dataset",
    "set_up_tensorflow",
]


def set_up_tensorflow() -> None:
    """Run TensorFlow's one-time device setup (CPU, CUDA probe) now, in the calling thread.

    A multi-threaded caller (the Streamlit server) calls this once, under its own lock,
    before its threads build or train models: that setup is not safe to race.
    """
    tf.config.list_logical_devices()


class TrainingJob:
    """One model trained live across any number of start calls, by the runner it is given.

    Each :meth:`start` queues for a slot of the pool, then hands the call to ``runner`` in a
    worker thread; progress goes to the public :attr:`recorder`. The default runner fits in
    that thread (:class:`ThreadRunner`).
    """

    def __init__(
        self,
        model: keras.Model,
        train: tuple[np.ndarray, np.ndarray],
        val: tuple[np.ndarray, np.ndarray] | None,
        cfg: TrainConfig,
        on_epoch: Callable[[keras.Model, int], Any] | None = None,
        on_progress: Callable[[Snapshot], None] | None = None,
        pool: SlotPool | None = None,
        runner: Runner | None = None,
    ) -> None:
        """Prepare a job; nothing runs until :meth:`start`."""
        self.model, self.train, self.val, self.cfg = model, train, val, cfg
        self.on_epoch = on_epoch  # the task's report hook: (model, epoch) -> report
        self.pool = pool or DEFAULT_POOL
        self.runner: Runner = runner if runner is not None else ThreadRunner()
        self.recorder = Recorder(
            -(-len(train[0]) // cfg.batch_size), cfg.batch_size, cfg.publish_every, on_progress
        )
        self.checkpoint: bytes | None = None  # model bytes with optimizer state, from a runner
        self.released = False  # True once release() dropped the data (and maybe the model)
        self.memory_need = 0  # estimated bytes of one training (memory.estimate); 0 = not known
        self._stop = StopSignal()
        self._thread: threading.Thread | None = None
        self._calls = 0

    @property
    def on_progress(self) -> Callable[[Snapshot], None] | None:
        """Called with every new snapshot (in the thread that made it), or None."""
        return self.recorder.on_progress

    @on_progress.setter
    def on_progress(self, listener: Callable[[Snapshot], None] | None) -> None:
        self.recorder.on_progress = listener

    # ----- public API ---------------------------------------------------------------------
    def start(self, epochs: int | None = None) -> None:
        """Train ``epochs`` more epochs (default: the config's) in a new worker thread."""
        epochs = self.cfg.epochs if epochs is None else int(epochs)
        if epochs < 1:
            raise ValueError("epochs must be at least 1")
        if self.released:
            raise RuntimeError("this run's data was released to save memory; start a new run")
        target = self.recorder.queue(epochs)  # refuses if a call is queued or running
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(target,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask training to end after the current batch (or leave the queue at once)."""
        self._stop.set()
        self.recorder.stopping()

    def snapshot(self) -> Snapshot:
        """The latest published progress (thread-safe, immutable)."""
        return self.recorder.snapshot()

    def wait(self, timeout: float | None = None) -> Snapshot:
        """Block until the current call ends (or the timeout passes); return the snapshot."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def release(self, keep_model: bool = False) -> None:
        """Drop the training data, epoch hook, checkpoint and runner's data (and the model
        unless kept) to free memory.

        Curves, logs and history stay readable; the job can no longer train.
        """
        if self.snapshot().active:
            raise RuntimeError("stop the job before releasing it")
        if self._thread is not None:
            self._thread.join()
        self.train = self.val = None  # type: ignore[assignment]
        self.on_epoch = self.on_progress = None
        self.checkpoint = None
        self.runner.release()
        if not keep_model:
            self.model = None
        self.released = True

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as lists keyed like Keras's ``History.history``."""
        return self.snapshot().history()

    def preload(self, epoch_logs: Any, seconds: float, extras: Any = (), batches: Any = ()) -> None:
        """Begin from a finished history (a pretrained model); :meth:`start` continues it."""
        self.recorder.preload(epoch_logs, seconds, extras, batches)

    # ----- worker thread ------------------------------------------------------------------
    def _child_pid(self) -> int | None:
        """The pid of the process training this job now (None in a thread or between calls)."""
        return getattr(getattr(self.runner, "process", None), "pid", None)

    def _run(self, target: int) -> None:
        """One training call: wait for a slot, hand the call to the runner, publish the end."""
        stop = self._stop  # this call's flag
        try:
            admitted = self.pool.acquire(
                self, stop, self.recorder.queue_position, self.memory_need, self._child_pid
            )
        except Refused as exc:  # could never fit, or no cluster: a readable failed run, untrained
            xla = isinstance(exc, MemoryRefused) and getattr(self.cfg, "jit_compile", False)
            hint = f", or turn off Compile with XLA ({XLA_EXTRA} MB less)" if xla else ""
            self.recorder.end(error=f"Not started: {exc}{hint}")
            return
        if not admitted:
            self.recorder.end(stopped_early=True)  # left the queue: nothing trained
            return
        started = time.perf_counter()
        try:
            initial = self.recorder.running()
            if stop.is_set():  # Stop pressed as the slot came: show it while the runner ends
                self.recorder.stopping()
            self._calls += 1
            request = RunRequest(
                self.model, self.train, self.val, self.cfg, self._calls, initial, target,
                self.on_epoch, self.checkpoint,
            )  # fmt: skip
            outcome = self.runner.run(request, self.recorder, stop)
            if outcome.checkpoint is not None:
                self.checkpoint = outcome.checkpoint
        except Exception as exc:  # a failure ends this run with a readable message
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}")
        finally:
            self.pool.release(self)
        spent = time.perf_counter() - started - outcome.score_seconds
        self.recorder.end(outcome.stopped, outcome.error, spent, outcome.reason, outcome.results)
