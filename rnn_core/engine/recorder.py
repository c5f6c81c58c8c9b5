"""Progress of one training job: the :class:`Recorder` that turns fit's events into snapshots.

A runner (in a thread, in a child process, later a pool or a remote worker) feeds the recorder
``epoch_begin`` / ``batch`` / ``epoch_end``; the job drives its state (queued, running, done);
a UI reads immutable :class:`Snapshot` frames. Pure Python: no TensorFlow here.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STATES = ("idle", "queued", "running", "stopping", "done", "failed")


@dataclass(frozen=True)
class Snapshot:
    """What a UI needs to draw one frame of a training run; immutable and cheap to copy."""

    state: str = "idle"  # one of STATES
    epoch: int = 0  # completed epochs since the model was built
    epochs_target: int = 0  # epoch count this call trains up to
    call_start_epoch: int = 0  # completed epochs when this call started
    batch: int = 0  # batches done in the current epoch
    batches_per_epoch: int = 0  # batches in one epoch
    batch_logs: tuple[dict[str, float], ...] = ()  # every publish_every batches: step, loss …
    epoch_logs: tuple[dict[str, float], ...] = ()  # one per completed epoch: loss, val_loss …
    epoch_extras: tuple[Any, ...] = ()  # what the on_epoch hook returned, per epoch
    samples_per_sec: float = 0.0  # training throughput over the recent batches
    eta_seconds: float = 0.0  # estimated time to the end of this call
    train_seconds: float = 0.0  # wall time spent inside fit, summed over calls
    queue_position: int = 0  # 1 = next in line; 0 when not queued
    queue_reason: str = ""  # why the queue waits, e.g. "waiting for memory: 2 runs are training"
    stopped_early: bool = False  # True when Stop ended the call before its last epoch
    stop_reason: str = ""  # why the call ended on its own: "stopped at epoch 4: val_… ≥ 0.99"
    error: str = ""  # readable failure text when state == "failed"
    version: int = 0  # increases with every change, so a UI can skip identical frames
    shared_with: int = 0  # other students watching this same training (engine/sharing.py)
    reused: bool = False  # True when an identical run trained earlier here gave these curves
    detached: bool = False  # True when this student left a shared training that went on
    scoring: bool = False  # True while the trained model is scored on the test set
    results: Any = None  # test Results of the call's final weights, made where it trained

    @property
    def active(self) -> bool:
        """True while queued, running or stopping."""
        return self.state in ("queued", "running", "stopping")

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as lists keyed like Keras's ``History.history``."""
        logs = self.epoch_logs
        keys = sorted({k for log in logs for k in log if k != "epoch"})
        return {k: [float(log.get(k, math.nan)) for log in logs] for k in keys}

    @property
    def progress(self) -> float:
        """Fraction of this call's batches done, 0..1."""
        span = self.epochs_target - self.call_start_epoch
        if span <= 0 or self.batches_per_epoch == 0:
            return 0.0
        done = self.epoch - self.call_start_epoch + self.batch / self.batches_per_epoch
        return float(min(1.0, max(0.0, done / span)))


class Recorder:
    """Owns a job's snapshot, its lock, throughput/ETA and the batch and epoch logs.

    Thread-safe: a runner calls :meth:`epoch_begin`, :meth:`batch` and :meth:`epoch_end` from
    the thread that receives fit's events, while a UI thread calls :meth:`snapshot`. Every
    change is published as a new :class:`Snapshot` and passed to ``on_progress`` (outside the
    lock).
    """

    def __init__(
        self,
        batches_per_epoch: int,
        batch_size: int,
        publish_every: int = 1,
        on_progress: Callable[[Snapshot], None] | None = None,
    ) -> None:
        """An idle recorder for a run of ``batches_per_epoch`` batches of ``batch_size``."""
        self.batch_size, self.publish_every = int(batch_size), max(1, int(publish_every))
        self.on_progress = on_progress  # called with every new snapshot, outside the lock
        self.lock = threading.Lock()
        self._snap = Snapshot(batches_per_epoch=int(batches_per_epoch))
        self._batch_logs: list[dict[str, float]] = []
        self._epoch_logs: list[dict[str, float]] = []
        self._extras: list[Any] = []
        self._t_batch = 0.0  # when the previous batch (or the epoch) ended, perf_counter
        self._seconds_base = 0.0  # fit seconds of the calls before this one
        self._rate = 0.0  # batches per second, smoothed
        self._done = 0  # batches of the current epoch reported so far

    # ----- reading --------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The latest published progress (thread-safe, immutable)."""
        with self.lock:
            return self._snap

    # ----- the job's state ------------------------------------------------------------------
    def queue(self, epochs: int) -> int:
        """Enter the queue for ``epochs`` more epochs; the epoch count this call trains to.

        Raises RuntimeError if a call is already queued or running.
        """
        with self.lock:
            if self._snap.active:
                raise RuntimeError("this job is already training; stop it first")
            target = self._snap.epoch + int(epochs)
            last = self._epoch_logs[-1] if self._epoch_logs else {}
            self._seconds_base = float(last.get("seconds", self._snap.train_seconds))
            self._publish(
                state="queued",
                epochs_target=target,
                call_start_epoch=self._snap.epoch,
                batch=0,
                stopped_early=False,
                stop_reason="",
                error="",
                eta_seconds=0.0,
                samples_per_sec=0.0,
                scoring=False,
                results=None,
            )
            self._rate = 0.0
        return target

    def queue_position(self, position: int, reason: str = "") -> None:
        """Publish the place in the slot queue (1 = next in line) and why it waits."""
        with self.lock:
            if (self._snap.queue_position, self._snap.queue_reason) != (position, reason):
                self._publish(queue_position=position, queue_reason=reason)

    def running(self) -> int:
        """Leave the queue and start training; the completed epochs the call starts from."""
        with self.lock:
            self._publish(state="running", queue_position=0, queue_reason="")
            initial = self._snap.epoch
        self._emit()
        return initial

    def stopping(self) -> None:
        """Show that Stop was asked while training runs."""
        with self.lock:
            if self._snap.state == "running":
                self._publish(state="stopping")

    def scoring(self) -> None:
        """Show that training ended and its model is being scored on the test set."""
        with self.lock:
            if self._snap.active:
                self._publish(scoring=True, eta_seconds=0.0)
        self._emit()

    def end(
        self,
        stopped_early: bool = False,
        error: str = "",
        train_seconds: float = 0.0,
        reason: str = "",
        results: Any = None,
    ) -> None:
        """End the call: ``done`` (maybe stopped early, by Stop or by ``reason``) or ``failed``;
        ``results``: the test results of the final weights, when the runner measured them."""
        with self.lock:
            self._publish(
                state="failed" if error else "done",
                stopped_early=bool(stopped_early),
                stop_reason="" if error else reason,
                error=error,
                scoring=False,
                results=None if error else results,
                queue_position=0,
                queue_reason="",
                eta_seconds=0.0,
                train_seconds=self._snap.train_seconds + float(train_seconds),
            )
        self._emit()

    def preload(
        self,
        epoch_logs: Iterable[Mapping[str, float]],
        seconds: float,
        extras: Iterable[Any] = (),
        batches: Iterable[Mapping[str, float]] = (),
    ) -> None:
        """Begin from a finished history (a pretrained model): a ``done`` snapshot."""
        logs = [dict(log) for log in epoch_logs]
        extras = list(extras) or [None] * len(logs)
        if len(extras) != len(logs):
            raise ValueError(f"{len(extras)} epoch extras for {len(logs)} epochs")
        with self.lock:
            if self._snap.active or self._snap.epoch:
                raise RuntimeError("only a job that has not trained yet can be preloaded")
            self._epoch_logs, self._extras = logs, extras
            self._batch_logs = [dict(b) for b in batches]
            self._publish(
                state="done", epoch=len(logs), epochs_target=len(logs), epoch_logs=tuple(logs),
                batch=self._snap.batches_per_epoch,
                epoch_extras=tuple(extras), batch_logs=tuple(self._batch_logs),
                train_seconds=float(seconds),
            )  # fmt: skip

    # ----- fit's events (a ProgressSink) ----------------------------------------------------
    def epoch_begin(self) -> None:
        """An epoch starts: its batch count goes back to 0."""
        self._t_batch, self._done = time.perf_counter(), 0
        with self.lock:
            self._publish(batch=0)

    def batch(self, batch: int, logs: Mapping[str, float], seconds: float | None = None) -> None:
        """Batches up to ``batch`` (0-based in its epoch) ended: throughput, ETA and maybe a
        curve point.

        One call may report several batches (``steps_per_execution``): those since the last
        report; the last call of an epoch may name a batch past its end. ``seconds`` is their
        duration when measured where they ran (a child process whose messages arrive in
        bursts); otherwise the time since the previous report here. A curve point is kept each
        time a multiple of ``publish_every`` batches is reached or passed, and at epoch end.
        """
        now = time.perf_counter()
        dt, self._t_batch = now - self._t_batch, now
        dt = dt if seconds is None else seconds
        per_epoch = self._snap.batches_per_epoch
        done = min(batch + 1, per_epoch) if per_epoch else batch + 1
        before, self._done = self._done, done
        if dt > 0 and done > before:  # smoothed batches/s; a call's first includes tracing
            rate = (done - before) / dt
            self._rate = rate if self._rate == 0 else 0.9 * self._rate + 0.1 * rate
        if done // self.publish_every == before // self.publish_every and done != per_epoch:
            return
        with self.lock:
            snap = self._snap
            left = (snap.epochs_target - snap.epoch - 1) * snap.batches_per_epoch
            left += snap.batches_per_epoch - done
            step = snap.epoch * snap.batches_per_epoch + done
            entry = {"step": float(step), "epoch": step / snap.batches_per_epoch}
            entry |= {k: float(v) for k, v in logs.items()}
            self._batch_logs.append(entry)
            self._publish(
                batch=done,
                batch_logs=tuple(self._batch_logs),
                samples_per_sec=self._rate * self.batch_size,
                eta_seconds=left / self._rate if self._rate > 0 else 0.0,
            )
        self._emit()

    def epoch_end(self, epoch: int, logs: Mapping[str, float], report: Any) -> None:
        """Epoch ``epoch`` (0-based) ended: keep its metrics and the task's (opaque) report.

        A ``seconds`` in ``logs`` (fit's time in this call) is kept summed over the calls.
        """
        with self.lock:
            entry = {"epoch": float(epoch + 1)} | {k: float(v) for k, v in logs.items()}
            if "seconds" in entry:
                entry["seconds"] += self._seconds_base
            self._epoch_logs.append(entry)
            self._extras.append(report)
            self._publish(
                epoch=epoch + 1,
                epoch_logs=tuple(self._epoch_logs),
                epoch_extras=tuple(self._extras),
            )
        self._emit()

    # ----- inside -------------------------------------------------------------------------
    def _publish(self, **changes: Any) -> None:
        """Replace the snapshot (caller holds the lock)."""
        current = self._snap.__dict__ | changes
        current["version"] = self._snap.version + 1
        self._snap = Snapshot(**current)

    def _emit(self) -> None:
        """Tell the optional progress listener (outside the lock)."""
        listener = self.on_progress
        if listener is not None:
            listener(self.snapshot())
