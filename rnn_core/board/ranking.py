"""Leaderboard order: the sort keys a class's hand-ins offer, and which way is best first."""

from __future__ import annotations

from collections.abc import Sequence

from rnn_core.board.entry import Entry

SORT_EXTRA = ("params", "seconds")  # sort keys besides the test metrics (smaller is better)
LOWER_IS_BETTER = ("loss", "mae", "mse", "bits_per_char", "error")  # name parts of error metrics


def sort_keys(entries: Sequence[Entry]) -> list[str]:
    """Every test metric any entry has (sorted by name), then params and seconds."""
    metrics = sorted({k for e in entries for k in e.item.test})
    return [*metrics, *SORT_EXTRA]


def best_first_descending(key: str) -> bool:
    """True when a larger value of ``key`` ranks higher (accuracy), False for errors, size, time."""
    if key in SORT_EXTRA:
        return False
    return not any(part in key for part in LOWER_IS_BETTER)


def _value(entry: Entry, key: str) -> float | None:
    """The entry's value of a sort key (None when it has no such test metric)."""
    if key == "params":
        return float(entry.item.params)
    if key == "seconds":
        return entry.item.seconds
    return entry.item.test.get(key)


def sort_entries(entries: Sequence[Entry], key: str, best_first: bool = True) -> list[Entry]:
    """Entries ranked by ``key`` (best first, or worst first); entries without it go last.

    Ties keep the earlier hand-in first.
    """
    have = [e for e in entries if _value(e, key) is not None]
    without = [e for e in entries if _value(e, key) is None]
    descending = best_first_descending(key) == best_first
    sign = -1.0 if descending else 1.0
    ranked = sorted(have, key=lambda e: (sign * _value(e, key), e.id))  # type: ignore[operator]
    return [*ranked, *without]
