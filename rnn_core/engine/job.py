"""Live-training engine: ``fit`` in a worker thread, progress as thread-safe snapshots.

The engine never draws. A caller (page, CLI, test) starts a :class:`TrainingJob`, polls
:meth:`TrainingJob.snapshot` or passes ``on_progress`` / ``on_epoch`` callbacks, and can stop
the job within one batch. A process-wide :class:`~rnn_core.engine.slots.SlotPool` caps simultaneous
trainings.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from rnn_core.config import TrainConfig
from rnn_core.engine.slots import DEFAULT_POOL, SlotPool

STATES = ("idle", "queued", "running", "stopping", "done", "failed")


def set_up_tensorflow() -> None:
    """Run TensorFlow's one-time device setup (CPU, CUDA probe) now, in the calling thread.

    A multi-threaded caller (the Streamlit server) calls this once, under its own lock,
    before its threads build or train models: that setup is not safe to race.
    """
    tf.config.list_logical_devices()


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
    stopped_early: bool = False  # True when Stop ended the call before its last epoch
    error: str = ""  # readable failure text when state == "failed"
    version: int = 0  # increases with every change, so a UI can skip identical frames

    @property
    def active(self) -> bool:
        """True while queued, running or stopping."""
        return self.state in ("queued", "running", "stopping")

    @property
    def progress(self) -> float:
        """Fraction of this call's batches done, 0..1."""
        span = self.epochs_target - self.call_start_epoch
        if span <= 0 or self.batches_per_epoch == 0:
            return 0.0
        done = self.epoch - self.call_start_epoch + self.batch / self.batches_per_epoch
        return float(min(1.0, max(0.0, done / span)))


class _StopRequested(Exception):
    """Raised inside fit by the progress callback to end training at once."""


class _ProgressCallback(keras.callbacks.Callback):
    """Keras callback that feeds the job and honours the stop flag every batch."""

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.job._stop.is_set():  # stop requested between batches: start no new one
            raise _StopRequested

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.job._on_batch(batch, logs or {})

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.job._on_epoch_begin()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.job._on_epoch_end(epoch, logs or {})


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None
) -> tf.data.Dataset:
    """A batched tf.data pipeline, shuffled with its own seed, autotune off (no exit stall).

    The pipeline shuffles and batches indices and takes each batch from the NumPy arrays, so
    TensorFlow never holds a copy of the whole set (``from_tensor_slices`` makes one: 166 MB
    for MNIST). The batches and their order are those of tf.data's shuffle of the examples
    themselves, since that shuffle never looks at the elements.
    """

    # TensorFlow's registry of Python functions outlives the dataset: through it, hold the
    # arrays weakly, so they are freed with the dataset (which holds them) and not kept forever
    refs = (weakref.ref(x), weakref.ref(y))

    def take(i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return refs[0]()[i], refs[1]()[i]  # (B, ...), (B, ...)

    types = (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype))
    shapes = ((None, *x.shape[1:]), (None, *y.shape[1:]))  # (B, ...), (B, ...)

    @tf.autograph.experimental.do_not_convert  # no Python control flow to convert
    def gather(i: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        xb, yb = tf.numpy_function(take, [i], types, stateful=False)
        xb.set_shape(shapes[0])
        yb.set_shape(shapes[1])
        return xb, yb

    order = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        order = order.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    ds = order.batch(batch_size).map(gather).with_options(options)
    ds._rnn_lab_arrays = (x, y)  # alive as long as the dataset
    return ds


def fit_model(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray] | None,
    cfg: TrainConfig,
    call: int,
    initial: int,
    target: int,
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """``model.fit`` from epoch ``initial`` up to ``target``; call ``call`` reshuffles anew."""
    train_ds = make_dataset(train[0], train[1], cfg.batch_size, cfg.seed * 7919 + call)
    val_ds = None
    if val is not None:
        val_ds = make_dataset(val[0], val[1], max(256, cfg.batch_size), None)
    model.fit(
        train_ds,
        epochs=target,
        initial_epoch=initial,
        validation_data=val_ds,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself, with its own seed
        verbose=0,
    )


class TrainingJob:
    """One model trained live, in a worker thread, across any number of start calls."""

    def __init__(
        self,
        model: keras.Model,
        train: tuple[np.ndarray, np.ndarray],
        val: tuple[np.ndarray, np.ndarray] | None,
        cfg: TrainConfig,
        on_epoch: Callable[[keras.Model, int], Any] | None = None,
        on_progress: Callable[[Snapshot], None] | None = None,
        pool: SlotPool | None = None,
    ) -> None:
        """Prepare a job; nothing runs until :meth:`start`."""
        self.model, self.train, self.val, self.cfg = model, train, val, cfg
        self.on_epoch, self.on_progress = on_epoch, on_progress
        self.pool = pool or DEFAULT_POOL
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._snap = Snapshot(batches_per_epoch=-(-len(train[0]) // cfg.batch_size))
        self._batch_logs: list[dict[str, float]] = []
        self._epoch_logs: list[dict[str, float]] = []
        self._extras: list[Any] = []
        self._calls = 0
        self._t_batch = 0.0
        self._rate = 0.0  # batches per second, smoothed
        self._fit_started = 0.0
        self.released = False  # True once release() dropped the data (and maybe the model)

    # ----- public API ---------------------------------------------------------------------
    def start(self, epochs: int | None = None) -> None:
        """Train ``epochs`` more epochs (default: the config's) in a new worker thread."""
        epochs = self.cfg.epochs if epochs is None else int(epochs)
        if epochs < 1:
            raise ValueError("epochs must be at least 1")
        if self.released:
            raise RuntimeError("this run's data was released to save memory; start a new run")
        with self._lock:
            if self._snap.active:
                raise RuntimeError("this job is already training; stop it first")
            self._stop.clear()
            target = self._snap.epoch + epochs
            self._publish(
                state="queued",
                epochs_target=target,
                call_start_epoch=self._snap.epoch,
                batch=0,
                stopped_early=False,
                error="",
                eta_seconds=0.0,
                samples_per_sec=0.0,
            )
            self._rate = 0.0
        self._thread = threading.Thread(target=self._run, args=(target,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask training to end after the current batch (or leave the queue at once)."""
        self._stop.set()
        with self._lock:
            if self._snap.state == "running":
                self._publish(state="stopping")

    def snapshot(self) -> Snapshot:
        """The latest published progress (thread-safe, immutable)."""
        with self._lock:
            return self._snap

    def wait(self, timeout: float | None = None) -> Snapshot:
        """Block until the current call ends (or the timeout passes); return the snapshot."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def release(self, keep_model: bool = False) -> None:
        """Drop the training data and epoch hook (and the model unless kept) to free memory.

        Curves, logs and history stay readable; the job can no longer train.
        """
        if self.snapshot().active:
            raise RuntimeError("stop the job before releasing it")
        if self._thread is not None:
            self._thread.join()
        self.train = self.val = None  # type: ignore[assignment]
        self.on_epoch = self.on_progress = None
        if not keep_model:
            self.model = None
        self.released = True

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as lists keyed like Keras's ``History.history``."""
        logs = self.snapshot().epoch_logs
        keys = sorted({k for log in logs for k in log if k != "epoch"})
        return {k: [float(log.get(k, np.nan)) for log in logs] for k in keys}

    def preload(self, epoch_logs: Any, seconds: float, extras: Any = (), batches: Any = ()) -> None:
        """Begin from a finished history (a pretrained model); :meth:`start` continues it."""
        logs = [dict(log) for log in epoch_logs]
        extras = list(extras) or [None] * len(logs)
        if len(extras) != len(logs):
            raise ValueError(f"{len(extras)} epoch extras for {len(logs)} epochs")
        with self._lock:
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

    # ----- worker side --------------------------------------------------------------------
    def _publish(self, **changes: Any) -> None:
        """Replace the snapshot (caller holds the lock)."""
        current = self._snap.__dict__ | changes
        current["version"] = self._snap.version + 1
        self._snap = Snapshot(**current)

    def _emit(self) -> None:
        """Tell the optional progress callback (outside the lock)."""
        if self.on_progress is not None:
            self.on_progress(self.snapshot())

    def _set_queue_position(self, position: int) -> None:
        with self._lock:
            if self._snap.queue_position != position:
                self._publish(queue_position=position)

    def _run(self, target: int) -> None:
        acquired = self.pool.acquire(self, self._stop, self._set_queue_position)
        if not acquired:
            with self._lock:
                self._publish(state="done", stopped_early=True, queue_position=0)
            self._emit()
            return
        try:
            with self._lock:
                self._publish(state="running", queue_position=0)
                initial = self._snap.epoch
            self._emit()
            self._calls += 1
            self._fit_started = time.perf_counter()
            final = self._fit(initial, target)
        except Exception as exc:  # a failure ends this run with a readable message
            final = {"state": "failed", "error": f"{type(exc).__name__}: {exc}"}
        finally:
            self.pool.release()
        with self._lock:
            spent = time.perf_counter() - self._fit_started if self._fit_started else 0.0
            self._publish(train_seconds=self._snap.train_seconds + spent, eta_seconds=0.0, **final)
        self._emit()

    def _fit(self, initial: int, target: int) -> dict[str, Any]:
        """Train from epoch ``initial`` up to ``target`` in this thread; the final state."""
        try:
            fit_model(
                self.model, self.train, self.val, self.cfg, self._calls, initial, target,
                [_ProgressCallback(self)],
            )  # fmt: skip
            return {"state": "done"}
        except _StopRequested:
            return {"state": "done", "stopped_early": True}

    def _on_epoch_begin(self) -> None:
        self._t_batch = time.perf_counter()
        with self._lock:
            self._publish(batch=0)

    def _on_batch(self, batch: int, logs: dict) -> None:
        if self._stop.is_set():
            raise _StopRequested
        self._record_batch(batch, logs)

    def _record_batch(self, batch: int, logs: dict, seconds: float | None = None) -> None:
        """Throughput, ETA and (every ``publish_every`` batches) a curve point.

        ``seconds`` is the batch's own duration when measured elsewhere (a child process whose
        messages arrive in bursts); otherwise the time since the previous batch here.
        """
        now = time.perf_counter()
        dt, self._t_batch = now - self._t_batch, now
        dt = dt if seconds is None else seconds
        if dt > 0:  # smoothed batches/s; the first batch of a call includes tracing
            rate = 1.0 / dt
            self._rate = rate if self._rate == 0 else 0.9 * self._rate + 0.1 * rate
        done = batch + 1
        if done % self.cfg.publish_every and done != self._snap.batches_per_epoch:
            return
        with self._lock:
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
                samples_per_sec=self._rate * self.cfg.batch_size,
                eta_seconds=left / self._rate if self._rate > 0 else 0.0,
            )
        self._emit()

    def _on_epoch_end(self, epoch: int, logs: dict) -> None:
        extra = self.on_epoch(self.model, epoch + 1) if self.on_epoch is not None else None
        self._record_epoch(epoch, logs, extra)

    def _record_epoch(self, epoch: int, logs: dict, extra: Any) -> None:
        """Keep one epoch's metrics and the task's report of it."""
        with self._lock:
            entry = {"epoch": float(epoch + 1)} | {k: float(v) for k, v in logs.items()}
            self._epoch_logs.append(entry)
            self._extras.append(extra)
            self._publish(
                epoch=epoch + 1,
                epoch_logs=tuple(self._epoch_logs),
                epoch_extras=tuple(self._extras),
            )
        self._emit()
