"""The live panel's figure cache: one build per change of data, not one per refresh."""

from __future__ import annotations

from types import SimpleNamespace

from pages.common import cached_figure


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
