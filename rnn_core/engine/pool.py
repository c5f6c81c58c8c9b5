"""Warm training workers: child processes with TensorFlow imported, reused for several runs.

This module imports no TensorFlow, so a page can start the pool (:func:`warm_workers`) without
the server importing it. A :class:`WorkerPool` owns up to :func:`pool_size` worker processes
(``python -m rnn_core.engine.worker``). Each is spawned by :func:`spawn_worker`, fits a tiny model
once while nobody waits, and then serves one run at a time: :meth:`WorkerPool.take` lends an idle
one, preferring the one that keeps the run's model (same :func:`model_key` as its last run), or
starts a fresh one; :meth:`WorkerPool.give_back` keeps it for the next run once it has
cleaned up, unless it failed, died, served ``max_runs`` runs or holds more than
``max_anonymous_mb`` of anonymous memory after a run (more after an XLA run: its programs,
``extra_mb`` of :meth:`WorkerPool.take`): then it ends and a new one warms up in
the background (like ``max_tasks_per_child``). While nothing trains, :meth:`WorkerPool.prime`
has an idle worker train a short run of the model a page shows, so that its Start finds that
model traced. A worker whose server goes away reads
end-of-file on its stdin and exits, so none outlives the server, even one killed outright.

Frames both ways are pickles on the worker's stdin/stdout: ``("run", request)``,
``("model", bytes)`` (when a run asked for it) and ``("stop",)`` in; ``("ready",)`` (waiting
for a request), then per run maybe ``need_model``, then ``epoch_begin``, ``batch``,
``epoch_end``, ``done`` or ``failed`` out (see :mod:`rnn_core.engine.worker`).
"""

from __future__ import annotations

import atexit
import contextlib
import copyreg
import hashlib
import itertools
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from rnn_core.engine import cores, memory
from rnn_core.engine.notices import warn_once

STOP_GRACE_SECONDS = 15.0  # after Stop, a child still running this long is killed
READY_TIMEOUT = 300.0  # a worker not ready this long after its spawn or its run is ended
DEFAULT_MAX_RUNS = 10  # runs one worker serves before it is replaced
DEFAULT_MAX_ANONYMOUS_MB = 600.0  # anonymous memory above which a worker is replaced after a run
WARM_WAIT_SECONDS = 45.0  # a Start waits this long for a warming worker, then spawns its own
MATCH_WAIT_SECONDS = 3.0  # a Start waits this long for a settling worker that keeps its model
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


def model_key(model: Any, cfg: Any, train: Any, val: Any) -> str:
    """What a worker's traced model depends on, hashed: the model config, the compile config
    without a plain float learning rate (a variable, assigned on reuse) and the optimizer's
    name, the batch size, and the per-example shapes and dtypes of the ``(x, y)`` splits.

    A worker keeps its last model under this key (:mod:`rnn_core.engine.worker`); the pool
    records it per worker to lend a run the worker that keeps its model. No TensorFlow import.
    """
    compiled = model.get_compile_config()
    opt = compiled.get("optimizer")
    if isinstance(opt, dict) and isinstance(opt.get("config", {}).get("learning_rate"), float):
        assigned = ("learning_rate", "name")  # the name: "adam_3" when a server built several
        opt = opt | {"config": {k: v for k, v in opt["config"].items() if k not in assigned}}
        compiled = compiled | {"optimizer": opt}
    splits = [train, *([val] if val is not None else [])]
    shapes = [cfg.batch_size, *[(a.shape[1:], str(a.dtype)) for xy in splits for a in xy]]
    parts = {"model": model.get_config(), "compile": compiled, "shapes": shapes}
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def spawn_worker(
    warm: bool = False, threads: int | None = None
) -> tuple[subprocess.Popen, IO[bytes]]:
    """Start ``python -m rnn_core.engine.worker`` with ``threads`` TensorFlow threads (default:
    :func:`rnn_core.engine.memory.child_threads`): it imports TensorFlow (with ``warm``, also
    fits a tiny model once), says ``ready`` and waits on stdin. Returns it and its stderr file."""
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    env |= memory.child_env(threads=threads)  # runs are also pinned to their share of the cores
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - the child's stderr, closed with it
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnn_core.engine.worker", *(["--warm"] if warm else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=env,
        cwd=_ROOT,
    )
    memory.set_oom_score(proc.pid)  # the kernel kills a training before the server
    return proc, errors


def anonymous_mb(pid: int, proc: Path = Path("/proc")) -> float:
    """Anonymous memory of a process in MB (:func:`rnn_core.engine.memory.anonymous_bytes`: what
    it alone holds, library files left out); 0 when it is gone."""
    return memory.anonymous_bytes(pid, proc) / 2**20


def admitted_workers() -> int:
    """How many worker processes the server may keep: the training slots' cap, which is
    min(CPU quota, what memory allows) unless ``RNN_LAB_MAX_TRAININGS`` sets it
    (:func:`rnn_core.engine.slots.default_capacity`)."""
    from rnn_core.engine.slots import DEFAULT_POOL

    return DEFAULT_POOL.capacity


def configured_workers() -> int:
    """``RNN_LAB_WARM_WORKERS`` (default 1; 0 turns the pool off, 2 keeps a second worker)."""
    return max(0, int(os.environ.get("RNN_LAB_WARM_WORKERS", "1")))


def pool_size(book: Any = None) -> int:
    """Warm workers to keep: min(configured, admitted); 0 when training runs in threads, and,
    unless ``RNN_LAB_WARM_WORKERS`` is set, 0 while the memory limit holds no typical training
    beside the server with TensorFlow loaded (``book``: :data:`rnn_core.engine.memory.MEMORY`).
    A warm worker there takes the memory the server's own pages need once they load
    TensorFlow (the Stepper on a trained model, a pretrained model); a run that fits starts
    its own worker at Start."""
    if os.environ.get("RNN_LAB_TRAIN_IN_THREAD") == "1":
        return 0
    if "RNN_LAB_WARM_WORKERS" not in os.environ:
        from rnn_core.engine.slots import TYPICAL_CHILD

        server = memory.SERVER_WITH_TF * memory.MB
        if (book or memory.MEMORY).fitting(TYPICAL_CHILD, server_at_least=server) == 0:
            return 0
    return min(configured_workers(), admitted_workers())


class Worker:
    """One worker process, its stderr file, how many runs it served and its current lease."""

    _leases = itertools.count(1)

    def __init__(self, proc: subprocess.Popen, errors: IO[bytes], cold: bool) -> None:
        """Wrap a spawned worker and its stderr file; ``cold``: spawned for a run that waits."""
        self.proc, self.errors, self.cold = proc, errors, cold
        self.runs = 0  # runs lent out so far
        self.key = ""  # model_key of its last run (the model it keeps); "" before any
        self.holds = False  # lent to a run of the key its last run had (it keeps that model)
        self.lease = 0  # id of the run it serves now; 0 when none
        self.threads = 0  # TensorFlow threads it was started with; 0 when not known
        self.extra_mb = 0.0  # MB its current or last run may hold above the pool's bound (XLA)
        self._lock = threading.Lock()  # orders stop frames, the kill timer and lease ends
        self._timer: threading.Timer | None = None

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def begin(self) -> int:
        """Start a lease (one run); returns its id."""
        with self._lock:
            self.lease = next(self._leases)
            self.runs += 1
            return self.lease

    def end(self) -> None:
        """End the current lease: a late Stop or kill timer no longer reaches this worker."""
        with self._lock:
            self.lease = 0
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def send(self, message: Any) -> None:
        """Write a frame to the worker (under the lock that orders it with stop frames)."""
        with self._lock:
            write_frame(self.proc.stdin, message)

    def stop(self, lease: int) -> None:
        """Ask lease ``lease``'s run to stop after its current batch; kill the worker if it
        still runs :data:`STOP_GRACE_SECONDS` later. Nothing once that lease has ended."""
        with self._lock:
            if self.lease != lease:
                return
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):  # already gone
                write_frame(self.proc.stdin, ("stop",))
            if self._timer is None:
                self._timer = threading.Timer(STOP_GRACE_SECONDS, self._kill, args=(lease,))
                self._timer.daemon = True
                self._timer.start()

    def _kill(self, lease: int) -> None:
        """Kill the worker if it still serves ``lease``."""
        with self._lock:
            if self.lease == lease:
                kill_worker(self.proc)

    def exit_code(self) -> int | None:
        """Its exit code, once it has ended (killed if it has not within the grace)."""
        try:
            return self.proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def stderr_since(self, offset: int) -> bytes:
        """What the worker wrote on stderr from byte ``offset`` on."""
        self.errors.seek(offset)
        return self.errors.read()

    def stderr_size(self) -> int:
        """Bytes written on stderr so far."""
        return self.errors.seek(0, os.SEEK_END)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """Read frames up to the worker's ``ready``; False if it died or took over ``timeout``.

        Only for a worker nobody else reads from (settling after a run, or warming up).
        """
        timer = threading.Timer(timeout, kill_worker, args=(self.proc,))
        timer.daemon = True
        try:
            timer.start()
        except RuntimeError:  # the interpreter is exiting: no new threads, no new workers
            return False
        try:
            while True:
                if read_frame(self.proc.stdout) == ("ready",):
                    return True
        except (EOFError, pickle.UnpicklingError, OSError, ValueError):
            return False
        finally:
            timer.cancel()

    def close(self) -> None:
        """End the worker: close its pipes (it exits on end-of-file), reap it, close its files."""
        close_worker(self.proc)
        self.errors.close()


def _log_unready(worker: Worker) -> None:
    """Tell the server's log that a worker did not become ready, with its stderr's last lines."""
    with contextlib.suppress(OSError, ValueError):
        tail = worker.stderr_since(max(0, worker.stderr_size() - 2000)).decode(errors="replace")
        print(
            f"RNN Lab: training worker {worker.pid} was not ready (exit code "
            f"{worker.proc.poll()}, anonymous memory {anonymous_mb(worker.pid):.0f} MB); "
            f"its stderr ends:\n{tail}",
            file=sys.stderr,
            flush=True,
        )


def _in_background(fn: Any, *args: Any) -> None:
    """Run ``fn(*args)`` in a daemon thread; here and now if the interpreter is exiting."""
    try:
        threading.Thread(target=fn, args=args, daemon=True).start()
    except RuntimeError:  # can't create new thread at interpreter shutdown
        fn(*args)


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


class WorkerPool:
    """Up to ``size()`` warm worker processes, each lent to one run at a time and reused."""

    def __init__(
        self,
        size: Any = pool_size,
        max_runs: int | None = None,
        max_anonymous_mb: float | None = None,
    ) -> None:
        """A pool of ``size()`` workers (a callable, read at every decision, or an int); none
        starts before :meth:`warm` or :meth:`take`. Limits default to ``RNN_LAB_WORKER_MAX_RUNS``
        and ``RNN_LAB_WORKER_MAX_MB``."""
        self.size = size if callable(size) else (lambda: int(size))
        env = os.environ.get
        self.max_runs = max_runs or int(env("RNN_LAB_WORKER_MAX_RUNS", DEFAULT_MAX_RUNS))
        self.max_anonymous_mb = max_anonymous_mb or float(
            env("RNN_LAB_WORKER_MAX_MB", DEFAULT_MAX_ANONYMOUS_MB)
        )
        self.idle: list[Worker] = []  # ready for a run, oldest first
        self.owned: set[Worker] = set()  # idle, lent, warming or settling workers of the pool
        self.pending = 0  # owned workers warming up or settling after a run
        self.settling: set[Worker] = set()  # owned workers cleaning up after a run
        self.retired = 0  # workers ended by the pool (died, failed, recycled, surplus)
        self.running: list[Worker] = []  # workers lent to a run now (pooled or not), oldest first
        self._pin_lock = threading.Lock()  # one pinning at a time, each from the current list
        self._cond = threading.Condition()
        self._filling = False  # a thread is starting workers
        self._closed = False
        self._wanted: tuple[str, Any] | None = None  # the prime asked for last, not yet made
        self._asked: set[str] = set()  # idents of the primes asked for (each is made once)
        self.priming = False  # a prime is being made or trained now
        self.primed = 0  # workers that hold a primed model (primes trained to their end)
        self._hooked = False  # close() is registered to run at interpreter exit

    # ----- lending ------------------------------------------------------------------------
    def take(
        self, cancel: threading.Event | None = None, key: str = "", extra_mb: float = 0.0
    ) -> Worker | None:
        """A worker for a run (:meth:`_take`), pinned with the other running ones to its share
        of the cores (:func:`rnn_core.engine.cores.share`). ``extra_mb``: what the run may
        leave it holding above ``max_anonymous_mb`` without being replaced (an XLA-compiled
        run's compiler and programs, :data:`rnn_core.engine.memory.XLA_EXTRA`)."""
        worker = self._take(cancel, key)
        if worker is not None:
            worker.extra_mb = float(extra_mb)
            with self._cond:
                self.running.append(worker)
            self._share()
        return worker

    def _share(self) -> None:
        """Pin the running workers to their shares of the cores, as the list is now."""
        with self._pin_lock:
            with self._cond:
                pids = [w.pid for w in self.running]
            cores.share(pids)

    def _take(self, cancel: threading.Event | None, key: str) -> Worker | None:
        """An idle live worker, preferring one whose last run had :func:`model_key` ``key``
        (it keeps that run's traced model), then the one idle longest; one settling after a
        run of ``key`` is waited for up to :data:`MATCH_WAIT_SECONDS`. Else a worker that is
        warming or settling, once ready (waiting at most ``RNN_LAB_WARM_WAIT_SECONDS``); else
        a new one. The worker lent records ``key``, and in ``holds`` whether its last run had
        that key. None if ``cancel`` is set while waiting."""
        dead: list[Worker] = []
        patience = float(os.environ.get("RNN_LAB_WARM_WAIT_SECONDS", WARM_WAIT_SECONDS))
        start = time.monotonic()
        deadline = start + patience
        try:
            with self._cond:
                while True:
                    for worker in [w for w in self.idle if not w.alive()]:
                        self.idle.remove(worker)
                        self.owned.discard(worker)
                        dead.append(worker)
                    match = [w for w in self.idle if key and w.key == key]
                    coming = bool(key) and any(w.key == key for w in self.settling)
                    late = time.monotonic() - start > MATCH_WAIT_SECONDS
                    if match or (self.idle and (late or not coming)):
                        worker = match[-1] if match else self.idle[0]  # else: idle longest
                        self.idle.remove(worker)
                        worker.holds, worker.key = bool(match), key
                        return worker
                    if self.pending == 0 or self._closed or time.monotonic() > deadline:
                        break  # nothing to wait for, or a warm-up that takes too long
                    if cancel is not None and cancel.is_set():
                        return None
                    self._cond.wait(timeout=0.1)  # a warming or settling worker, soon ready
                own = not self._closed and len(self.owned) < self.size()
                worker = self._spawn(warm=False)
                worker.key = key
                if own:
                    self._hook()
                    self.owned.add(worker)
                return worker
        finally:
            if dead:
                self._retire(dead)

    def give_back(self, worker: Worker, healthy: bool) -> None:
        """A run ended with ``worker``: keep it if ``healthy`` and under its limits (after it
        cleaned up and said ready, in a background thread), else end it and warm a new one."""
        worker.end()
        with self._cond:
            if worker in self.running:
                self.running.remove(worker)
        self._share()  # the others may use the cores it had
        with self._cond:  # the last run ended: idle workers started with a share are replaced
            thin = [w for w in self.idle if self._thin(w)]
            for w in thin:
                self.idle.remove(w)
                self.owned.discard(w)
        if thin:
            self._retire(thin)
        with self._cond:
            keep = (
                healthy
                and worker in self.owned
                and worker.runs < self.max_runs
                and len(self.owned) <= self.size()
                and not self._closed
            )
            if keep:
                self.pending += 1
                self.settling.add(worker)
            else:
                self.owned.discard(worker)
        if keep:
            _in_background(self._settle, worker)
        else:
            self._retire([worker])

    def _settle(self, worker: Worker) -> None:
        """Wait for a returned (or new) worker's ``ready``; idle it unless a run it served left
        it above the memory bound. A new worker is never ended for its memory: its replacement
        would hold as much, and the pool would spawn workers without end."""
        ready = worker.wait_ready()
        mb = anonymous_mb(worker.pid)
        heavy = mb > self.max_anonymous_mb + worker.extra_mb
        if heavy and worker.runs == 0:
            warn_once(
                "heavy new worker",
                f"RNN Lab: a new training worker holds {mb:.0f} MB, above "
                f"RNN_LAB_WORKER_MAX_MB={self.max_anonymous_mb:.0f}; workers are kept "
                "until they have served runs",
            )
        ok = ready and not (heavy and worker.runs > 0)
        with self._cond:
            ok = ok and not self._thin(worker)
            self.pending -= 1
            self.settling.discard(worker)
            if ok and not self._closed:
                self.idle.append(worker)
            else:
                self.owned.discard(worker)
            self._cond.notify_all()
        if not ready:
            _log_unready(worker)
        if not ok:
            self._retire([worker])
        self._prime_next()

    def _retire(self, workers: list[Worker]) -> None:
        """End these workers (in the background) and warm replacements."""
        with self._cond:
            self.retired += len(workers)
        for worker in workers:
            _in_background(worker.close)
        self.warm()

    # ----- threads --------------------------------------------------------------------------
    def _spawn(self, warm: bool) -> Worker:
        """A new worker with the TensorFlow threads of a run beside the running ones
        (:func:`rnn_core.engine.memory.child_threads`); called under the lock."""
        threads = memory.child_threads(len(self.running))
        worker = Worker(*spawn_worker(warm=warm, threads=threads), cold=not warm)
        worker.threads = threads
        return worker

    def _thin(self, worker: Worker) -> bool:
        """True for a worker started with a share of the cores while nothing trains now: it
        would train a run alone slower than a new one (called under the lock)."""
        return not self.running and 0 < worker.threads < memory.child_threads(0)

    # ----- warming ------------------------------------------------------------------------
    def warm(self) -> None:
        """Start workers in a background thread, one after another, up to ``size()``."""
        with self._cond:
            if self._filling or self._closed or len(self.owned) >= self.size():
                return
            self._filling = True
            self._hook()
        try:
            threading.Thread(target=self._fill, daemon=True).start()
        except RuntimeError:  # the interpreter is exiting: no new workers
            with self._cond:
                self._filling = False

    def _fill(self) -> None:
        """Spawn warm workers one at a time (so their imports do not share the CPU)."""
        try:
            while True:
                with self._cond:
                    if self._closed or len(self.owned) >= self.size():
                        return
                    worker = self._spawn(warm=True)
                    self.owned.add(worker)
                    self.pending += 1
                self._settle(worker)
        finally:
            with self._cond:
                self._filling = False

    # ----- priming ------------------------------------------------------------------------
    def prime(self, ident: str, make: Any) -> None:
        """Have an idle worker train, while nothing trains, the short run ``make()`` returns as
        ``(request, key)``: a ``run`` request of a few batches of a model a page shows, and
        that model's :func:`model_key`. The worker then keeps that model (as after any run), so
        a Start of it is lent that worker and sends no model. ``make`` runs in a background
        thread; each ``ident`` is made once; the latest asked waits for the trainings to end."""
        with self._cond:
            if ident in self._asked or self._closed:
                return
            if len(self._asked) > 1000:  # bounded: an old ident may be primed again
                self._asked.clear()
            self._asked.add(ident)
            self._wanted = (ident, make)
        self._prime_next()

    def _prime_next(self) -> None:
        """Start the wanted prime in a background thread when a worker is idle, nothing trains
        and no other prime is under way."""
        with self._cond:
            if self._wanted is None or self.priming or self._closed:
                return
            if self.running or not self.idle:
                return
            _, make = self._wanted
            self._wanted, self.priming = None, True
        _in_background(self._prime, make)

    def _prime(self, make: Any) -> None:
        """Make the prime's request, lend it an idle worker (unless one keeps that model
        already or a training has started meanwhile) and read its frames to the end."""
        worker = None
        try:
            try:
                request, key = make()
            except Exception as exc:  # a spec that cannot be built is not primed
                warn_once(f"prime {type(exc).__name__}", f"RNN Lab: no prime: {exc}")
                return
            with self._cond:
                held = any(w.key == key for w in [*self.idle, *self.settling])
                if held or self.running or not self.idle or self._closed:
                    return
                worker = self.idle.pop(0)  # idle longest
                worker.key = key
                self.pending += 1
                self.settling.add(worker)
            if _train_prime(worker, request):
                with self._cond:
                    self.primed += 1
            else:
                worker.key = ""  # a worker whose run failed keeps no model
        finally:
            with self._cond:
                self.priming = False
                self._cond.notify_all()
            if worker is not None:
                self._settle(worker)  # back to idle once it said ready
            else:
                self._prime_next()

    # ----- the end ------------------------------------------------------------------------
    def _hook(self) -> None:
        """Have :meth:`close` run at interpreter exit (once; called under the lock)."""
        if not self._hooked:
            atexit.register(self.close)
            self._hooked = True

    def wait_idle(self, count: int, timeout: float) -> bool:
        """Block until ``count`` workers are idle (or ``timeout`` passes); True if they are."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.idle) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=min(left, 0.5))
            return True

    def close(self) -> None:
        """End every worker of the pool; later takes start unpooled workers."""
        with self._cond:
            self._closed = True
            workers = list(self.owned)
            self.owned.clear()
            self.idle.clear()
            self._cond.notify_all()
        for worker in workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.proc.stdin.close()  # end-of-file: an idle worker exits, a busy one stops
        for worker in workers:
            worker.close()


def _train_prime(worker: Worker, request: dict[str, Any]) -> bool:
    """Send ``request`` to ``worker`` and read its frames up to the run's last; True if the run
    ended well (``done``). A worker still training it :data:`READY_TIMEOUT` later is killed."""
    timer = threading.Timer(READY_TIMEOUT, kill_worker, args=(worker.proc,))
    timer.daemon = True
    try:
        timer.start()
        worker.send(("run", request))
        while True:
            kind = read_frame(worker.proc.stdout)[0]
            if kind in ("done", "failed"):
                return kind == "done"
    except (EOFError, pickle.UnpicklingError, OSError, ValueError, RuntimeError):
        return False  # it died (its settling says so), or the interpreter is exiting
    finally:
        timer.cancel()


POOL = WorkerPool()  # the server's pool; nothing starts before warm_workers() or a training


def warm_workers() -> None:
    """Start the server's warm workers in the background (pages call this after drawing)."""
    POOL.warm()
