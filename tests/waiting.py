"""The one way tests wait: poll a condition until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(cond: Callable[[], T], timeout: float, interval: float = 0.05, what: str = "") -> T:
    """Call ``cond`` every ``interval`` s until it returns something truthy and return that.

    Raises AssertionError naming ``what`` (or ``cond``) once ``timeout`` seconds have passed;
    ``cond`` is always called at least once, and once more at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"not within {timeout:g} s: {what or repr(cond)}")
        time.sleep(min(interval, left))
