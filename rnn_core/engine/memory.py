"""Memory and CPU of this server: cgroup limits, the process tree's usage, a training child's
estimated size, and whether one more training fits now.

The limit is the memory cgroup's (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, the lowest
along the cgroup's ancestors), else the machine's ``MemTotal``. Usage is the proportional set
size (PSS, from ``/proc/<pid>/smaps_rollup``) of this process and all its descendants, so the
TensorFlow libraries every process maps count once; where a cgroup is set, the cgroup's own
working set (usage less inactive file cache) is taken when it is larger. Without a cgroup
limit the room is the kernel's ``MemAvailable``. A training child's size is estimated from a
measured table (``CHILD_BASE``) scaled with its data and model (:func:`estimate`). A run is
admitted when its estimate, the part of running children's estimates not yet reached, and a
safety margin all fit in the room (:meth:`Memory.can_start`). A run that can never fit beside
the server is refused (:meth:`Memory.refusal`); there the server counts without the library
pages beyond :data:`FILE_KEPT`, which the kernel drops under pressure. Nothing here imports
TensorFlow.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MB = 1 << 20
UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63
CHILD_OOM_SCORE = 1000  # a training child is the kernel's first choice when memory runs out
SERVER_OOM_SCORE = -500  # the server is one of its last (lowering needs CAP_SYS_RESOURCE)
THREADS_ENV = "RNN_LAB_CHILD_THREADS"  # TensorFlow threads a training child may use
SERVER_WINDOW = 60.0  # seconds of server readings the server's floor is the lowest of

log = logging.getLogger(__name__)

# Private memory (RssAnon peak, MB) of a training child of the task with little data and a
# small model: Python, TensorFlow and Keras imported, the first trace, the request read (IMDB's
# includes its word index). Fitted to ``benchmarks/child_memory.py`` peaks (benchmarks/RESULTS.md,
# "Training child memory"): addition 283-303, text 294-333, MNIST 332-349, IMDB 427-539 MB.
CHILD_BASE = {"addition": 290, "imdb": 380, "mnist": 290, "text": 320, "forecast": 290}
DEFAULT_BASE = 380  # a task not in the table
DATA_COPIES = 1.25  # the child holds its data once (batches are cut from the arrays) + slack
PARAM_COPIES = 8  # float32 copies per weight: weights, grads, 2 Adam slots, frames, checkpoint
XLA_EXTRA = 256  # MB an XLA-compiled run adds: the compiler and its programs (121-248 measured)
BIDIRECTIONAL_EXTRA = 110  # MB per Bidirectional layer beyond its activations (79-97 measured)
# MB of library pages (TensorFlow's shared objects) the server and a training child keep in use
# together when memory is short: the rest of the server's file pages are dropped by the kernel
# and read again if needed (144-181 MB measured beside a training in a 1 GB cgroup)
FILE_KEPT = 192
# MB of its own (anonymous) memory a server holds once a page has loaded TensorFlow (a model
# read, scored or stepped through): 241-371 MB measured on a 1 GB box (RESULTS)
SERVER_WITH_TF = 300
# float32 values kept per timestep, sample and unit for backpropagation through time
CELL_ACTIVATIONS = {"SimpleRNN": 4, "GRU": 10, "LSTM": 12, "Dense": 2}


def margin_for(limit: int) -> int:
    """Safety margin kept free under a limit: 5 % of it, at least 128 MB."""
    return max(128 * MB, limit // 20)


# ----- reading the machine ---------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """What this server may use: memory (bytes) and CPU (cores), and where each figure is from."""

    memory: int  # bytes for the server and its children together
    memory_source: str  # e.g. "cgroup v2 memory.max" or "MemTotal (no cgroup limit)"
    cgroup: Path | None  # the memory cgroup's directory when it sets the limit, else None
    cgroup_version: int  # 2 or 1 when ``cgroup`` is set, else 0
    cpus: float  # cores this server may use (cgroup quota, else the CPUs it may run on)
    cpu_source: str  # e.g. "cgroup v2 cpu.max" or "CPU affinity"

    @property
    def limited(self) -> bool:
        """True when a cgroup sets the memory limit (else the room is MemAvailable)."""
        return self.cgroup is not None


def _read(path: Path) -> str | None:
    """A small file's stripped text, or None when it cannot be read."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cgroup_paths(proc: Path) -> tuple[str | None, dict[str, str]]:
    """This process's cgroup: the v2 path and the v1 path of each controller."""
    v2, v1 = None, {}
    for line in (_read(proc / "self" / "cgroup") or "").splitlines():
        hier, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hier == "0" and controllers == "":
            v2 = path
        for name in controllers.split(","):
            if name:
                v1[name] = path
    return v2, v1


def _chain(base: Path, rel: str) -> list[Path]:
    """The cgroup's directory and its ancestors up to the mount root (deepest first).

    A container often sees its own cgroup as the root of the mount while
    ``/proc/self/cgroup`` still names the host's path: then only the root is read.
    """
    here = base / rel.lstrip("/")
    if not here.is_dir():
        return [base]
    out = [here]
    while here != base and base in here.parents:
        here = here.parent
        out.append(here)
    return out


def _lowest(paths: Iterable[Path], name: str) -> tuple[int | None, Path | None]:
    """The lowest numeric limit in file ``name`` along ``paths`` ("max" or huge = none)."""
    best: tuple[int | None, Path | None] = (None, None)
    for d in paths:
        text = _read(d / name)
        if text is None or not text.isdigit() or int(text) >= UNLIMITED:
            continue
        if best[0] is None or int(text) < best[0]:
            best = (int(text), d)
    return best


def _quota(paths: Iterable[Path], v2: bool) -> float | None:
    """The lowest CPU quota in cores along ``paths`` (None when there is none)."""
    best = None
    for d in paths:
        if v2:
            quota, _, period = (_read(d / "cpu.max") or "max").partition(" ")
        else:
            quota, period = _read(d / "cpu.cfs_quota_us") or "-1", _read(d / "cpu.cfs_period_us")
        if not quota.isdigit() or not (period or "").isdigit() or int(period) == 0:
            continue
        cores = int(quota) / int(period)
        best = cores if best is None else min(best, cores)
    return best


def meminfo(proc: Path = Path("/proc")) -> dict[str, int]:
    """``/proc/meminfo`` in bytes (MemTotal, MemAvailable, …)."""
    out = {}
    for line in (_read(proc / "meminfo") or "").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0]) * (1024 if parts[-1] == "kB" else 1)
    return out


def read_limits(sys_root: Path = Path("/sys/fs/cgroup"), proc: Path = Path("/proc")) -> Limits:
    """This process's memory limit and CPU quota from its cgroup (v2, then v1), else the machine."""
    v2_rel, v1_rel = _cgroup_paths(proc)
    total = meminfo(proc).get("MemTotal", 0)
    memory, source, cgroup, version = total, "MemTotal (no cgroup limit)", None, 0
    cpus: float | None = None
    cpu_source = ""
    v2_base = next(
        (b for b in (sys_root, sys_root / "unified") if (b / "cgroup.controllers").exists()), None
    )
    if v2_rel is not None and v2_base is not None:
        chain = _chain(v2_base, v2_rel)
        limit, where = _lowest(chain, "memory.max")
        if limit is not None:
            memory, source, cgroup, version = limit, "cgroup v2 memory.max", where, 2
        cpus = _quota(chain, v2=True)
        cpu_source = "cgroup v2 cpu.max" if cpus is not None else ""
    if cgroup is None and "memory" in v1_rel:
        limit, where = _lowest(
            _chain(sys_root / "memory", v1_rel["memory"]), "memory.limit_in_bytes"
        )
        if limit is not None:
            memory, source, cgroup, version = limit, "cgroup v1 memory.limit_in_bytes", where, 1
    if cpus is None:
        rel = v1_rel.get("cpu", v1_rel.get("cpu,cpuacct"))
        base = next((sys_root / n for n in ("cpu", "cpu,cpuacct") if (sys_root / n).is_dir()), None)
        if rel is not None and base is not None:
            cpus = _quota(_chain(base, rel), v2=False)
            cpu_source = "cgroup v1 cpu.cfs_quota_us" if cpus is not None else ""
    if total and memory > total:  # a cgroup limit above the machine's memory
        memory, source, cgroup, version = total, "MemTotal (no cgroup limit)", None, 0
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cpus is None or cpus > cores:
        cpus, cpu_source = float(cores), "CPU affinity"
    return Limits(memory, source, cgroup, version, cpus, cpu_source)


def _rollup(pid: int, proc: Path) -> tuple[int, int, int]:
    """(PSS, anonymous bytes, file-backed PSS) of one process from smaps_rollup; (RSS, RssAnon,
    RssFile) where it is absent.

    Anonymous memory is what the process alone holds (its heap, TensorFlow's graphs and
    tensors). Its file pages are left out even when private: a library's pages count as private
    only while no other process maps the same file, so they would depend on whether the server
    imported TensorFlow too."""
    text = _read(proc / str(pid) / "smaps_rollup")
    fields: dict[str, int] = {}
    if text is None:
        text = _read(proc / str(pid) / "status") or ""
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[key.strip()] = int(parts[0]) * 1024
    if "Pss" in fields:
        anonymous = fields.get("Anonymous", fields.get("Private_Dirty", 0))
        return fields["Pss"], anonymous, fields.get("Pss_File", 0)
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0), fields.get("RssFile", 0)


def anonymous_bytes(pid: int, proc: Path = Path("/proc")) -> int:
    """Anonymous memory of the process ``pid`` in bytes (see :func:`_rollup`); 0 when gone."""
    return _rollup(pid, proc)[1]


def _children(pid: int, proc: Path) -> list[int] | None:
    """Children of ``pid`` from /proc/<pid>/task/*/children (None where the kernel lacks it)."""
    tasks = proc / str(pid) / "task"
    try:
        names = [t.name for t in tasks.iterdir()]
    except OSError:
        return None
    out: list[int] = []
    for name in names:
        text = _read(tasks / name / "children")
        if text is None:
            return None
        out.extend(int(c) for c in text.split() if c.isdigit())
    return out


def descendants(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """Every living descendant of ``pid`` (children, their children, …)."""
    out, frontier = [], [pid]
    while frontier:
        kids = _children(frontier.pop(), proc)
        if kids is None:
            return _scan_descendants(pid, proc)
        out.extend(kids)
        frontier.extend(kids)
    return out


def _scan_descendants(pid: int, proc: Path) -> list[int]:
    """Descendants of ``pid`` found by reading every process's parent from /proc/*/stat."""
    parent: dict[int, int] = {}
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        stat = _read(entry / "stat")
        if stat is None:
            continue
        fields = stat.rpartition(")")[2].split()  # after "(comm)", which may hold spaces
        if len(fields) > 1 and fields[1].isdigit():
            parent[int(entry.name)] = int(fields[1])
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.extend(kids)
        frontier.extend(kids)
    return out


@dataclass(frozen=True)
class Usage:
    """One reading of the memory in use, in bytes."""

    tree: int  # PSS of the server and its descendants (shared pages counted once)
    server: int  # PSS of the server process alone
    server_file: int  # the part of ``server`` in file pages (its libraries; 0 when not reported)
    anonymous: dict[int, int]  # anonymous (not file-backed) bytes of each descendant, by pid
    working_set: int | None  # the cgroup's usage less inactive file cache (None: no cgroup)
    available: int  # MemAvailable of the machine

    @property
    def server_kept(self) -> int:
        """The server's PSS less its file pages beyond :data:`FILE_KEPT`: what it holds when
        memory is short, the kernel having dropped the library pages nobody is using."""
        return self.server - max(0, self.server_file - FILE_KEPT * MB)


def _working_set(limits: Limits) -> int | None:
    """The memory cgroup's usage less its inactive file cache, as the OOM killer sees it."""
    if limits.cgroup is None:
        return None
    v2 = limits.cgroup_version == 2
    used = _read(limits.cgroup / ("memory.current" if v2 else "memory.usage_in_bytes"))
    if used is None or not used.isdigit():
        return None
    inactive = 0
    key = "inactive_file" if v2 else "total_inactive_file"
    for line in (_read(limits.cgroup / "memory.stat") or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            inactive = int(value)
    return max(0, int(used) - inactive)


def read_usage(limits: Limits, pid: int | None = None, proc: Path = Path("/proc")) -> Usage:
    """What the process ``pid`` (default: this one) and its descendants use right now."""
    pid = os.getpid() if pid is None else pid
    server, _, server_file = _rollup(pid, proc)
    anonymous, tree = {}, server
    for child in descendants(pid, proc):
        pss, own, _ = _rollup(child, proc)
        tree += pss
        anonymous[child] = own
    available = meminfo(proc).get("MemAvailable", 0)
    return Usage(tree, server, server_file, anonymous, _working_set(limits), available)


# ----- a training child's estimate -------------------------------------------------------------
def data_bytes(data: Any, depth: int = 2) -> int:
    """Bytes of the NumPy arrays and text a run's data holds (dataclass fields, ``depth``
    levels deep: e.g. a text run's corpus)."""
    if data is None or depth == 0:
        return 0
    values = (
        [getattr(data, f.name) for f in dataclasses.fields(data)]
        if dataclasses.is_dataclass(data)
        else [data]
    )
    total = 0
    for v in values:
        if isinstance(v, np.ndarray):
            total += v.nbytes
        elif isinstance(v, (str, bytes)):
            total += len(v)
        elif isinstance(v, (tuple, list)):
            total += sum(x.nbytes for x in v if isinstance(x, np.ndarray))
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            total += data_bytes(v, depth - 1)
    return total


def estimate(
    task: str,
    data: Any,
    model_cfg: Any,
    train_cfg: Any = None,
    params: int = 0,
    timesteps: int = 0,
) -> int:
    """Estimated peak private bytes of a training child for this run.

    The task's measured base (:data:`CHILD_BASE`) plus the data it holds (``data``: the built
    data, its arrays counted ``DATA_COPIES`` times), the model's ``params`` (``PARAM_COPIES``
    float32 copies), and the activations backpropagation keeps: batch × ``timesteps`` ×
    units × layers × the cell's values per unit (:data:`CELL_ACTIVATIONS`), in float32; and
    :data:`XLA_EXTRA` when the run is compiled with XLA, :data:`BIDIRECTIONAL_EXTRA` per layer
    when its layers are Bidirectional. ``timesteps`` 0 reads it from the
    data's training inputs (their second axis, divided by the data config's
    ``words_per_step`` where it has one).
    """
    base = CHILD_BASE.get(task, DEFAULT_BASE) * MB
    held = data_bytes(data)
    if not timesteps:
        x = getattr(data, "x_train", None)
        timesteps = int(x.shape[1]) if isinstance(x, np.ndarray) and x.ndim > 1 else 1
        per_step = int(getattr(getattr(data, "config", None), "words_per_step", 1) or 1)
        timesteps = max(1, timesteps // per_step)  # tokens read side by side: fewer steps
    batch = int(getattr(train_cfg, "batch_size", 128))
    units = int(getattr(model_cfg, "units", 128))
    layers = int(getattr(model_cfg, "layers", 1))
    per_unit = CELL_ACTIVATIONS.get(str(getattr(model_cfg, "cell", "LSTM")), 12)
    both_ways = 0
    if getattr(model_cfg, "bidirectional", False):
        per_unit *= 2
        both_ways = BIDIRECTIONAL_EXTRA * MB * layers
    activations = 4 * batch * timesteps * units * layers * per_unit
    xla = XLA_EXTRA * MB if getattr(train_cfg, "jit_compile", False) else 0
    weights = 4 * PARAM_COPIES * int(params)
    return int(base + DATA_COPIES * held + weights + activations + xla + both_ways)


# ----- admission -------------------------------------------------------------------------------
@dataclass
class _Reservation:
    """A training admitted on its estimate; ``pid()`` names its child once it runs."""

    need: int  # the run's estimate, bytes
    pid: Callable[[], int | None]  # the training child's pid, None before it runs (or in-thread)


def mb_text(n: float) -> str:
    """Bytes as a short readable figure: MB below 1 GB, GB with one decimal above."""
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / MB:.0f} MB"


class Memory:
    """This server's memory book: limits, a cached usage reading, the trainings admitted.

    ``sys_root``, ``proc``, ``pid`` and ``clock`` are the real ones by default; tests pass fake
    cgroup and proc trees and a fake clock. Usage is read at most every ``every`` seconds.
    """

    def __init__(
        self,
        sys_root: Path = Path("/sys/fs/cgroup"),
        proc: Path = Path("/proc"),
        pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = 1.0,
    ) -> None:
        """A book over the given trees; nothing is read until asked."""
        self.sys_root, self.proc, self.clock, self.every = sys_root, proc, clock, every
        self.pid = pid
        self._lock = threading.Lock()
        self._limits: Limits | None = None
        self._usage: tuple[float, Usage] | None = None
        self._reserved: dict[int, _Reservation] = {}
        self._relievers: list[Callable[[], Any]] = []
        self._servers: deque[tuple[float, int]] = deque()  # (time, server_kept) of each reading

    def limits(self) -> Limits:
        """The limits, read once."""
        if self._limits is None:
            self._limits = read_limits(self.sys_root, self.proc)
        return self._limits

    def usage(self, fresh: bool = False) -> Usage:
        """The latest usage reading, at most ``every`` seconds old (``fresh``: read now)."""
        now = self.clock()
        cached = self._usage
        if fresh or cached is None or now - cached[0] >= self.every:
            cached = (now, read_usage(self.limits(), self.pid, self.proc))
            self._usage = cached
            with self._lock:
                self._servers.append((now, cached[1].server_kept))
                while self._servers and now - self._servers[0][0] > SERVER_WINDOW:
                    self._servers.popleft()
        return cached[1]

    def server_floor(self) -> int:
        """The server's lowest :attr:`Usage.server_kept` over the last :data:`SERVER_WINDOW`
        seconds (the current reading included): its own use without the moments it was loading
        data."""
        current = self.usage().server_kept
        with self._lock:
            return min([current, *(server for _, server in self._servers)])

    # ----- bookkeeping of admitted trainings ---------------------------------------------------
    def reserve(
        self, token: object, need: int, pid: Callable[[], int | None] | None = None
    ) -> None:
        """Count ``need`` bytes for an admitted training until :meth:`unreserve`."""
        with self._lock:
            self._reserved[id(token)] = _Reservation(int(need), pid or (lambda: None))

    def unreserve(self, token: object) -> None:
        """The training ended: stop counting its estimate."""
        with self._lock:
            self._reserved.pop(id(token), None)
        self._usage = None  # its child is gone: read again

    def outstanding(self, usage: Usage) -> int:
        """Bytes admitted trainings may still grow by: estimate less their child's anonymous use."""
        with self._lock:
            reservations = list(self._reserved.values())
        total = 0
        for r in reservations:
            pid = r.pid()
            grown = usage.anonymous.get(pid, 0) if pid is not None else 0
            total += max(0, r.need - grown)
        return total

    # ----- decisions ---------------------------------------------------------------------------
    def room(self) -> int:
        """Bytes one more training may use now (after the margin), possibly negative."""
        lim, use = self.limits(), self.usage()
        if lim.limited:
            used = max(use.tree, use.working_set or 0)
            free = lim.memory - used
        else:
            free = use.available
        return free - self.outstanding(use) - margin_for(lim.memory)

    def refusal(self, need: int, floor: bool = False) -> str:
        """Why a training of ``need`` bytes does not fit beside the server ("" when it does):
        beside its use now, or with ``floor`` beside its lowest use lately
        (:meth:`server_floor`, which the message calls "at least")."""
        lim = self.limits()
        server = self.server_floor() if floor else self.usage().server_kept
        if need + server + margin_for(lim.memory) <= lim.memory:
            return ""
        return (
            f"this run needs about {mb_text(need)} to train, and this server has "
            f"{mb_text(lim.memory)} in all ({lim.memory_source}), "
            f"{'at least ' if floor else ''}{mb_text(server)} of it used by the server itself; "
            "choose a smaller training size, model or maxlen"
        )

    def can_start(self, need: int) -> tuple[bool, str]:
        """(True, "") when a training of ``need`` bytes fits now; else (False, why not)."""
        room = self.room()
        if need <= room:
            return True, ""
        lim = self.limits()
        return False, (
            f"needs about {mb_text(need)}, {mb_text(max(0, room))} free of {mb_text(lim.memory)} "
            f"({lim.memory_source})"
        )

    def fitting(self, need: int, server_at_least: int = 0) -> int:
        """How many trainings of ``need`` bytes the limit holds beside the server as it is now
        (or as large as ``server_at_least`` bytes, when it is smaller now)."""
        lim = self.limits()
        spare = lim.memory - max(self.usage().server, server_at_least) - margin_for(lim.memory)
        return max(0, int(spare // max(1, need)))

    # ----- pressure ----------------------------------------------------------------------------
    def on_pressure(self, release: Callable[[], Any]) -> None:
        """Call ``release()`` when a training waits for memory (e.g. to empty a cache)."""
        self._relievers.append(release)

    def pressure_handlers(self) -> list[Callable[[], Any]]:
        """The functions :meth:`relieve` calls, in registration order."""
        return list(self._relievers)

    def relieve(self) -> None:
        """Ask every registered cache to let go of what it holds, then read usage again."""
        for release in list(self._relievers):
            try:
                release()
            except Exception:  # a cache that fails to empty must not block admission
                log.exception("a memory-pressure handler failed")
        self._usage = None


MEMORY = Memory()  # this process's book


class ByteCache:
    """Values by key, bounded in bytes (least recently used dropped first), emptied when a
    training waits for memory. One ``make()`` runs per key at a time; thread-safe."""

    def __init__(
        self,
        max_bytes: int,
        size: Callable[[Any], int] = data_bytes,
        book: Memory | None = MEMORY,
    ) -> None:
        """Keep at most ``max_bytes`` (as ``size`` counts them); register with ``book``."""
        self.max_bytes, self.size = int(max_bytes), size
        self._lock = threading.Lock()
        self._items: dict[Any, tuple[Any, int]] = {}  # in use order, oldest first
        self._loading: dict[Any, threading.Lock] = {}
        if book is not None:
            book.on_pressure(self.clear)

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        with self._lock:
            return sum(n for _, n in self._items.values())

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        """The value of ``key``, made by ``make()`` (and kept if it fits) when not held."""
        with self._lock:
            if key in self._items:
                self._items[key] = self._items.pop(key)  # now the newest
                return self._items[key][0]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:  # a second caller of the same key waits for the first one's value
            with self._lock:
                if key in self._items:
                    return self._items[key][0]
            try:
                value = make()
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            self.put(key, value)
        return value

    def peek(self, key: Any) -> Any | None:
        """The value of ``key`` if held (it becomes the newest), else None; nothing is made."""
        with self._lock:
            if key not in self._items:
                return None
            self._items[key] = self._items.pop(key)
            return self._items[key][0]

    def put(self, key: Any, value: Any) -> bool:
        """Keep ``value`` as the newest, dropping the least recently used beyond the bound;
        False (nothing kept) when it alone is larger than the bound."""
        n = self.size(value)
        with self._lock:
            self._items.pop(key, None)
            if n > self.max_bytes:
                return False
            self._items[key] = (value, n)
            while sum(b for _, b in self._items.values()) > self.max_bytes:
                self._items.pop(next(iter(self._items)))
        return True

    def clear(self) -> int:
        """Drop every value; the bytes released."""
        with self._lock:
            freed = sum(n for _, n in self._items.values())
            self._items.clear()
        return freed


def cache_budget(limits: Limits | None = None) -> int:
    """Bytes a server-side data cache may hold: ``$RNN_LAB_CACHE_MB``, else 15 % of the memory
    limit, at most 1 GB."""
    raw = os.environ.get("RNN_LAB_CACHE_MB", "").strip()
    if raw.isdigit():
        return int(raw) * MB
    limits = MEMORY.limits() if limits is None else limits
    return min(1 << 30, int(limits.memory * 0.15))


def can_start(need: int) -> tuple[bool, str]:
    """(True, "") when a training of ``need`` bytes fits in this server's memory now."""
    return MEMORY.can_start(need)


def slot_threads(capacity: int, cpus: float | None = None) -> int:
    """TensorFlow threads one training may use: its share of the cores, at least 1."""
    cpus = MEMORY.limits().cpus if cpus is None else cpus
    return max(1, math.floor(cpus / max(1, capacity)))


# ----- out-of-memory order and a child's start -------------------------------------------------
_warned = threading.Event()


def set_oom_score(pid: int | str = "self", score: int = CHILD_OOM_SCORE) -> bool:
    """Write ``score`` to /proc/<pid>/oom_score_adj; False (logged once) when not permitted."""
    try:
        Path(f"/proc/{pid}/oom_score_adj").write_text(str(int(score)))
        return True
    except OSError as exc:
        if not _warned.is_set():
            _warned.set()
            log.info("could not set oom_score_adj of %s to %s: %s", pid, score, exc)
        return False


_protected: list[bool] = []  # the result of the one protect_server() call of this process


def protect_server() -> bool:
    """Lower this (the serving) process's OOM score where permitted, once per process, so a
    training dies first; False (logged once) where the system does not allow it."""
    if not _protected:
        _protected.append(set_oom_score("self", SERVER_OOM_SCORE))
    return _protected[0]


def child_threads(running: int = 0, environ: Mapping[str, str] | None = None) -> int:
    """TensorFlow threads for a training child that will train beside ``running`` others: the
    server's ``$RNN_LAB_CHILD_THREADS`` if set, else its share of the quota's cores
    (:func:`slot_threads`; every core when it will train alone)."""
    given = (os.environ if environ is None else environ).get(THREADS_ENV, "")
    return int(given) if given.isdigit() and int(given) > 0 else slot_threads(running + 1)


def child_env(
    environ: Mapping[str, str] | None = None, threads: int | None = None
) -> dict[str, str]:
    """Environment a training child needs from the server: ``threads`` TensorFlow threads,
    else :func:`child_threads` for a child that will train alone."""
    return {THREADS_ENV: str(threads or child_threads(0, environ))}


def child_setup(threads: int | None = None) -> None:
    """At a training child's start: first in line for the OOM killer, TensorFlow threads set
    to ``threads``, else ``$RNN_LAB_CHILD_THREADS``."""
    set_oom_score("self", CHILD_OOM_SCORE)
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "")
        threads = int(raw) if raw.isdigit() else 0
    if threads > 0:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
