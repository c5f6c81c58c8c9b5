"""Training on a Ray cluster: each training call runs in a Ray actor, its progress relayed here.

Used when ``RNN_LAB_RAY_ADDRESS`` is set (a Streamlit secret's top-level key becomes that
variable); unset, nothing here runs and Ray is never imported. Ray schedules: a call asks the
cluster for an actor with ``RNN_LAB_RAY_CPUS`` CPUs (default 1), ``RNN_LAB_RAY_GPUS`` GPUs
(default 0) and the run's estimated memory (:func:`rnn_core.engine.memory.estimate`), and the
job waits, shown as "waiting for the cluster", until Ray places it (:class:`ClusterAdmission`
takes the local :class:`~rnn_core.engine.slots.SlotPool`'s place). The actor
(:class:`ClusterTrainer`, a threaded actor) runs the child's own
:func:`rnn_core.engine.worker.run` and keeps its frames; this process polls them from the job's
worker thread and feeds the recorder through :func:`rnn_core.engine.process.deliver`, so the
snapshots are the child runner's. Stop is a call on the actor served while fit runs; Train more
sends the last call's checkpoint to a new actor. Each dataset reaches the cluster once per
server, through Ray's object store (:class:`DataRefs`), not once per run. A killed actor or a
lost node ends that run with a readable message. The serving threads never wait on the
cluster: connecting, placing and polling all happen in the job's worker thread.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import math
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_core.engine.memory import mb_text
from rnn_core.engine.process import deliver
from rnn_core.engine.recorder import Recorder
from rnn_core.engine.runner import Outcome, RunRequest, StopSignal
from rnn_core.engine.slots import Refused
from rnn_core.export import model_bytes

ADDRESS_ENV = "RNN_LAB_RAY_ADDRESS"  # "host:port" of a running cluster, "auto" or "local"
CPUS_ENV = "RNN_LAB_RAY_CPUS"  # CPUs one training asks of the cluster (default 1)
GPUS_ENV = "RNN_LAB_RAY_GPUS"  # GPUs one training asks of the cluster (default 0)
WAITING = "waiting for the cluster"  # how a run the cluster has not placed yet is described
POLL_SECONDS = 0.25  # how often a running call fetches the actor's new frames
ANSWER_SECONDS = 60.0  # a cluster call unanswered this long fails the run
STOP_GRACE_SECONDS = 15.0  # an actor still training this long after Stop is killed
DESCRIBE_EVERY = 2.0  # seconds between two readings of the cluster's free resources
DATA_REFS_KEPT = 8  # datasets kept in the object store per server (the least recent go)
PACKAGE = Path(__file__).resolve().parents[1]  # rnn_core/, sent to the cluster's workers


def cluster_address(environ: Mapping[str, str] | None = None) -> str:
    """The Ray address trainings go to ("" when they stay on this machine)."""
    environ = os.environ if environ is None else environ
    return environ.get(ADDRESS_ENV, "").strip()


@dataclass(frozen=True)
class ClusterAsk:
    """What one training asks of the cluster besides its memory estimate."""

    cpus: float  # CPUs for the actor (TensorFlow uses that many threads)
    gpus: float  # GPUs for the actor (0: none; a fraction shares one)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClusterAsk:
        """``RNN_LAB_RAY_CPUS`` (default 1) and ``RNN_LAB_RAY_GPUS`` (default 0)."""
        environ = os.environ if environ is None else environ
        cpus = float(environ.get(CPUS_ENV, "").strip() or 1)
        gpus = float(environ.get(GPUS_ENV, "").strip() or 0)
        if cpus <= 0 or gpus < 0:
            raise ValueError(f"{CPUS_ENV} must be above 0 and {GPUS_ENV} at least 0")
        return cls(cpus, gpus)

    def text(self, need: int) -> str:
        """``1 CPU and 290 MB`` (with the GPUs when asked)."""
        cpus = f"{self.cpus:g} CPU" + ("" if self.cpus == 1 else "s")
        gpus = f", {self.gpus:g} GPU" + ("" if self.gpus == 1 else "s") if self.gpus else ""
        return f"{cpus}{gpus} and {mb_text(need)}" if need else f"{cpus}{gpus}"


# ----- the connection ----------------------------------------------------------------------------
_connect_lock = threading.Lock()


def runtime_env() -> dict[str, Any]:
    """The job's Ray runtime environment: this checkout's ``rnn_core`` for every worker."""
    return {"py_modules": [str(PACKAGE)], "excludes": ["__pycache__", "*.pyc"]}


def connect(address: str, **init: Any) -> Any:
    """The ``ray`` module, connected once per process to ``address`` (Ray's own forms:
    ``host:port``, ``auto``, ``local``); a connection the process already has is kept.

    ``init`` goes to ``ray.init`` (tests pass ``num_cpus``). Raises :class:`Refused` with a
    readable reason when the cluster cannot be reached.
    """
    import ray

    with _connect_lock:
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address,
                    runtime_env=runtime_env(),
                    log_to_driver=False,
                    configure_logging=False,
                    **init,
                )
            except Exception as exc:  # ConnectionError, RuntimeError, auth errors …
                why = f"the Ray cluster at {address} cannot be reached ({_line(exc)})"
                raise Refused(why) from exc
    return ray


def _line(exc: BaseException) -> str:
    """An exception's first non-empty line, short."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"


# ----- data through the object store ---------------------------------------------------------
def data_key(task: str, data: Any) -> str:
    """A digest of ``task`` and the data's content: equal copies give equal keys.

    Pickle protocol 5 hands NumPy arrays' memory over out of band, so the arrays are hashed
    where they are, not copied first.
    """
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(data, protocol=5, buffer_callback=buffers.append)
    digest = hashlib.blake2b(task.encode(), digest_size=20)
    digest.update(head)
    for buf in buffers:
        digest.update(buf.raw())
    return digest.hexdigest()


class DataRefs:
    """This server's datasets in the cluster's object store: one ``ray.put`` per content.

    The pages give each run its own copy of a cached dataset; equal copies share one object
    (keyed by :func:`data_key`). The :data:`DATA_REFS_KEPT` most recently used stay; a new
    connection (after ``ray.shutdown``) starts afresh.
    """

    def __init__(self, kept: int = DATA_REFS_KEPT) -> None:
        """An empty cache keeping up to ``kept`` datasets."""
        self.kept = kept
        self._refs: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._job: Any = None  # the Ray job the references belong to
        self.puts = 0  # how many datasets were sent to the object store

    def ref(self, ray: Any, task: str, data: Any) -> Any:
        """The ObjectRef holding ``data`` (put in the object store on its first use)."""
        key = data_key(task, data)
        job = ray.get_runtime_context().get_job_id()
        with self._lock:
            if job != self._job:
                self._refs.clear()
                self._job = job
            ref = self._refs.get(key)
            if ref is None:
                ref = ray.put(data)
                self.puts += 1
                self._refs[key] = ref
                while len(self._refs) > self.kept:
                    self._refs.popitem(last=False)
            self._refs.move_to_end(key)
            return ref


DATA = DataRefs()  # the server's datasets in the object store


# ----- the actor -------------------------------------------------------------------------------
class ClusterTrainer:
    """The Ray actor of one training call: fits with the child's own ``run`` and keeps its
    frames until this server takes them.

    Created as a threaded actor (``max_concurrency`` > 1), so :meth:`take` and :meth:`stop`
    are served while :meth:`fit` runs. Its constructor imports nothing heavy, so
    :meth:`ready` answers as soon as Ray has placed it.
    """

    def __init__(self, threads: int) -> None:
        """An actor whose TensorFlow will use ``threads`` threads."""
        self.threads = threads
        self._frames: list[tuple] = []
        self._taken = 0  # frames handed over and dropped
        self._batches = 0  # batches trained so far
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def ready(self) -> str:
        """The host it runs on, once placed."""
        return socket.gethostname()

    def fit(self, request: dict[str, Any], data: Any) -> None:
        """Train as the worker's ``run`` does; every frame is kept for :meth:`take`."""
        from rnn_core.engine import memory, worker

        try:
            memory.child_setup(self.threads)  # OOM killer's first choice; TF threads
            worker.run(request | {"data": data}, self._send, self._stop)
        except Exception as exc:  # reported as a failed run, as the child does
            self._send("failed", f"{type(exc).__name__}: {exc}")

    def _send(self, *frame: Any) -> None:
        """Keep one frame."""
        with self._lock:
            self._frames.append(frame)
            self._batches += frame[0] == "batch"

    def take(self, since: int) -> list[tuple]:
        """The frames from number ``since`` on (those before it are dropped)."""
        with self._lock:
            drop = max(0, since - self._taken)
            del self._frames[:drop]
            self._taken += drop
            return list(self._frames)

    def stop(self) -> int:
        """End the training after its current batch; the batches trained until now."""
        self._stop.set()
        with self._lock:
            return self._batches


_actor_class: list[Any] = []  # ray.remote(ClusterTrainer), made once


def _trainer(ray: Any) -> Any:
    """The actor class, made remote once."""
    if not _actor_class:
        _actor_class.append(ray.remote(ClusterTrainer))
    return _actor_class[0]


# ----- admission: Ray places the actor ---------------------------------------------------------
_waiting: list[object] = []  # runners of this server whose actor the cluster has not placed
_waiting_lock = threading.Lock()


def waiting_text(ray: Any, ask: ClusterAsk, need: int, waiting: int) -> str:
    """Why a run waits: the cluster's free CPUs (and GPUs) now, what it asks, who else waits."""
    free, total = ray.available_resources(), ray.cluster_resources()
    parts = [f"{free.get('CPU', 0):g} of {total.get('CPU', 0):g} CPUs free"]
    if ask.gpus:
        parts.append(f"{free.get('GPU', 0):g} of {total.get('GPU', 0):g} GPUs free")
    others = waiting - 1
    who = f"; {others} more run{'s' if others != 1 else ''} of this server wait" if others else ""
    return f"{WAITING} ({', '.join(parts)}; this run asks {ask.text(need)}{who})"


def infeasible(ray: Any, ask: ClusterAsk, need: int) -> str:
    """Why no node of the cluster could ever hold this actor ("" when one could)."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    for res in nodes:
        if (
            res.get("CPU", 0) >= ask.cpus
            and res.get("GPU", 0) >= ask.gpus
            and res.get("memory", math.inf) >= need
        ):
            return ""
    most = max((res.get("memory", 0) for res in nodes), default=0)
    return (
        f"no node of the Ray cluster can hold a training that asks {ask.text(need)} "
        f"(its largest node has {mb_text(most)} of memory for tasks); "
        "try a smaller model or training size"
    )


class ClusterAdmission:
    """The job's admission when Ray schedules: it stands where the local SlotPool would.

    :meth:`acquire` creates the call's actor with its resources and returns once Ray has
    placed it, reporting "waiting for the cluster" meanwhile; :meth:`release` ends the actor
    (its CPUs go back to the cluster).
    """

    def __init__(self, runner: RayRunner) -> None:
        """Admission for ``runner``'s calls."""
        self.runner = runner

    def acquire(
        self,
        token: object,
        cancel: threading.Event,
        on_wait: Callable[[int, str], None],
        need: int = 0,
        pid: Callable[[], int | None] | None = None,
    ) -> bool:
        """Place the actor; False if ``cancel`` is set first. Raises :class:`Refused` when
        the cluster cannot be reached or could never hold the run."""
        return self.runner.place(cancel, on_wait, need)

    def release(self, token: object = None) -> None:
        """End the call's actor."""
        self.runner.unplace()

    def usage(self) -> tuple[int, int]:
        """(0, runs of this server waiting for the cluster): the cluster runs them."""
        with _waiting_lock:
            return 0, len(_waiting)


# ----- the runner ------------------------------------------------------------------------------
class RayRunner:
    """Runs each training call in a fresh :class:`ClusterTrainer` actor on a Ray cluster.

    ``task`` names the task in :data:`rnn_core.tasks.TASKS`; ``data`` goes to the object store
    once per content (:data:`DATA`). The job's pool is :attr:`admission`.
    """

    def __init__(self, task: str, data: Any, address: str, ask: ClusterAsk | None = None) -> None:
        """A runner for ``task``'s ``data`` on the cluster at ``address``."""
        self.task, self.data, self.address = task, data, address
        self.ask = ask if ask is not None else ClusterAsk.from_env()
        self.admission = ClusterAdmission(self)
        self.actor: Any = None  # the current call's actor, from placing to its end
        self.ready_ref: Any = None  # the actor's ``ready`` call: done once placed
        self.host = ""  # where the last call's actor ran
        self.stopped_after: int | None = None  # batches the actor had run when Stop reached it

    def place(
        self, cancel: threading.Event, on_wait: Callable[[int, str], None], need: int
    ) -> bool:
        """Create the call's actor and wait until the cluster places it (or ``cancel``)."""
        on_wait(0, f"{WAITING}: connecting to {self.address}")
        ray = connect(self.address)
        refusal = infeasible(ray, self.ask, need)
        if refusal:
            raise Refused(refusal)
        options: dict[str, Any] = {
            "num_cpus": self.ask.cpus,
            "max_concurrency": 4,  # fit, take and stop at once
            "max_restarts": 0,  # a lost actor ends its run: the page says so
        }
        if self.ask.gpus:
            options["num_gpus"] = self.ask.gpus
        if need:
            options["memory"] = int(need)
        threads = max(1, math.ceil(self.ask.cpus))
        self.actor = _trainer(ray).options(**options).remote(threads)
        self.ready_ref = self.actor.ready.remote()
        with _waiting_lock:
            _waiting.append(self)
        try:
            described = -math.inf
            while True:
                if cancel.is_set():  # left the queue: the pending actor goes
                    self.unplace()
                    return False
                done, _ = ray.wait([self.ready_ref], timeout=0.2)
                if done:
                    return True  # placed (or failed to start: run() reads why)
                if time.monotonic() - described >= DESCRIBE_EVERY:
                    described = time.monotonic()
                    with _waiting_lock:
                        count = len(_waiting)
                    on_wait(0, waiting_text(ray, self.ask, need, count))
        finally:
            with _waiting_lock:
                _waiting.remove(self)

    def unplace(self) -> None:
        """End the call's actor, if any (its resources go back to the cluster)."""
        actor, self.actor, self.ready_ref = self.actor, None, None
        if actor is not None:
            import ray

            with contextlib.suppress(Exception):  # gone with its node, or no connection
                ray.kill(actor, no_restart=True)

    def run(self, request: RunRequest, recorder: Recorder, stop: StopSignal) -> Outcome:
        """Train the placed actor as ``request`` says, relaying its frames to ``recorder``."""
        import ray

        if self.data is None:
            raise RuntimeError("this runner's data was released")
        actor = self.actor
        if actor is None:
            raise RuntimeError("the training's Ray actor was not placed")
        message = {
            "task": self.task,
            "cfg": request.cfg,
            "call": request.call,
            "initial": request.initial,
            "target": request.target,
            "model": request.checkpoint or model_bytes(request.model),
        }
        try:
            self.host = ray.get(self.ready_ref, timeout=ANSWER_SECONDS)
            data = DATA.ref(ray, self.task, self.data)
            fit = actor.fit.remote(message, data)
            asked: list[Any] = []  # the Stop call on the actor, once pressed
            self.stopped_after = None
            with stop.listening(lambda: asked.append(actor.stop.remote())):
                outcome = self._relay(ray, actor, fit, request.model, recorder, stop)
            if asked and outcome.stopped:
                self.stopped_after = ray.get(asked[0], timeout=ANSWER_SECONDS)
            return outcome
        except ray.exceptions.GetTimeoutError:
            return Outcome(error=f"the Ray cluster did not answer for {ANSWER_SECONDS:.0f} s")
        except ray.exceptions.RayError as exc:
            return Outcome(error=lost_text(exc))

    def _relay(
        self, ray: Any, actor: Any, fit: Any, model: Any, recorder: Recorder, stop: StopSignal
    ) -> Outcome:
        """Poll the actor's frames into ``recorder`` until the call's last frame."""
        seen, stopped_at = 0, None
        while True:
            frames = ray.get(actor.take.remote(seen), timeout=ANSWER_SECONDS)
            seen += len(frames)
            for frame in frames:
                outcome = deliver(frame, model, recorder)
                if outcome is not None:
                    return outcome
            if stop.is_set():
                stopped_at = stopped_at or time.monotonic()
                if time.monotonic() - stopped_at > STOP_GRACE_SECONDS:
                    self.unplace()  # it did not end after its batch: kill it
                    return Outcome(stopped=True)
            done, _ = ray.wait([fit], timeout=POLL_SECONDS)
            if done:  # fit returned: its last frames are there, or it failed
                frames = ray.get(actor.take.remote(seen), timeout=ANSWER_SECONDS)
                for frame in frames:
                    outcome = deliver(frame, model, recorder)
                    if outcome is not None:
                        return outcome
                ray.get(fit)  # raises why it ended without a last frame
                return Outcome(error="the training on the cluster ended without a result")

    def release(self) -> None:
        """Drop the data (the job can no longer train)."""
        self.data = None
        self.unplace()


def lost_text(exc: BaseException) -> str:
    """A readable reason for a training the cluster lost (actor killed, node gone …)."""
    import ray

    if isinstance(exc, ray.exceptions.RayActorError):
        return (
            "the cluster lost this training: its Ray actor died (its node failed, ran out of "
            "memory or the actor was killed); press Train more to try again"
        )
    return f"the cluster lost this training: {_line(exc)}"
