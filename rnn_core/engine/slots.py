"""Training slots: a process-wide, FIFO-fair cap on how many trainings run at once."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class SlotPool:
    """A FIFO-fair cap on trainings that run at once in this process."""

    def __init__(self, capacity: int) -> None:
        """Allow ``capacity`` trainings at once."""
        self.capacity = max(1, int(capacity))
        self._cond = threading.Condition()
        self._running = 0
        self._waiting: list[object] = []

    def acquire(
        self, token: object, cancel: threading.Event, on_position: Callable[[int], None]
    ) -> bool:
        """Wait for a slot, reporting queue position; False if ``cancel`` is set first."""
        with self._cond:
            self._waiting.append(token)
            try:
                while True:
                    if cancel.is_set():
                        return False
                    if self._waiting[0] is token and self._running < self.capacity:
                        self._running += 1
                        return True
                    on_position(self._waiting.index(token) + 1)
                    self._cond.wait(timeout=0.1)
            finally:
                self._waiting.remove(token)
                self._cond.notify_all()

    def release(self) -> None:
        """Give a slot back and wake the queue."""
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def usage(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return self._running, len(self._waiting)


DEFAULT_POOL = SlotPool(int(os.environ.get("RNN_LAB_MAX_TRAININGS", os.cpu_count() or 1)))
