"""The live panel's figure cache: one build per change of data, not one per refresh."""

from __future__ import annotations

from types import SimpleNamespace

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


def test_the_panel_refreshes_fast_until_a_started_run_shows_its_first_batch() -> None:
    from pages.common import LIVE_REFRESH, QUEUED_REFRESH, STARTING_REFRESH, refresh_period
    from rnn_core.engine.recorder import Recorder

    rec = Recorder(batches_per_epoch=10, batch_size=4)
    assert refresh_period(rec.snapshot()) is None  # idle: nothing to refresh
    rec.queue(2)  # just pressed Start: the job's thread has not asked for a slot yet
    assert refresh_period(rec.snapshot()) == STARTING_REFRESH <= 0.3
    rec.queue_position(2, "waiting for a free training slot")  # a real queue: slow
    assert refresh_period(rec.snapshot()) == QUEUED_REFRESH
    rec.running()  # a worker loads the model and traces: the first batch is near
    assert refresh_period(rec.snapshot()) == STARTING_REFRESH
    rec.epoch_begin()
    assert refresh_period(rec.snapshot()) == STARTING_REFRESH
    rec.batch(0, {"loss": 1.0}, 0.01)  # progress is on screen: the normal period
    assert refresh_period(rec.snapshot()) == LIVE_REFRESH
    rec.epoch_end(0, {"loss": 1.0}, None)
    rec.epoch_begin()  # batch 0 of epoch 2: still the normal period
    assert refresh_period(rec.snapshot()) == LIVE_REFRESH
    rec.stopping()
    assert refresh_period(rec.snapshot()) == LIVE_REFRESH
    rec.end(stopped_early=True)
    assert refresh_period(rec.snapshot()) is None
    rec.queue(1)  # Train more: fast again until its first batch
    assert refresh_period(rec.snapshot()) == STARTING_REFRESH


def test_the_first_batch_reaches_the_page_before_the_panel_takes_its_normal_period() -> None:
    from pages.common import STARTING_REFRESH, needs_page_rerun, refresh_period
    from rnn_core.engine.recorder import Recorder

    rec = Recorder(batches_per_epoch=10, batch_size=4)
    rec.queue(1)
    rec.running()
    drawn, deferred = refresh_period(rec.snapshot()), []
    assert drawn == STARTING_REFRESH
    assert not needs_page_rerun(drawn, rec.snapshot(), deferred)  # no batch yet
    rec.batch(0, {"loss": 1.0}, 0.01)
    assert not needs_page_rerun(drawn, rec.snapshot(), deferred)  # this refresh draws it
    assert needs_page_rerun(drawn, rec.snapshot(), deferred)  # the next one: 0.7 s from now
    rec.end()
    assert needs_page_rerun(drawn, rec.snapshot(), [])  # ended: at once (Start, results)
    assert not needs_page_rerun(None, rec.snapshot(), [])  # a panel drawn ended: nothing


def test_a_long_start_falls_back_to_the_normal_period_after_a_few_seconds() -> None:
    from types import SimpleNamespace

    from pages.common import (
        LIVE_REFRESH,
        STARTING_REFRESH,
        STARTING_SECONDS,
        needs_page_rerun,
        refresh_period,
        starting_for,
    )
    from rnn_core.engine.recorder import Recorder

    rec = Recorder(batches_per_epoch=10, batch_size=4)
    record = SimpleNamespace(ui={})
    rec.queue(1)
    rec.running()  # a new architecture builds and traces in the worker: many seconds
    assert starting_for(record, rec.snapshot(), now=100.0) == 0.0
    waited = starting_for(record, rec.snapshot(), now=100.0 + STARTING_SECONDS)
    assert waited == STARTING_SECONDS
    assert refresh_period(rec.snapshot(), starting_for(record, rec.snapshot(), 101.0)) == (
        STARTING_REFRESH
    )
    assert refresh_period(rec.snapshot(), waited) == LIVE_REFRESH  # no 4 redraws/s for long
    deferred: list[bool] = []
    assert not needs_page_rerun(STARTING_REFRESH, rec.snapshot(), deferred, waited)
    assert needs_page_rerun(STARTING_REFRESH, rec.snapshot(), deferred, waited)  # new period
    rec.batch(0, {"loss": 1.0}, 0.01)
    rec.end()
    rec.queue(2)  # Train more: a new call starts its own few fast seconds
    assert starting_for(record, rec.snapshot(), now=500.0) == 0.0
