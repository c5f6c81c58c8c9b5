"""Training in a child process: this process keeps the job, the child runs ``model.fit``.

Every ``fit`` of a new Keras model leaves 18-28 MB of TensorFlow tracing state behind in its
process for good, and a fit holds Python's GIL for long stretches. A :class:`ProcessRunner`
gives a :class:`~rnn_core.engine.job.TrainingJob` the same snapshots as the in-thread runner,
but each training call borrows a worker process from the warm pool
(:mod:`rnn_core.engine.pool`: TensorFlow already imported there), sends it the model
(``.keras`` bytes) and the task's data, and relays its progress to the job's recorder; the
weights come back every epoch and at the end, and the worker goes back to the pool. So the
serving process never fits (no growth), Stop works within one batch and, if the child hangs,
by killing it, and an out-of-memory kill ends only that run.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import time
from collections.abc import Callable
from typing import Any

from rnn_core.config import TrainConfig
from rnn_core.engine import memory
from rnn_core.engine.job import TrainingJob
from rnn_core.engine.pool import (
    POOL,
    Worker,
    WorkerPool,
    model_key,
    read_frame,
    write_frame,
)
from rnn_core.engine.recorder import Recorder
from rnn_core.engine.runner import Outcome, Runner, RunRequest, StopSignal, ThreadRunner
from rnn_core.export import model_bytes


class ProcessRunner:
    """Runs each training call in a worker process (:mod:`rnn_core.engine.worker`) of a pool.

    ``task`` names the task in :data:`rnn_core.tasks.TASKS`: the child rebuilds the splits and
    the per-epoch report from ``data`` itself (``task.splits(data)``,
    ``task.epoch_report(data)``), so no closure has to cross the process boundary. The
    optimizer state crosses calls in :attr:`Outcome.checkpoint` (model bytes).
    """

    def __init__(self, task: str, data: Any, pool: WorkerPool | None = None) -> None:
        """A runner for ``task``'s ``data`` on ``pool`` (default: the server's pool)."""
        self.task, self.data = task, data
        self.pool = pool if pool is not None else POOL
        self.process: Any = None  # the child training right now (a Popen), if any
        self.worker_pid: int | None = None  # pid of the worker of the last call

    def run(self, request: RunRequest, recorder: Recorder, stop: StopSignal) -> Outcome:
        """Send the request to a pool worker, relay its frames to ``recorder`` until it ends.

        Stop (also pressed while the worker starts) is forwarded at once; a worker still
        running :data:`~rnn_core.engine.pool.STOP_GRACE_SECONDS` later is killed. A worker
        that dies without reporting fails the call with its exit reason, unless Stop had asked
        it to end; one that was lent idle and died before its first frame is replaced once.
        """
        if self.data is None:
            raise RuntimeError("this runner's data was released")
        key = model_key(request.model, request.cfg, request.train, request.val)
        blobs: list[bytes] = []

        def blob() -> bytes:
            """The request's model bytes, serialised once, when first needed."""
            if not blobs:
                blobs.append(request.checkpoint or model_bytes(request.model))
            return blobs[0]

        extra_mb = memory.XLA_EXTRA if request.cfg.jit_compile else 0.0  # XLA's programs
        retry = True  # a pooled worker that died while idle is replaced once
        while True:
            worker = self.pool.take(stop, key, extra_mb)  # preferably the one keeping this model
            if worker is None:  # Stop while waiting for a worker: nothing trained
                return Outcome(stopped=True)
            lease, offset = worker.begin(), worker.stderr_size()
            self.process, self.worker_pid = worker.proc, worker.pid
            heard: list[bool] = []
            outcome = None
            try:
                ask = self.request(request, key, worker.holds, blob) | {"score": True}
                message = ("run", ask)
                outcome = self.relay(
                    worker, lease, message, request.model, recorder, stop, heard, blob
                )
                if outcome is None and not stop.is_set():
                    code = worker.exit_code()  # it closed its pipe: its exit code explains
                    if retry and not worker.cold and not heard:
                        retry = False
                        continue  # it died while idle: once more, with another worker
                    raise RuntimeError(exit_text(code, worker.stderr_since(offset)))
            finally:
                self.process = None
                self.pool.give_back(worker, outcome is not None and not outcome.error)
            return outcome if outcome is not None else Outcome(stopped=True)

    def request(
        self, request: RunRequest, key: str, holds: bool, blob: Callable[[], bytes]
    ) -> dict[str, Any]:
        """What the worker gets for ``request``: the model's bytes (``blob()``), or, for a
        first call to a worker that holds the model of ``key`` (``holds``), only the model's
        state (:func:`model_state`): neither side then serialises or loads a model."""
        out = {
            "task": self.task,
            "data": self.data,
            "cfg": request.cfg,
            "call": request.call,
            "initial": request.initial,
            "target": request.target,
            "key": key,
        }
        fresh = request.checkpoint is None and not request.model.optimizer.built
        if holds and fresh:
            return out | {"model": None, "state": model_state(request.model)}
        return out | {"model": blob()}

    def prime(self, model: Any, cfg: TrainConfig) -> tuple[dict[str, Any], str]:
        """The pool's prime for this runner's (small) data: the ``run`` request of one epoch
        of ``model`` on it and the model's :func:`model_key` (see
        :meth:`~rnn_core.engine.pool.WorkerPool.prime`)."""
        from rnn_core.tasks import get_task

        train, val = get_task(self.task).splits(self.data)
        request = RunRequest(model, train, val, cfg, call=1, initial=0, target=1)
        key = model_key(model, cfg, train, val)
        return self.request(request, key, False, lambda: model_bytes(model)), key

    def relay(
        self,
        worker: Worker,
        lease: int,
        message: Any,
        model: Any,
        recorder: Recorder,
        stop: StopSignal,
        heard: list[bool] | None = None,
        blob: Callable[[], bytes] | None = None,
    ) -> Outcome | None:
        """Write ``message`` to the worker, then turn its frames into the recorder's events.

        Sets ``model``'s weights to the child's after every epoch and at the end; None when
        the child died without a last word. Appends to ``heard`` once a frame of this run came.
        A worker that asks for the model (``need_model``) gets ``blob()``.
        """
        proc = worker.proc
        heard = [] if heard is None else heard
        try:
            write_frame(proc.stdin, message)
            with stop.listening(lambda: worker.stop(lease)):
                while True:
                    frame = read_frame(proc.stdout)
                    if frame[0] == "ready":  # a fresh worker's word before it reads the request
                        continue
                    heard.append(True)
                    if frame[0] == "need_model":  # it did not hold the model after all
                        if blob is None:
                            raise ValueError("the worker asked for a model")
                        worker.send(("model", blob()))
                        continue
                    outcome = deliver(frame, model, recorder)
                    if outcome is not None and frame[0] == "done" and frame[5:6] == (True,):
                        return self.scored(proc, outcome, recorder)  # its test results follow
                    if outcome is not None:
                        return outcome
        except (EOFError, pickle.UnpicklingError, OSError, ValueError):
            return None  # the child died: its exit code says why

    @staticmethod
    def scored(proc: Any, outcome: Outcome, recorder: Recorder) -> Outcome:
        """``outcome`` with the test results the child sends after its ``done`` (its
        ``("scored", results)`` frame; None when Stop cut the scoring short) and the seconds
        they took. A child that dies while scoring leaves the training's outcome unscored."""
        recorder.scoring()
        started = time.perf_counter()
        try:
            while (frame := read_frame(proc.stdout))[0] != "scored":
                pass  # nothing else comes between done and scored
        except (EOFError, pickle.UnpicklingError, OSError, ValueError):
            return outcome
        spent = time.perf_counter() - started
        return dataclasses.replace(outcome, results=frame[1], score_seconds=spent)

    def release(self) -> None:
        """Drop the data (the job can no longer train)."""
        self.data = None


def model_state(model: Any) -> dict[str, Any]:
    """A never-trained model's state for a worker that holds its architecture: every variable
    (weights, dropout seed states) as an array and its optimizer's serialized config."""
    import keras

    return {
        "variables": [v.numpy() for v in model.variables],
        "optimizer": keras.optimizers.serialize(model.optimizer),
    }


def deliver(frame: tuple, model: Any, recorder: Recorder) -> Outcome | None:
    """Turn one frame of :mod:`rnn_core.engine.worker`'s ``run`` into the recorder's event.

    ``model`` takes the trained weights at every epoch's end and at the end; the call's
    :class:`Outcome` once the frame is the last (``done`` or ``failed``), else None. Every
    runner whose training runs elsewhere (a child process, a Ray actor) relays through here.
    """
    kind, *payload = frame
    if kind == "epoch_begin":
        recorder.epoch_begin()
    elif kind == "batch":
        recorder.batch(*payload)
    elif kind == "epoch_end":
        epoch, logs, report, weights = payload
        model.set_weights(weights)
        recorder.epoch_end(epoch, logs, report)
    elif kind == "done":
        stopped, weights, checkpoint, *why = payload  # why: the stop rule's reason
        model.set_weights(weights)
        reason = str(why[0]) if why else ""
        return Outcome(stopped=stopped, checkpoint=checkpoint, reason=reason)
    elif kind == "failed":
        return Outcome(error=payload[0])
    return None


# TensorFlow's own log lines (absl: "I0000 00:00:… file.cc:1] …"), Python's warnings
# ("file.py:869: UserWarning: …") and indented lines (the source line a warning points at, a
# traceback's frames): no help to a student
_LIBRARY_LOG = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:|WARNING: All log messages before absl|\s|\S+:\d+: \w*Warning: )"
)


def exit_text(code: int | None, stderr: bytes) -> str:
    """A readable reason for a child that ended without reporting."""
    if code is not None and code < 0 and -code == 9:
        reason = "the training process was killed (signal 9), most likely out of memory"
    elif code is not None and code < 0:
        reason = f"the training process was ended by signal {-code}"
    else:
        reason = f"the training process exited with code {code}"
    lines = [
        ln
        for ln in stderr.decode(errors="replace").splitlines()
        if ln.strip() and not _LIBRARY_LOG.match(ln)
    ]
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
    """The job a caller should use: a pool worker process per training unless ``in_process``.

    With ``RNN_LAB_RAY_ADDRESS`` set, each training runs on that Ray cluster instead
    (:mod:`rnn_core.engine.ray_runner`; Ray, not the local slot pool, admits it);
    ``RNN_LAB_TRAIN_IN_THREAD=1`` makes every other job train in a thread of this process;
    ``in_process`` always does; ``runner`` overrides all. The job's splits and epoch report
    come from the task.
    """
    from rnn_core.engine.ray_runner import RayRunner, cluster_address
    from rnn_core.tasks import get_task

    t = get_task(task)
    train, val = t.splits(data)
    if runner is None:
        address = "" if in_process else cluster_address()
        in_thread = in_process or os.environ.get("RNN_LAB_TRAIN_IN_THREAD") == "1"
        if address:
            runner = RayRunner(task, data, address)
        else:
            runner = ThreadRunner() if in_thread else ProcessRunner(task, data)
    job = TrainingJob(model, train, val, cfg, on_epoch=t.epoch_report(data), runner=runner)
    admission = getattr(runner, "admission", None)  # a cluster admits its own runs
    if admission is not None:
        job.pool = admission
    return job
