"""The tab store (pages/_tabs.py): grace period, handing a key over, eviction, stop after grace."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pages._tabs import BUSY, Gone, Tab, TabStore, gone_note, run_bytes


class Clock:
    """A fake wall clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeJob:
    """A training job that is active until stopped (or finished)."""

    def __init__(self, active: bool = True) -> None:
        self.active, self.stops, self.model = active, 0, None

    def snapshot(self) -> SimpleNamespace:
        return SimpleNamespace(active=self.active)

    def stop(self) -> None:
        self.stops += 1
        self.active = False


def _run(active: bool = True, size: int = 0) -> SimpleNamespace:
    return SimpleNamespace(job=FakeJob(active), size=size, name="a run")  # the sidebar names runs


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _store(clock: Clock, **kw) -> TabStore:
    return TabStore(grace=600, clock=clock, size=lambda run: run.size, **kw)


def test_keys_are_unguessable_and_distinct(clock: Clock) -> None:
    tabs = _store(clock)
    keys = {tabs.new(f"s{i}").key for i in range(200)}
    assert len(keys) == 200
    assert all(len(k) >= 21 for k in keys)  # 16 random bytes, URL-safe base64


def test_a_reload_within_grace_gets_the_same_runs_and_trainings_go_on(clock: Clock) -> None:
    tabs = _store(clock)
    tab = tabs.new("old")
    run = _run()
    tabs.keep(tab.key, "old", {"runs": [run], "current": run})
    tabs.end(tab.key, "old")  # reload: the old session ends
    clock.now += 599
    assert tabs.sweep() == []
    back = tabs.claim(tab.key, "new")
    assert isinstance(back, Tab) and back.kept["runs"] == [run] and back.kept["current"] is run
    assert run.job.stops == 0 and run.job.active
    assert tabs.owns(tab.key, "new") and not tabs.owns(tab.key, "old")
    clock.now += 10_000  # the new session is open: no grace period runs
    assert tabs.sweep() == [] and run.job.active


def test_after_grace_the_training_is_stopped_and_the_key_says_what_happened(clock: Clock) -> None:
    tabs = _store(clock)
    tab = tabs.new("s")
    running, done = _run(), _run(active=False)
    tabs.keep(tab.key, "s", {"runs": [done, running]})
    tabs.end(tab.key, "s")
    clock.now += 600
    assert tabs.sweep() == [tab.key]
    assert running.job.stops == 1 and not running.job.active
    assert done.job.stops == 0  # a finished run is only dropped
    gone = tabs.claim(tab.key, "later")
    assert isinstance(gone, Gone) and gone.runs == 2 and not gone.evicted
    note = gone_note(gone, tabs.grace)
    assert "2 runs" in note and "expired after 10 minutes" in note
    assert tabs.next_deadline() is None


def test_an_open_tabs_key_is_not_handed_to_a_copy(clock: Clock) -> None:
    tabs = _store(clock)
    tab = tabs.new("first")
    tabs.keep(tab.key, "first", {"runs": [_run()]})
    assert tabs.claim(tab.key, "copy") == BUSY
    assert tabs.claim(tab.key, "first") is tab  # its own session may claim it again
    tabs.keep(tab.key, "copy", {"runs": []})  # a non-owner cannot overwrite the runs
    assert len(tab.runs()) == 1


def test_a_late_end_of_the_old_session_does_not_start_grace_for_the_new_one(clock: Clock) -> None:
    tabs = _store(clock)
    tab = tabs.new("old")
    tabs.end(tab.key, "old")
    assert isinstance(tabs.claim(tab.key, "new"), Tab)
    tabs.end(tab.key, "old")  # a stale release of the old session
    assert tabs.held() == [] and tabs.owns(tab.key, "new")


def test_unknown_keys_are_none(clock: Clock) -> None:
    assert _store(clock).claim("not-a-key", "s") is None


def test_beyond_the_count_the_oldest_held_tab_goes_first(clock: Clock) -> None:
    tabs = _store(clock, max_held=2)
    runs = [_run() for _ in range(3)]
    keys = []
    for i, run in enumerate(runs):
        tab = tabs.new(f"s{i}")
        tabs.keep(tab.key, f"s{i}", {"runs": [run]})
        keys.append(tab.key)
    open_tab = tabs.new("open")  # open tabs are never evicted
    tabs.keep(open_tab.key, "open", {"runs": [_run()]})
    for i, key in enumerate(keys):
        clock.now += 1
        tabs.end(key, f"s{i}")
    assert tabs.held() == keys[1:]
    assert runs[0].job.stops == 1 and runs[1].job.active and runs[2].job.active
    gone = tabs.claim(keys[0], "x")
    assert isinstance(gone, Gone) and gone.evicted
    assert "to free the server's memory" in gone_note(gone, tabs.grace)
    assert tabs.owns(open_tab.key, "open")


def test_beyond_the_byte_bound_the_oldest_held_tabs_go_first(clock: Clock) -> None:
    tabs = _store(clock, max_bytes=250)
    sizes = [100, 100, 100]
    keys = []
    for i, size in enumerate(sizes):
        tab = tabs.new(f"s{i}")
        tabs.keep(tab.key, f"s{i}", {"runs": [_run(size=size)]})
        keys.append(tab.key)
    for i, key in enumerate(keys):
        clock.now += 1
        tabs.end(key, f"s{i}")
    assert tabs.held() == keys[1:]  # 200 bytes held: under 250


def test_run_bytes_counts_model_weights_and_data_arrays() -> None:
    np = pytest.importorskip("numpy")
    data = SimpleNamespace(x_train=np.zeros((10, 4), np.float32), y=(np.zeros(10, np.int64),))
    job = SimpleNamespace(model=object())
    assert run_bytes(SimpleNamespace(job=job, params=100, data=data)) == 1200 + 160 + 80
    job.model = None  # released: only what is left counts
    assert run_bytes(SimpleNamespace(job=job, params=100, data=None)) == 0


def _home(query: dict[str, str] | None = None):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_app_puts_a_key_in_the_address_bar_and_a_reload_gets_the_runs_back() -> None:
    from pages import _tabs

    first = _home()
    key = first.query_params["tab"]
    run = _run(active=False)
    first.session_state["runs"].append(run)
    first.run()
    owner = _tabs.store()._tabs[key].owner
    _tabs.store().end(key, owner)  # what Streamlit's release of the session does
    again = _home({"tab": key})
    assert again.query_params["tab"] == key
    assert again.session_state["runs"] == [run]
    assert not again.info  # nothing to explain


def test_an_unknown_key_says_the_runs_are_not_here_and_gets_a_new_key() -> None:
    at = _home({"tab": "made-up-key"})
    assert any("not on this server" in i.value for i in at.info)
    assert at.query_params["tab"] != "made-up-key"


def test_a_timer_stops_the_training_when_grace_ends_without_any_visit(monkeypatch) -> None:
    import time

    from pages import _tabs

    tabs = TabStore(grace=0.3, size=lambda run: 0)
    monkeypatch.setattr(_tabs, "_STORE", tabs)
    tab = tabs.new("s")
    run = _run()
    tabs.keep(tab.key, "s", {"runs": [run]})
    started = time.monotonic()
    _tabs._session_ended(_tabs._Session(token="s", key=tab.key))  # Streamlit's release hook
    assert run.job.active  # held: the training goes on
    deadline = started + 10
    while run.job.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.job.stops == 1 and time.monotonic() - started >= 0.3
    assert isinstance(tabs.claim(tab.key, "later"), Gone)
