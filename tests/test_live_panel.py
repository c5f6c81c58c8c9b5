"""The live panel's figure cache: one build per change of data, not one per refresh."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pages.common import cached_figure
from tests.conftest import REPO


def test_a_figure_is_rebuilt_only_when_its_key_changes() -> None:
    record = SimpleNamespace(ui={})
    builds: list[int] = []

    def build(n: int) -> object:
        builds.append(n)
        return object()

    logs = ({"epoch": 0.1, "loss": 1.0},)
    first = cached_figure(record, "curves", (1, logs), lambda: build(1))
    again = cached_figure(record, "curves", (1, ({"epoch": 0.1, "loss": 1.0},)), lambda: build(2))
    assert again is first and builds == [1]  # equal data, even in new objects: no rebuild
    grown = cached_figure(record, "curves", (2, logs), lambda: build(3))
    assert grown is not first and builds == [1, 3]
    other = cached_figure(record, "confusion", (2, logs), lambda: build(4))
    assert other is not grown and builds == [1, 3, 4]  # each figure of a run has its own entry
    assert cached_figure(SimpleNamespace(ui={}), "curves", (2, logs), lambda: build(5))
    assert builds == [1, 3, 4, 5]  # and each run its own cache


def test_the_watchers_of_one_shared_training_share_its_figures(monkeypatch) -> None:  # noqa: ANN001
    from collections import OrderedDict

    from pages import common
    from rnn_core.engine.sharing import ShareRegistry, Watch

    monkeypatch.setattr(common, "_shared_figures", OrderedDict())
    registry = ShareRegistry(max_bytes=0, book=None)

    def watcher(entry: object) -> SimpleNamespace:
        return SimpleNamespace(ui={}, job=Watch(registry, entry, lambda m: None, lambda: None))

    job = SimpleNamespace(memory_need=0)
    class_run = registry.add("spec-a", job, 10, 2)
    other_run = registry.add("spec-b", job, 10, 2)
    students = [watcher(class_run) for _ in range(15)]
    builds: list[str] = []

    def build(what: str) -> object:
        builds.append(what)
        return object()

    logs = (1, ({"epoch": 0.1, "loss": 1.0},))
    figs = [cached_figure(r, "curves", logs, lambda: build("class")) for r in students]
    assert builds == ["class"] and all(f is figs[0] for f in figs)  # drawn once for 15
    grown = (2, ({"epoch": 0.2, "loss": 0.9},))
    assert cached_figure(students[3], "curves", grown, lambda: build("grown")) is not figs[0]
    assert cached_figure(students[9], "curves", grown, lambda: build("again")) is not figs[0]
    assert builds == ["class", "grown"]
    elsewhere = cached_figure(watcher(other_run), "curves", grown, lambda: build("b"))
    assert elsewhere is not figs[0] and builds == ["class", "grown", "b"]  # another training
    own = SimpleNamespace(ui={}, job=SimpleNamespace(shared=False))  # e.g. after Train more
    cached_figure(own, "curves", grown, lambda: build("own"))
    assert builds[-1] == "own"


def test_tensorflow_is_set_up_once_even_when_a_class_presses_start_together(monkeypatch) -> None:  # noqa: ANN001
    import threading
    import time

    import rnn_core.engine.job
    from pages import common

    calls: list[str] = []
    running: list[int] = []

    def set_up() -> None:
        running.append(1)
        assert len(running) == 1, "two threads inside TensorFlow's setup at once"
        time.sleep(0.2)  # a slow setup: the other threads arrive while it runs
        calls.append(threading.current_thread().name)
        running.pop()

    monkeypatch.setattr(rnn_core.engine.job, "set_up_tensorflow", set_up)
    monkeypatch.setattr(common, "_TF_READY", threading.Event())
    barrier = threading.Barrier(8)
    engines: list[object] = []

    def start() -> None:
        barrier.wait()
        engines.append(common.load_training())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1  # the setup ran in exactly one thread
    assert engines == [rnn_core.engine.job] * 8  # and every caller got the engine after it


def test_the_server_sets_tensorflow_up_after_its_first_page_before_any_start(monkeypatch) -> None:  # noqa: ANN001
    import threading

    from streamlit.testing.v1 import AppTest

    import rnn_core.engine.job
    from pages import common

    calls: list[str] = []
    monkeypatch.setattr(
        rnn_core.engine.job,
        "set_up_tensorflow",
        lambda: calls.append(threading.current_thread().name),
    )
    monkeypatch.setattr(common, "_TF_READY", threading.Event())
    monkeypatch.setattr(common, "_prepared", [])
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()  # the home page
    assert not at.exception
    assert common._prepared, "no background setup was started by the first page"
    common._prepared[0].join(60)
    assert calls == ["prepare-training"] and common._TF_READY.is_set()
    assert common.load_training() is rnn_core.engine.job and len(calls) == 1  # Start: no wait


def test_the_panel_keeps_one_period_from_start_to_end_and_reruns_the_page_only_at_the_end() -> None:
    from pages.common import LIVE_REFRESH, needs_page_rerun, refresh_period, starting
    from rnn_core.engine.recorder import Recorder

    rec = Recorder(batches_per_epoch=10, batch_size=4)
    assert refresh_period(rec.snapshot()) is None  # idle: nothing to refresh
    periods, reruns, starts = [], [], []
    for step in (
        lambda: rec.queue(2),  # just pressed Start
        lambda: rec.queue_position(2, "waiting for a free training slot"),
        rec.running,  # a worker loads the model and traces
        rec.epoch_begin,
        lambda: rec.batch(0, {"loss": 1.0}, 0.01),  # the first progress
        lambda: rec.epoch_end(0, {"loss": 1.0}, None),
        rec.epoch_begin,
        rec.stopping,
    ):
        step()
        periods.append(refresh_period(rec.snapshot()))
        reruns.append(needs_page_rerun(LIVE_REFRESH, rec.snapshot()))
        starts.append(starting(rec.snapshot()))
    assert periods == [LIVE_REFRESH] * 8  # no new period, so no page rerun, while it runs
    assert not any(reruns)
    assert starts == [True, False, True, True, False, False, False, False]  # queued: not
    rec.end(stopped_early=True)
    assert refresh_period(rec.snapshot()) is None and not starting(rec.snapshot())
    assert needs_page_rerun(LIVE_REFRESH, rec.snapshot())  # ended: re-enable Start, results
    assert not needs_page_rerun(None, rec.snapshot())  # a panel drawn ended: nothing
    rec.queue(1)  # Train more: a new call, starting again
    assert starting(rec.snapshot()) and refresh_period(rec.snapshot()) == LIVE_REFRESH


def test_the_end_of_a_page_run_shows_a_short_run_s_results_at_once(monkeypatch) -> None:  # noqa: ANN001
    import threading
    import time

    from pages import common
    from rnn_core.engine.recorder import Recorder

    class Rerun(Exception):
        """Stands for Streamlit's rerun of the page."""

    def rerun() -> None:
        raise Rerun

    state: dict = {}
    monkeypatch.setattr(common.st, "session_state", state)
    monkeypatch.setattr(common.st, "rerun", rerun)
    short, long = (Recorder(batches_per_epoch=10, batch_size=4) for _ in range(2))
    for rec in (short, long):
        rec.queue(1)
        rec.running()
    over = Recorder(batches_per_epoch=10, batch_size=4)
    over.end()  # a run drawn starting by a page run that was rerun before its end: ...
    state[common._STARTING_JOBS] = [SimpleNamespace(snapshot=over.snapshot)]
    long.batch(0, {"loss": 1.0}, 0.01)  # still training when the page run ends
    t0 = time.monotonic()
    with common.settle_started_runs():  # ... is not watched by the next page run
        # what live_panel does for a run it draws starting
        state[common._STARTING_JOBS].append(SimpleNamespace(snapshot=long.snapshot))
    assert common.START_WATCH - 0.1 <= time.monotonic() - t0 < common.START_WATCH + 0.2
    assert common._STARTING_JOBS not in state  # no rerun: the panel's redraws show batches
    threading.Timer(0.2, short.end).start()  # over within the watch: the results at once
    t0 = time.monotonic()
    with pytest.raises(Rerun), common.settle_started_runs():
        state[common._STARTING_JOBS].append(SimpleNamespace(snapshot=short.snapshot))
    assert time.monotonic() - t0 < 0.2 + 3 * common.START_POLL


def test_the_time_a_call_has_shown_starting_is_counted_per_call() -> None:
    from pages.common import STARTING_SECONDS, starting_for
    from rnn_core.engine.recorder import Recorder

    rec = Recorder(batches_per_epoch=10, batch_size=4)
    record = SimpleNamespace(ui={})
    rec.queue(1)
    rec.running()  # a new architecture builds and traces in the worker: many seconds
    assert starting_for(record, rec.snapshot(), now=100.0) == 0.0
    assert starting_for(record, rec.snapshot(), now=100.0 + STARTING_SECONDS) == STARTING_SECONDS
    rec.batch(0, {"loss": 1.0}, 0.01)
    rec.end()
    rec.queue(2)  # Train more: a new call starts its own clock
    assert starting_for(record, rec.snapshot(), now=500.0) == 0.0
