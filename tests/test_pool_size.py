"""How many warm workers a server keeps: none on a box whose memory holds no typical training."""

from __future__ import annotations

import pytest

from rnn_core.engine import pool
from rnn_core.engine.memory import MB, SERVER_WITH_TF, Memory
from rnn_core.engine.slots import TYPICAL_CHILD


class Book:
    """A memory book that holds ``fits`` typical trainings beside the server."""

    def __init__(self, fits: int) -> None:
        self.fits, self.asked = fits, []

    def fitting(self, need: int, server_at_least: int = 0) -> int:
        self.asked.append((need, server_at_least))
        return self.fits


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Trainings in child processes, two slots, the warm-worker count not set."""
    monkeypatch.delenv("RNN_LAB_TRAIN_IN_THREAD", raising=False)
    monkeypatch.delenv("RNN_LAB_WARM_WORKERS", raising=False)
    monkeypatch.setattr(pool, "admitted_workers", lambda: 2)
    return monkeypatch


def test_no_warm_worker_where_no_typical_training_fits(processes: pytest.MonkeyPatch) -> None:
    small = Book(fits=0)  # a 0.7 GB box: a warm worker there only takes the server's room
    assert pool.pool_size(small) == 0
    assert small.asked == [(TYPICAL_CHILD, SERVER_WITH_TF * MB)]  # beside a server with TF
    assert pool.pool_size(Book(fits=1)) == 1  # the default: one warm worker
    processes.setenv("RNN_LAB_WARM_WORKERS", "2")
    assert pool.pool_size(Book(fits=1)) == 2  # at most the training slots (2)


def test_a_warm_worker_count_that_is_set_is_kept_on_a_small_box(
    processes: pytest.MonkeyPatch,
) -> None:
    processes.setenv("RNN_LAB_WARM_WORKERS", "1")
    assert pool.pool_size(Book(fits=0)) == 1
    processes.setenv("RNN_LAB_WARM_WORKERS", "0")
    assert pool.pool_size(Book(fits=5)) == 0


def test_none_when_training_runs_in_threads(processes: pytest.MonkeyPatch) -> None:
    processes.setenv("RNN_LAB_TRAIN_IN_THREAD", "1")
    assert pool.pool_size(Book(fits=5)) == 0


def test_fitting_counts_the_server_at_least_as_large_as_asked() -> None:
    """Memory.fitting with ``server_at_least``: the larger of the server now and that size."""
    book = Memory()
    limit = book.limits().memory
    server = book.usage().server
    need = 100 * MB
    assert book.fitting(need, server_at_least=server) == book.fitting(need)
    if limit < 1 << 50:  # a machine with a known limit: a server of (almost) all of it fits none
        assert book.fitting(need, server_at_least=limit) == 0
    assert book.fitting(need, server_at_least=server + 10 * need) <= max(0, book.fitting(need) - 9)
