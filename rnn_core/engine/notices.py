"""Server notices: one line on stderr the first time each thing goes wrong, never again."""

from __future__ import annotations

import sys
import threading

_said: set[str] = set()  # keys of the notices already printed in this process
_lock = threading.Lock()


def warn_once(key: str, message: str) -> bool:
    """Print ``message`` on stderr the first time ``key`` is warned about; True if printed."""
    with _lock:
        if key in _said:
            return False
        _said.add(key)
    print(message, file=sys.stderr, flush=True)
    return True
