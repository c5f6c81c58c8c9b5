"""Identical runs trained once: a registry of shared trainings and each student's :class:`Watch`.

Two runs with the same full spec (task, data, model and training configs, every seed included)
train the same model on the same data, so a server trains it once. A :class:`ShareRegistry`
keys trainings by :func:`spec_key`: a Start identical to a queued or running training watches
it (the same snapshots, the same place in the slot queue); one identical to a finished training
gets it at once from a cache of finished trainings bounded in bytes (emptied under memory
pressure). A watcher's Stop detaches only that watcher, which keeps the weights learned so far;
the training stops when its last watcher stops. When the training ends each watcher gets its
own copy of the model, made on first use, so Train more (a normal, unshared training of the
copy), the stepper and exports are its own. Every seed of a spec is a fixed integer, so any
spec can be shared. Nothing here imports TensorFlow until a model copy is made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rnn_core.config import RunSpec
from rnn_core.engine.memory import MB, MEMORY, ByteCache, Memory, cache_budget
from rnn_core.engine.recorder import Snapshot

SHARE_ENV = "RNN_LAB_SHARE_RUNS"  # "0" turns sharing of identical runs off
SHARED_MB_ENV = "RNN_LAB_SHARED_MB"  # MB of finished shared trainings kept for later Starts
LOG_BYTES = 200  # rough bytes of one batch or epoch log entry (a small dict of floats)


def spec_key(spec: RunSpec) -> str:
    """A canonical hash of the full spec (task, data, model, training, seeds): equal specs,
    equal keys; nothing of the session is in it."""
    plain = spec.to_dict() | {"data_type": type(spec.data).__name__}
    text = json.dumps(plain, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def sharing_on(environ: Any = None) -> bool:
    """True unless ``RNN_LAB_SHARE_RUNS`` is ``0`` (benchmarks that load the server turn it
    off so that identical sessions really train)."""
    environ = os.environ if environ is None else environ
    return environ.get(SHARE_ENV, "1").strip() != "0"


def default_bytes() -> int:
    """Bytes of finished shared trainings kept: ``$RNN_LAB_SHARED_MB``, else half the data
    cache's budget, at most 256 MB."""
    raw = os.environ.get(SHARED_MB_ENV, "").strip()
    if raw.isdigit():
        return int(raw) * MB
    return min(256 * MB, cache_budget() // 2)


@dataclass(frozen=True)
class Final:
    """How a shared training ended: its last snapshot and its model as ``.keras`` bytes."""

    snapshot: Snapshot  # the training's last snapshot
    blob: bytes  # the trained model (weights and optimizer state), as ``export.model_bytes``


@dataclass(eq=False)
class Shared:
    """One training and the watchers reading it."""

    key: str  # :func:`spec_key` of its spec
    job: Any  # the TrainingJob that trains once for every watcher
    params: int  # parameters of its model
    output_size: int  # width of its model's output
    watchers: dict[int, Any] = field(default_factory=dict)  # id(Watch) -> its owner
    started: bool = False  # True once the job's one training call was started
    closing: bool = False  # True once its last watcher stopped it: nobody may join any more
    final: Final | None = None  # set once the job ended
    results: dict[int, Any] = field(default_factory=dict)  # snapshot version -> test results
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards making ``final``
    data_ref: Any = None  # weak reference to the data its watchers read (None: not kept)


def shared_bytes(entry: Shared) -> int:
    """Bytes a finished shared training holds: its model bytes and its logs."""
    if entry.final is None:
        return 0
    snap = entry.final.snapshot
    logs = len(snap.batch_logs) + len(snap.epoch_logs) + len(snap.epoch_extras)
    return len(entry.final.blob) + LOG_BYTES * logs


class ShareRegistry:
    """Server-wide: spec keys -> the training queued, running or finished for them.

    Thread-safe. Live trainings are held while they train; complete finished ones (not stopped
    early, not failed) are kept in a :class:`~rnn_core.engine.memory.ByteCache` of
    ``max_bytes`` (default :func:`default_bytes`), least recently used dropped first and
    emptied when ``book`` reports memory pressure. :attr:`trained` counts the trainings
    started through it.
    """

    def __init__(self, max_bytes: int | None = None, book: Memory | None = MEMORY) -> None:
        """An empty registry keeping at most ``max_bytes`` of finished trainings."""
        self._lock = threading.Lock()
        self._live: dict[str, Shared] = {}
        limit = default_bytes() if max_bytes is None else max_bytes
        self.finished = ByteCache(limit, size=shared_bytes, book=book)
        self.trained = 0  # trainings started through this registry

    def find(self, key: str) -> Shared | None:
        """The training a new Start of ``key`` should watch: one queued or running (not
        stopping), or a complete finished one still cached; None: train anew."""
        with self._lock:
            entry = self._live.get(key)
        if entry is not None and self.settle(entry) is None and _joinable(entry):
            return entry
        return self.finished.peek(key)

    def add(self, key: str, job: Any, params: int, output_size: int, data: Any = None) -> Shared:
        """Register ``job`` as the training of ``key`` on ``data``, unless an identical Start
        registered one meanwhile (that one is returned, and ``job`` is not used)."""
        with self._lock:
            entry = self._live.get(key)
            if entry is not None and entry.final is None and _joinable(entry):
                return entry
            entry = Shared(key, job, params, output_size, data_ref=_weak(data))
            self._live[key] = entry
            return entry

    def data_for(self, key: str) -> Any:
        """The data a run of ``key``'s training still holds, so that its watchers read one
        read-only copy; None once no run holds it (a new Start loads its own)."""
        with self._lock:
            entry = self._live.get(key)
        entry = entry or self.finished.peek(key)
        ref = entry.data_ref if entry is not None else None
        return ref() if ref is not None else None

    def attach(self, watch: Watch) -> bool:
        """Count ``watch`` as a watcher of its training and start the training once; False
        (nothing done) when the training can no longer be joined: its last watcher stopped it
        after ``watch`` found it, or it ended stopped or failed."""
        entry = watch.entry
        with self._lock:
            if not _attachable(entry):
                return False
            entry.watchers[id(watch)] = watch.owner
            start = not entry.started and entry.final is None
            entry.started = True
            if start:
                self.trained += 1
        if start:
            entry.job.start()
        return True

    def leave(self, watch: Watch) -> bool:
        """Stop for ``watch``: True when it was detached (another watcher keeps the training
        going); False when it was the last one, and the training was asked to stop."""
        entry = watch.entry
        with self._lock:
            if any(k != id(watch) for k in entry.watchers):
                entry.watchers.pop(id(watch), None)
                return True
            entry.closing = True  # under the lock: a Start that found it trains anew
        entry.job.stop()
        return False

    def detach(self, watch: Watch) -> None:
        """``watch`` no longer reads its training (Train more on its copy, or released)."""
        with self._lock:
            watch.entry.watchers.pop(id(watch), None)

    def others(self, watch: Watch) -> int:
        """Students other than ``watch``'s owner watching its training."""
        with self._lock:
            owners = set(watch.entry.watchers.values())
        owners.discard(watch.owner)
        return len(owners)

    def settle(self, entry: Shared) -> Final | None:
        """Once ``entry``'s job ended: its :class:`Final` (made once; the job then releases its
        model and data), cached when the training is complete. None while it trains."""
        if entry.final is not None:
            return entry.final
        with entry.lock:
            if entry.final is None:
                if not entry.started or entry.job.snapshot().active:
                    return None
                from rnn_core.export import model_bytes

                snap = entry.job.wait()  # the training thread has ended its call
                blob = entry.job.checkpoint or model_bytes(entry.job.model)
                entry.final = Final(snap, blob)
                entry.job.release()  # copies come from the bytes: free the model and data
                with self._lock:
                    if self._live.get(entry.key) is entry:
                        del self._live[entry.key]
                if snap.state == "done" and not snap.stopped_early:
                    self.finished.put(entry.key, entry)
        return entry.final


class Watch:
    """One student's handle on a shared training, with the job API the pages use
    (``snapshot``, ``start``, ``stop``, ``wait``, ``release``, ``history``, ``model``).

    Before the training ends the handle shows its snapshots; :meth:`stop` detaches this
    watcher (frozen at that moment, with the weights so far) unless it is the last one, which
    stops the training. Once it ended, :attr:`model` is this watcher's own copy and the first
    :meth:`start` after that (Train more) trains the copy in a job of its own (``own_job``).
    """

    def __init__(
        self,
        registry: ShareRegistry,
        entry: Shared,
        own_job: Callable[[Any], Any],
        build: Callable[[], Any],
        owner: Any = None,
        reused: bool = False,
    ) -> None:
        """A handle on ``entry``; ``own_job(model)`` makes this watcher's own job on its own
        data, ``build()`` a fresh model of the spec; ``owner`` tells students apart."""
        self.registry, self.entry = registry, entry
        self.owner = id(self) if owner is None else owner  # the student (e.g. a tab key)
        self.reused = reused  # the training had finished before this Start
        self.memory_need = entry.job.memory_need  # estimated bytes of one training
        self.released = False  # True once release() dropped the data (and maybe the model)
        self._own_job, self._build = own_job, build
        self._lock = threading.RLock()
        self._begun = False  # start() was called once (this watcher is counted)
        self._frozen: Snapshot | None = None  # the snapshot when this watcher detached
        self._weights: list[Any] | None = None  # the shared weights when it detached
        self._model: Any = None  # this watcher's own copy of the model, made on first use
        self._own: Any = None  # this watcher's own job, once Train more ran
        self._base = 0  # added to the own job's snapshot versions (they keep increasing)

    # ----- reading --------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The own job's snapshot after Train more; the frozen one after a detach; else the
        shared training's, with the count of other watchers."""
        own = self._own
        if own is not None:
            snap = own.snapshot()
            return dataclasses.replace(snap, version=snap.version + self._base)
        if self._frozen is not None:
            return self._frozen
        final = self.registry.settle(self.entry)
        snap = final.snapshot if final is not None else self.entry.job.snapshot()
        return dataclasses.replace(snap, shared_with=self.registry.others(self), reused=self.reused)

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as lists keyed like Keras's ``History.history``."""
        return self.snapshot().history()

    @property
    def shared(self) -> bool:
        """True while this handle reads the shared training (not detached, no own job)."""
        return self._own is None and self._frozen is None

    @property
    def holds_model(self) -> bool:
        """True until :meth:`release` drops the model (its copy may not be made yet)."""
        return not self.released or self.model is not None

    @property
    def model(self) -> Any:
        """This watcher's model: its own copy once the training ended or it detached (made
        on first use); while the shared training runs, the shared model (read it only)."""
        with self._lock:
            if self._own is not None:
                return self._own.model
            if self._model is not None or self.released:
                return self._model
            if self._weights is not None:  # detached: a fresh model with the weights so far
                model = self._build()
                model.set_weights(self._weights)
                self._model, self._weights = model, None
                return model
            final = self.registry.settle(self.entry)
            if final is None:
                return self.entry.job.model
            from rnn_core.export import model_from_bytes

            self._model = model_from_bytes(final.blob)
            return self._model

    def score_once(self, version: int, evaluate: Callable[[], Any]) -> Any:
        """Test results of the weights at ``version``: computed once for every watcher of the
        finished training (the same weights and test data give the same scores), else by
        ``evaluate()`` for this watcher alone (its own job or a detached copy)."""
        if not self.shared or self.registry.settle(self.entry) is None:
            return evaluate()
        with self.entry.lock:
            if version not in self.entry.results:
                self.entry.results[version] = evaluate()
            return self.entry.results[version]

    # ----- acting ---------------------------------------------------------------------------
    def start(self, epochs: int | None = None) -> None:
        """First call: watch the shared training (starting it if nobody has). Later (Train
        more, once it ended): train this watcher's own copy ``epochs`` more epochs."""
        with self._lock:
            if self.released:
                raise RuntimeError("this run's data was released to save memory; start a new run")
            if not self._begun:
                target = self.entry.job.cfg.epochs
                if epochs is not None and int(epochs) != target:
                    raise ValueError(f"a shared run's first call trains its spec's {target} epochs")
                while not self.registry.attach(self):  # it closed after this Start found it
                    self._rejoin()
                self._begun = True
                return
            if self._own is None:
                snap = self.snapshot()
                if snap.active:
                    raise RuntimeError("this job is already training; stop it first")
                self._own = self._make_own(snap)
                self._base = snap.version + 1
                self.registry.detach(self)
            self._own.start(epochs)

    def stop(self) -> None:
        """Own job: stop it. Shared: detach this watcher, keeping the weights so far, while
        others watch; the last watcher stops the training (its weights are kept)."""
        with self._lock:
            if self._own is not None:
                self._own.stop()
                return
            if not self._begun or self._frozen is not None:
                return
            snap = self.snapshot()
            if not snap.active:
                return
            model = self.entry.job.model
            weights = model.get_weights() if model is not None else None
            if not self.registry.leave(self):
                return  # the last watcher: the training stops; its end gives the weights
            self._weights = weights
            self._frozen = dataclasses.replace(
                snap, state="done", stopped_early=True, detached=True, shared_with=0,
                queue_position=0, queue_reason="", eta_seconds=0.0, samples_per_sec=0.0,
                train_seconds=_seconds(snap), version=snap.version + 1,
            )  # fmt: skip

    def wait(self, timeout: float | None = None) -> Snapshot:
        """Block until the training this handle reads ends (or the timeout passes)."""
        if self._own is not None:
            self._own.wait(timeout)
        elif self._frozen is None:
            self.entry.job.wait(timeout)
        return self.snapshot()

    def release(self, keep_model: bool = False) -> None:
        """Stop reading the shared training and drop this watcher's data and copy (the model
        too unless kept). Curves stay readable; it can no longer train."""
        with self._lock:
            if self.snapshot().active:
                raise RuntimeError("stop the job before releasing it")
            if keep_model:
                self.model  # noqa: B018  (make the copy now: the shared bytes may be evicted)
            if self._own is not None:
                self._own.release(keep_model)
            if not keep_model:
                self._model = None
            self.registry.detach(self)
            self._weights = None
            self._own_job = self._build = None  # type: ignore[assignment]
            self.released = True

    def _rejoin(self) -> None:
        """Watch a new training of the same spec (registered unless an identical Start
        registered one meanwhile): the one this handle found can no longer be joined."""
        model = self._build()
        job = self._own_job(model)
        params, width = int(model.count_params()), int(model.output_shape[-1])
        self.entry = self.registry.add(self.entry.key, job, params, width)
        self.memory_need = self.entry.job.memory_need
        self.reused = False

    def _make_own(self, snap: Snapshot) -> Any:
        """This watcher's own job on its copy, its history preloaded up to the last epoch."""
        model = self.model
        self._model = None
        job = self._own_job(model)
        last_step = snap.epoch * snap.batches_per_epoch
        batches = [b for b in snap.batch_logs if b.get("step", 0) <= last_step]
        job.preload(snap.epoch_logs, _seconds(snap), snap.epoch_extras, batches)
        return job


def _weak(data: Any) -> Any:
    """A weak reference to ``data`` (None for None or a type that cannot have one)."""
    try:
        return None if data is None else weakref.ref(data)
    except TypeError:
        return None


def _joinable(entry: Shared) -> bool:
    """True while a new watcher can join: not started yet, queued or running (not stopping)."""
    return not entry.closing and entry.job.snapshot().state in ("idle", "queued", "running")


def _attachable(entry: Shared) -> bool:
    """True when a watcher that found ``entry`` may still count on it: joinable, or ended
    complete (done, not stopped early)."""
    if entry.closing:
        return False
    snap = entry.final.snapshot if entry.final is not None else entry.job.snapshot()
    if snap.state in ("idle", "queued", "running"):
        return True
    return snap.state == "done" and not snap.stopped_early


def _seconds(snap: Snapshot) -> float:
    """Fit seconds of the completed epochs (a running call adds its own only at its end)."""
    last = snap.epoch_logs[-1] if snap.epoch_logs else {}
    return float(last.get("seconds", snap.train_seconds))
