"""A session's runs are bounded in bytes, held tabs let go under pressure, shared-run wording."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pages import _tabs, common
from pages._tabs import TabStore, run_bytes
from rnn_core.engine.memory import MEMORY
from rnn_core.engine.recorder import Snapshot


class FakeRun:
    """A run holding ``mb`` MB of data and no model; ``active`` while training."""

    def __init__(self, mb: int, active: bool = False) -> None:
        self.params = 0
        self.data = SimpleNamespace(x_train=np.zeros(mb << 20, np.uint8))
        state = "running" if active else "done"
        self.job = SimpleNamespace(
            released=False, model=None, snapshot=lambda: Snapshot(state=state)
        )

    def release(self) -> None:
        self.job.released, self.data = True, None


def test_a_sessions_runs_keep_models_and_data_up_to_its_byte_bound() -> None:
    store = [FakeRun(40), FakeRun(40, active=True), FakeRun(40), FakeRun(40)]
    assert common.free_old_models(store, max_bytes=100 << 20) == 2  # 160 MB -> 80 MB
    assert [r.job.released for r in store] == [True, False, True, False]  # training run stays
    assert sum(run_bytes(r) for r in store) <= 100 << 20
    assert common.free_old_models(store, max_bytes=100 << 20) == 0  # fits now: nothing more
    alone = [FakeRun(50)]
    assert common.free_old_models(alone, max_bytes=1) == 0  # the newest run keeps its own
    assert not alone[0].job.released


def test_the_session_bound_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(common.SESSION_MB_ENV, "64")
    assert common.session_bytes() == 64 << 20
    monkeypatch.delenv(common.SESSION_MB_ENV)
    assert common.session_bytes() == common.SESSION_MB_DEFAULT << 20


def test_memory_pressure_releases_the_finished_runs_of_held_tabs_only() -> None:
    tabs = TabStore(grace=600, clock=lambda: 1000.0)
    _tabs._STORE = tabs  # the conftest fixture resets it
    held, open_ = tabs.new("s1"), tabs.new("s2")
    gone = [FakeRun(1), FakeRun(1, active=True)]
    mine = [FakeRun(1)]
    tabs.keep(held.key, "s1", {"runs": gone})
    tabs.keep(open_.key, "s2", {"runs": mine})
    tabs.end(held.key, "s1")  # that tab was closed: its runs are held for the grace period
    assert common.release_held_runs in MEMORY.pressure_handlers()
    assert common.release_held_runs() == 1
    assert [r.job.released for r in gone] == [True, False]  # a training still runs
    assert not mine[0].job.released  # an open tab's runs are its session's to bound


def test_sharing_note_says_who_shares_and_what_the_copy_is() -> None:
    live = Snapshot(state="running", shared_with=1)
    assert common.sharing_note(live).startswith("Shared with 1 student:")
    assert "Stop detaches only you" in common.sharing_note(live)
    assert common.sharing_note(Snapshot(state="running", shared_with=3)).startswith(
        "Shared with 3 students:"
    )
    assert "you and 2 other students" in common.sharing_note(Snapshot(state="done", shared_with=2))
    reused = common.sharing_note(Snapshot(state="done", reused=True, shared_with=4))
    assert reused.startswith("Trained earlier on this server") and "nothing was trained" in reused
    assert common.sharing_note(Snapshot(state="running")) == ""
    failed = common.sharing_note(Snapshot(state="failed", shared_with=1, error="Not started: …"))
    assert "Trained once" not in failed  # a run refused at Start trained nothing
    assert failed.startswith("Shared with 1 other student (the same settings and seeds): the run")
