"""Training slots: a process-wide, FIFO-fair cap on trainings at once, admitted by memory.

A run starts when it is first in line, a slot is free and its estimated memory fits
(:meth:`rnn_core.engine.memory.Memory.can_start`); runs behind it keep their order and are told
why the queue is not moving. A run that could never fit under the server's limit is refused:
at once when it does not fit beside the server's lowest use lately, or when, first in line, it
has not fitted beside the server's use for :data:`REFUSE_AFTER` seconds with caches emptied (a
server loading data for other sessions is only briefly larger).
The default cap is min(CPU quota, what memory allows); ``RNN_LAB_MAX_TRAININGS``, when set,
is the cap instead (an upper bound: memory still decides when each run starts).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping

from rnn_core.engine.memory import CHILD_BASE, MB, MEMORY, Memory, mb_text

CAP_ENV = "RNN_LAB_MAX_TRAININGS"
TYPICAL_CHILD = (max(CHILD_BASE.values()) + 100) * MB  # a small run's child, for the default cap
RELIEVE_EVERY = 5.0  # seconds between two requests to empty caches while a run waits for memory
REFUSE_AFTER = 10.0  # seconds a run first in line may not fit beside the server before refusal

log = logging.getLogger(__name__)


class Refused(RuntimeError):
    """A training that cannot be admitted (never fits, or its cluster cannot take it)."""


class MemoryRefused(Refused):
    """A training that could never fit in this server's memory."""


def _runs(n: int) -> str:
    """``1 run is`` / ``2 runs are``."""
    return "1 run is" if n == 1 else f"{n} runs are"


def _memory_wait(memory: Memory, need: int, what: str) -> str:
    """``waiting for memory: <what> (this run needs about … of the … limit, <source>)``."""
    lim = memory.limits()
    return (
        f"waiting for memory: {what} (this run needs about {mb_text(need)} of the "
        f"{mb_text(lim.memory)} limit, {lim.memory_source})"
    )


def default_capacity(environ: Mapping[str, str] | None = None, memory: Memory = MEMORY) -> int:
    """``RNN_LAB_MAX_TRAININGS`` when set, else min(CPU quota, trainings memory holds), >= 1."""
    environ = os.environ if environ is None else environ
    raw = environ.get(CAP_ENV, "").strip()
    if raw:
        return max(1, int(raw))
    cpus = max(1, math.floor(memory.limits().cpus))
    return max(1, min(cpus, memory.fitting(TYPICAL_CHILD)))


class SlotPool:
    """A FIFO-fair cap on trainings that run at once in this process, admitted by memory.

    ``capacity`` None reads :func:`default_capacity` at the first use. ``memory`` (default:
    none, the slot count alone decides) is the book that admits runs by their estimate.
    """

    def __init__(
        self,
        capacity: int | None,
        memory: Memory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Allow ``capacity`` trainings at once, each when its memory fits in ``memory``."""
        self._capacity = None if capacity is None else max(1, int(capacity))
        self.memory, self.clock = memory, clock
        self._cond = threading.Condition()
        self._running = 0
        self._waiting: list[object] = []
        self._blocked = ""  # why the first in line waits, shown to everyone behind it
        self._relieved = -math.inf  # when caches were last asked to let go
        self._unfit: tuple[object, float] | None = None  # (first in line, since) not fitting

    @property
    def capacity(self) -> int:
        """Trainings allowed at once."""
        if self._capacity is None:
            self._capacity = default_capacity(memory=self.memory or MEMORY)
        return self._capacity

    def acquire(
        self,
        token: object,
        cancel: threading.Event,
        on_wait: Callable[[int, str], None],
        need: int = 0,
        pid: Callable[[], int | None] | None = None,
    ) -> bool:
        """Wait for a slot (and ``need`` bytes of memory), reporting (position, reason).

        False if ``cancel`` is set first. Raises :class:`MemoryRefused` when ``need`` could
        never fit. ``pid()`` names the training's child once it runs, so its own growth is
        measured against its estimate.
        """
        memory = self.memory if need > 0 else None
        if memory is not None:
            refusal = memory.refusal(need, floor=True)
            if refusal:
                memory.relieve()
                refusal = memory.refusal(need, floor=True)
            if refusal:
                raise MemoryRefused(refusal)
        with self._cond:
            self._waiting.append(token)
            try:
                while True:
                    if cancel.is_set():
                        return False
                    if self._waiting[0] is token:
                        self._blocked = self._blocker(memory, need, token)
                        if not self._blocked:
                            if memory is not None:
                                memory.reserve(token, need, pid)
                            self._running += 1
                            return True
                    on_wait(self._waiting.index(token) + 1, self._blocked)
                    self._cond.wait(timeout=0.1)
            finally:
                self._waiting.remove(token)
                self._cond.notify_all()

    def _relieve(self, memory: Memory) -> bool:
        """Ask caches to let go, at most every :data:`RELIEVE_EVERY` s; True when asked."""
        if self.clock() - self._relieved < RELIEVE_EVERY:
            return False
        self._relieved = self.clock()
        memory.relieve()
        return True

    def _blocker(self, memory: Memory | None, need: int, token: object) -> str:
        """Why the first in line cannot start now ("" when it can); caller holds the lock.
        Raises :class:`MemoryRefused` when it has not fitted beside the server for
        :data:`REFUSE_AFTER` seconds."""
        if self._running >= self.capacity:
            self._unfit = None  # not fitting must be continuous to refuse
            return f"waiting for a free training slot: {_runs(self._running)} training"
        if memory is None:
            return ""
        refusal = memory.refusal(need)
        if refusal and self._relieve(memory):
            refusal = memory.refusal(need)
        if refusal:
            if self._unfit is None or self._unfit[0] is not token:
                self._unfit = (token, self.clock())
            if self.clock() - self._unfit[1] >= REFUSE_AFTER:
                self._unfit = None
                raise MemoryRefused(refusal)
            server = mb_text(memory.usage().server_kept)
            return _memory_wait(memory, need, f"the server itself uses {server} now")
        self._unfit = None
        fits, why = memory.can_start(need)
        if not fits and self._relieve(memory):  # caches let go first; then read the memory again
            fits, why = memory.can_start(need)
        if fits:
            return ""
        if self._running == 0:  # nothing of ours to wait for: start rather than wait forever
            log.warning("starting a training that does not fit now (%s): nothing else trains", why)
            return ""
        return _memory_wait(memory, need, f"{_runs(self._running)} training")

    def release(self, token: object = None) -> None:
        """Give a slot (and the memory counted for ``token``) back and wake the queue."""
        if self.memory is not None and token is not None:
            self.memory.unreserve(token)
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def usage(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return self._running, len(self._waiting)


DEFAULT_POOL = SlotPool(None, MEMORY)  # the process-wide pool; its cap is read at first use
