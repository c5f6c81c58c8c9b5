"""Where a job's ``fit`` runs: the :class:`Runner` interface, the in-thread runner, the shared
Keras callback and input pipeline.

A :class:`~rnn_core.engine.job.TrainingJob` owns the model, the slot and the
:class:`~rnn_core.engine.recorder.Recorder`; it hands each training call to its runner as a
:class:`RunRequest`. :class:`ThreadRunner` fits in the job's own worker thread;
:class:`~rnn_core.engine.process.ProcessRunner` fits in a child process. Both drive fit with one
callback class, :class:`ProgressCallback`, whose sink is the recorder here and a frame writer in
the child.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import keras
import numpy as np
import tensorflow as tf

from rnn_core.config import TrainConfig
from rnn_core.engine.recorder import Recorder
from rnn_core.engine.schedule import schedule_callbacks
from rnn_core.engine.stopping import StopRule, StopTracker
from rnn_core.tasks.base import Report

EpochReport = Callable[[Any, int], Any]  # the task's hook: (model, completed epochs) -> report


class StopRequested(Exception):
    """Raised inside fit by :class:`ProgressCallback` to end training at once."""


class StopSignal(threading.Event):
    """A job's Stop flag: a :class:`threading.Event` that also calls listeners when set.

    A runner whose training runs elsewhere (a child process, a remote worker) listens, so it
    forwards Stop the moment it is pressed, without polling.
    """

    def __init__(self) -> None:
        """A clear flag with no listeners."""
        super().__init__()
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    def set(self) -> None:
        """Raise the flag, then call every listener (in the calling thread)."""
        super().set()
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    @contextlib.contextmanager
    def listening(self, listener: Callable[[], None]) -> Iterator[None]:
        """Call ``listener`` on :meth:`set` while inside the block (at once if already set)."""
        with self._listeners_lock:
            self._listeners.append(listener)
        try:
            if self.is_set():
                listener()
            yield
        finally:
            with self._listeners_lock:
                self._listeners.remove(listener)


class ProgressSink(Protocol):
    """What receives fit's events: the :class:`Recorder`, or the child's frame writer."""

    def epoch_begin(self) -> None:
        """An epoch starts."""

    def batch(self, batch: int, logs: Mapping[str, float], seconds: float | None = None) -> None:
        """Batch ``batch`` (0-based in its epoch) ended after ``seconds`` of training."""

    def epoch_end(self, epoch: int, logs: Mapping[str, float], report: Any) -> None:
        """Epoch ``epoch`` (0-based) ended with these metrics and the task's report."""


class ProgressCallback(keras.callbacks.Callback):
    """Forwards fit's events to a sink and honours the stop flag before and after every batch.

    Each batch's duration is measured here, where it ran; the task's ``report`` hook (if any)
    is called on the model after every epoch and passed on. Each epoch's logs gain
    ``seconds`` (fit's wall time in this call so far, the report included) and the report's
    validation scores (``val_exact_match`` …), and are checked against the :class:`StopRule`
    (if any): training ends after the epoch that meets it, or restores the best epoch's
    weights when patience runs out; :attr:`reason` then says why.
    """

    def __init__(
        self,
        sink: ProgressSink,
        stop: threading.Event,
        report: EpochReport | None = None,
        rule: StopRule | None = None,
    ) -> None:
        """Feed ``sink``; raise :class:`StopRequested` once ``stop`` is set; end on ``rule``."""
        super().__init__()
        self.sink, self.stop, self.report, self.rule = sink, stop, report, rule
        self.t_batch = self.t_fit = time.perf_counter()
        self.tracker = StopTracker(rule) if rule is not None else None
        self.best_weights: list[np.ndarray] | None = None  # kept when patience may restore them
        self.last_epoch = 0  # the last 1-based epoch completed in this call
        self.reason = ""  # why training ended on its own ("" when it ran its epochs)

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Start the call's clock (the ``seconds`` of every epoch's logs)."""
        self.t_fit = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Start no new batch once Stop was asked."""
        if self.stop.is_set():
            raise StopRequested

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Report the batch (it ran: its update is in the weights), then honour Stop."""
        now = time.perf_counter()
        seconds, self.t_batch = now - self.t_batch, now
        self.sink.batch(batch, {k: float(v) for k, v in (logs or {}).items()}, seconds)
        if self.stop.is_set():
            raise StopRequested

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Reset the batch clock and tell the sink."""
        self.t_batch = time.perf_counter()
        self.sink.epoch_begin()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Make the task's report, pass it on with the metrics, then apply the stop rule."""
        report = self.report(self.model, epoch + 1) if self.report is not None else None
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        if isinstance(report, Report):
            metrics |= report.val_scores()
        metrics["seconds"] = time.perf_counter() - self.t_fit
        self.last_epoch = epoch + 1
        verdict = None
        if self.tracker is not None:
            verdict = self.tracker.epoch(epoch + 1, metrics)
            if verdict.best and self.rule.patience:
                self.best_weights = self.model.get_weights()
        self.sink.epoch_end(epoch, metrics, report)
        if verdict is not None and verdict.stop:
            self.end(verdict.restore, verdict.reason)

    def on_train_end(self, logs: dict | None = None) -> None:
        """After the last epoch (not after Stop): with patience, keep the best epoch's weights."""
        if self.tracker is not None and not self.reason:
            verdict = self.tracker.finish(self.last_epoch)
            if verdict.stop:
                self.end(verdict.restore, verdict.reason)

    def end(self, restore: bool, reason: str) -> None:
        """End fit after this epoch, with the best epoch's weights when ``restore``."""
        if restore and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        self.model.stop_training = True
        self.reason = reason


@dataclass(frozen=True)
class RunRequest:
    """One training call, as a job hands it to its runner."""

    model: keras.Model  # the job's model: trained in place, or whose weights are set back
    train: tuple[np.ndarray, np.ndarray]  # (x, y) training split
    val: tuple[np.ndarray, np.ndarray] | None  # (x, y) validation split, or None
    cfg: TrainConfig  # batch size, seed …
    call: int  # 1 for the job's first training call, 2 for the next (reshuffles anew) …
    initial: int  # completed epochs before this call
    target: int  # epoch count to train up to
    report: EpochReport | None = None  # the task's per-epoch hook, or None
    checkpoint: bytes | None = None  # model bytes with optimizer state from the last call


@dataclass(frozen=True)
class Outcome:
    """How a training call ended."""

    stopped: bool = False  # True when Stop ended it before ``target``
    error: str = ""  # readable failure text; "" when it did not fail
    checkpoint: bytes | None = None  # the trained model's bytes, when it trained elsewhere
    reason: str = ""  # why it ended on its own (the stop rule), e.g. "stopped at epoch 4: …"
    results: Any = None  # test results of the final weights, when the runner scored them
    score_seconds: float = 0.0  # wall time of that scoring (not training time)


@runtime_checkable
class Runner(Protocol):
    """Runs a job's training calls somewhere: in a thread here, in a child process, …

    The job keeps everything that is about the product: the model, the FIFO slot pool (it
    holds a slot around each :meth:`run`, so the queue position is the job's), the
    :class:`Recorder` and the Stop flag. A runner only trains: :meth:`run` is called in the
    job's worker thread, once per training call, and blocks until that call ends. It feeds
    ``recorder`` with ``epoch_begin`` / ``batch`` / ``epoch_end`` (for a model trained
    elsewhere, after setting ``request.model``'s weights to the ones trained), ends promptly
    once ``stop`` is set (within one batch), and returns an :class:`Outcome`; an exception
    means a failed run, shown with its message.

    The interface is made so that a pool of warm workers (``run`` borrows one and gives it
    back) or a remote runner (Ray: ``run`` submits the request and relays the remote
    progress, ``stop`` cancels through :meth:`StopSignal.listening`) can be added later
    without changing the job. Such runners rebuild the splits and the report from their own
    task and data rather than from ``request.train``; an opaque ``checkpoint`` (model bytes,
    optimizer state included) carries the training state from one call to the next.
    """

    def run(self, request: RunRequest, recorder: Recorder, stop: StopSignal) -> Outcome:
        """Train as ``request`` says, reporting to ``recorder``; how it ended."""
        ...

    def release(self) -> None:
        """Drop whatever the runner holds for this job (data, workers); it no longer runs."""
        ...


class ThreadRunner:
    """Fits the job's model in place, in the calling thread (the job's worker thread)."""

    def run(self, request: RunRequest, recorder: Recorder, stop: StopSignal) -> Outcome:
        """``model.fit`` with a :class:`ProgressCallback` whose sink is the recorder."""
        rule = StopRule.from_config(request.cfg)
        callback = ProgressCallback(recorder, stop, request.report, rule)
        try:
            fit_model(
                request.model, request.train, request.val, request.cfg, request.call,
                request.initial, request.target, [callback],
            )  # fmt: skip
        except StopRequested:
            return Outcome(stopped=True)
        return Outcome(reason=callback.reason)

    def release(self) -> None:
        """Nothing to drop: the job holds the model and data."""


LENGTH_POOL = 32  # batching by length sorts this many batches' worth of examples at a time
LENGTH_STEP = 32  # and cuts each batch to a multiple of this many steps (few distinct shapes)


def trim_padding(xb: np.ndarray, step: int = LENGTH_STEP) -> np.ndarray:
    """The columns of a (B, T) batch of word ids (0 = padding) that some row uses, widened to a
    multiple of ``step`` on the padding side: the whole reviews, with less of the padding."""
    used = np.flatnonzero(xb.any(axis=0))  # columns holding a word in some row
    t = xb.shape[1]
    lo, hi = (int(used[0]), int(used[-1]) + 1) if used.size else (t, t)
    width = min(t, max(step, -(-(hi - lo) // step) * step))
    lo = min(lo, t - width)  # pre-padded rows end at T: widen to the left
    return xb[:, lo : lo + width]  # (B, width)


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle_seed: int | None,
    by_length: bool = False,
) -> tf.data.Dataset:
    """A batched tf.data pipeline, shuffled with its own seed, autotune off (no exit stall).

    The pipeline shuffles and batches indices and takes each batch from the NumPy arrays, so
    TensorFlow never holds a copy of the whole set (``from_tensor_slices`` makes one: 166 MB
    for MNIST). The batches and their order are those of tf.data's shuffle of the examples
    themselves, since that shuffle never looks at the elements.

    ``by_length`` (word ids, 0 = padding): the shuffled examples are sorted by length within
    every ``LENGTH_POOL`` batches' worth, batched, the batches shuffled again, and each batch
    cut by :func:`trim_padding`; as many batches as without it, every example once per epoch.
    """

    lengths = np.count_nonzero(x.reshape(len(x), -1), axis=1) if by_length else None  # (N,)
    # TensorFlow's registry of Python functions outlives the dataset: through it, hold the
    # arrays weakly, so they are freed with the dataset (which holds them) and not kept forever
    refs = (weakref.ref(x), weakref.ref(y), weakref.ref(lengths) if by_length else None)

    def take(i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xb = refs[0]()[i]  # (B, ...)
        return (trim_padding(xb) if by_length else xb), refs[1]()[i]  # (B, ...), (B, ...)

    def by_size(i: np.ndarray) -> np.ndarray:
        return i[np.argsort(refs[2]()[i], kind="stable")]  # (P,) shortest first

    types = (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype))
    shapes = ((None, None if by_length else x.shape[1], *x.shape[2:]), (None, *y.shape[1:]))

    @tf.autograph.experimental.do_not_convert  # no Python control flow to convert
    def gather(i: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        xb, yb = tf.numpy_function(take, [i], types, stateful=False)
        xb.set_shape(shapes[0])
        yb.set_shape(shapes[1])
        return xb, yb

    @tf.autograph.experimental.do_not_convert
    def sort(i: tf.Tensor) -> tf.Tensor:
        out = tf.numpy_function(by_size, [i], tf.int64, stateful=False)
        out.set_shape((None,))
        return out

    order = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        order = order.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    if by_length:  # pools of whole batches, so no batch straddles two pools
        order = order.batch(batch_size * LENGTH_POOL).map(sort).unbatch()
    batches = order.batch(batch_size)
    if by_length:  # unbatch hides the count from Keras; it is the same as without sorting
        batches = batches.apply(tf.data.experimental.assert_cardinality(-(-len(x) // batch_size)))
    if by_length and shuffle_seed is not None:  # not shortest-first within a pool
        batches = batches.shuffle(LENGTH_POOL, seed=shuffle_seed + 1, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    ds = batches.map(gather).with_options(options)
    ds._rnn_lab_arrays = (x, y, lengths)  # alive as long as the dataset
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
    seed = cfg.seed * 7919 + call
    train_ds = make_dataset(train[0], train[1], cfg.batch_size, seed, cfg.batch_by_length)
    val_ds = None
    if val is not None:
        val_ds = make_dataset(val[0], val[1], max(256, cfg.batch_size), None)
    rate = schedule_callbacks(
        cfg.schedule, cfg.learning_rate, len(train[0]), cfg.batch_size, initial, target
    )
    try:
        model.fit(
            train_ds,
            epochs=target,
            initial_epoch=initial,
            validation_data=val_ds,
            callbacks=[*rate, *callbacks],  # the rate is set before the progress callback runs
            shuffle=False,  # the dataset shuffles itself, with its own seed
            verbose=0,
        )
    finally:  # also after Stop: the optimizer keeps the configured rate, not a fallen one
        if rate:
            model.optimizer.learning_rate = cfg.learning_rate
