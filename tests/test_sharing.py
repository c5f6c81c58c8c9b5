"""Identical runs trained once (rnn_core/engine/sharing.py): watchers, detach, copies, cache."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from rnn_core.engine import runner as runner_module
from rnn_core.engine.memory import ByteCache
from rnn_core.engine.sharing import ShareRegistry, Watch, shared_bytes, spec_key
from rnn_core.run import start_run
from tests.conftest import tiny_spec
from tests.waiting import wait_until

keras = pytest.importorskip("keras")


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every in-thread training call (a real fit) appends the epochs it trains to."""
    calls: list[int] = []
    real = runner_module.ThreadRunner.run

    def counted(self, request, recorder, stop):
        calls.append(request.target)
        return real(self, request, recorder, stop)

    monkeypatch.setattr(runner_module.ThreadRunner, "run", counted)
    return calls


def _start(spec, registry: ShareRegistry, owner: str):
    """A run of ``spec`` through the one run flow with sharing, started (in a thread)."""
    run = start_run(spec, None, in_process=True, share=registry, owner=owner)
    run.job.start()
    return run


def test_spec_key_is_the_full_spec_seeds_included() -> None:
    spec = tiny_spec()
    assert spec_key(spec) == spec_key(tiny_spec())
    assert spec_key(spec) != spec_key(replace(spec, model=replace(spec.model, seed=2)))
    assert spec_key(spec) != spec_key(replace(spec, train=replace(spec.train, seed=2)))
    assert spec_key(spec) != spec_key(replace(spec, data=replace(spec.data, seed=2)))
    assert spec_key(spec) != spec_key(tiny_spec(epochs=3))


@pytest.mark.slow  # long: trains twice
def test_two_identical_starts_train_once_and_each_gets_its_own_weights(fits, monkeypatch) -> None:
    from rnn_core.tasks import get_task

    scored: list[int] = []
    task_type = type(get_task("addition"))
    real_evaluate = task_type.evaluate
    monkeypatch.setattr(
        task_type, "evaluate", lambda self, m, d: scored.append(1) or real_evaluate(self, m, d)
    )
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    a = _start(tiny_spec(epochs=3), registry, "alice")
    b = _start(tiny_spec(epochs=3), registry, "bob")
    assert isinstance(a.job, Watch) and a.job.entry is b.job.entry  # one training
    assert a.job.snapshot().shared_with == 1 and b.job.snapshot().shared_with == 1
    final = b.job.wait(120)
    assert final.state == "done" and final.epoch == 3, final.error
    sa, sb = a.job.snapshot(), b.job.snapshot()
    assert sa.epoch_logs == sb.epoch_logs and sa.batch_logs == sb.batch_logs  # the same curves
    assert sa.version == sb.version and not sa.reused
    assert registry.trained == 1 and fits == [3]  # one fit for two students
    wa, wb = a.job.model.get_weights(), b.job.model.get_weights()
    assert a.job.model is not b.job.model
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))
    results = b.score()  # the shared weights' test scores
    assert results is not None and a.score() is results and scored == [1]  # scored once for both
    a.job.model.set_weights([w + 1.0 for w in wa])  # changing one copy leaves the other alone
    assert all(np.array_equal(x, y) for x, y in zip(b.job.model.get_weights(), wb, strict=True))
    c = _start(tiny_spec(epochs=3), registry, "carol")
    c.job.start(1)  # Train more: carol's own weights are scored for carol alone
    assert c.job.wait(120).state == "done"
    assert c.score() is not results and scored == [1, 1]


def test_stop_by_one_detaches_it_and_stop_by_the_last_stops_the_training(fits) -> None:
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    spec = tiny_spec(epochs=200)  # long enough to be running while both stop
    a, b = _start(spec, registry, "alice"), _start(spec, registry, "bob")
    wait_until(lambda: a.job.snapshot().batch_logs, 60, what="the shared run trains")
    a.job.stop()
    sa = a.job.snapshot()
    assert sa.state == "done" and sa.stopped_early and sa.detached and sa.shared_with == 0
    assert a.job.model is not None and a.job.model.count_params() == a.params  # weights so far
    seen = len(b.job.snapshot().batch_logs)
    wait_until(lambda: len(b.job.snapshot().batch_logs) > seen + 2, 60, what="b goes on")
    sb = b.job.snapshot()
    assert sb.state == "running" and sb.shared_with == 0  # nobody else watches it now
    assert a.job.snapshot() == sa  # a's view stays where it left
    b.job.stop()  # the last watcher: the training itself stops
    end = b.job.wait(60)
    assert end.state == "done" and end.stopped_early and not end.detached
    assert end.epoch < 200 and fits == [200]
    assert registry.find(spec_key(spec)) is None  # a stopped training is not offered again


@pytest.mark.slow  # long: trains twice
def test_different_seeds_train_twice(fits) -> None:
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    spec = tiny_spec(epochs=1)
    a = _start(spec, registry, "alice")
    b = _start(replace(spec, model=replace(spec.model, seed=7)), registry, "bob")
    assert a.job.entry is not b.job.entry
    assert a.job.wait(120).state == "done" and b.job.wait(120).state == "done"
    assert registry.trained == 2 and sorted(fits) == [1, 1]
    assert a.job.snapshot().shared_with == 0


@pytest.mark.slow  # long: trains and trains more
def test_a_finished_run_is_reused_at_once_and_train_more_trains_only_the_copy(fits) -> None:
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    spec = tiny_spec(epochs=2)
    a = _start(spec, registry, "alice")
    done = a.job.wait(120)
    assert done.state == "done"
    c = _start(spec, registry, "carol")  # the same spec after it finished: the cached training
    snap = c.job.snapshot()
    assert snap.state == "done" and snap.reused and snap.epoch_logs == done.epoch_logs
    assert registry.trained == 1 and fits == [2]
    kept = [w.copy() for w in a.job.model.get_weights()]
    c.job.start(1)  # Train more: carol's own copy, a normal unshared training
    more = c.job.wait(120)
    assert more.state == "done" and more.epoch == 3 and not more.reused
    assert more.epoch_logs[:2] == done.epoch_logs  # the curves continue
    assert more.version > snap.version  # so results of the shared weights are not reused
    assert fits == [2, 3] and registry.trained == 1
    assert all(np.array_equal(x, y) for x, y in zip(a.job.model.get_weights(), kept, strict=True))
    assert a.job.snapshot().epoch == 2  # alice's run is untouched


@pytest.mark.slow  # long: trains four runs
def test_finished_trainings_are_evicted_by_bytes() -> None:
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    first, second = tiny_spec(epochs=1), tiny_spec(epochs=1, seed=5)
    a = _start(first, registry, "alice")
    assert a.job.wait(120).state == "done"
    size = shared_bytes(a.job.entry)
    assert size > len(a.job.entry.final.blob) > 1000
    small = ShareRegistry(max_bytes=int(size * 1.5), book=None)  # holds one such training
    x = _start(first, small, "alice")
    assert x.job.wait(120).state == "done" and small.find(spec_key(first)) is x.job.entry
    y = _start(second, small, "bob")
    assert y.job.wait(120).state == "done" and small.find(spec_key(second)) is y.job.entry
    assert small.find(spec_key(first)) is None  # the older one went to make room
    assert x.job.model is not None  # a watcher's copy does not depend on the cache
    assert small.finished.nbytes <= int(size * 1.5)


def test_byte_cache_peek_and_put() -> None:
    cache = ByteCache(10, size=len, book=None)
    assert cache.put("a", b"12345") and cache.peek("a") == b"12345" and cache.peek("b") is None
    assert cache.put("b", b"12345") and cache.peek("a") == b"12345"  # a is now the newest
    assert cache.put("c", b"1") and cache.peek("b") is None  # the least recently used went
    assert not cache.put("big", b"x" * 11) and cache.peek("big") is None


def test_a_held_tab_keeps_watching_until_its_grace_ends_then_only_it_leaves() -> None:
    from pages._tabs import TabStore

    clock = SimpleNamespace(now=1000.0)
    tabs = TabStore(grace=60, clock=lambda: clock.now)
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    spec = tiny_spec(epochs=200)
    closed, open_ = tabs.new("s1"), tabs.new("s2")
    a, b = _start(spec, registry, closed.key), _start(spec, registry, open_.key)
    tabs.keep(closed.key, "s1", {"runs": [a]})
    tabs.keep(open_.key, "s2", {"runs": [b]})
    tabs.end(closed.key, "s1")  # that student closed the tab: held for the grace period
    wait_until(lambda: b.job.snapshot().batch_logs, 60, what="the shared run trains")
    assert a.job.snapshot().active and b.job.snapshot().shared_with == 1  # still watched
    clock.now += 61
    assert tabs.sweep() == [closed.key]  # grace over: the held tab's run is stopped ...
    assert a.job.snapshot().detached  # ... which detaches it only
    seen = len(b.job.snapshot().batch_logs)
    wait_until(lambda: len(b.job.snapshot().batch_logs) > seen, 60, what="b's run goes on")
    assert b.job.snapshot().state == "running" and b.job.snapshot().shared_with == 0
    b.job.stop()
    assert b.job.wait(60).stopped_early


@pytest.mark.slow  # long: trains twice
def test_a_start_that_found_a_training_its_last_watcher_then_stopped_trains_anew(fits) -> None:
    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    spec = tiny_spec(epochs=200)  # long enough to be running when alice stops
    a = _start(spec, registry, "alice")
    wait_until(lambda: a.job.snapshot().batch_logs, 60, what="alice's run trains")
    b = start_run(spec, None, in_process=True, share=registry, owner="bob")  # finds alice's
    assert b.job.entry is a.job.entry
    a.job.stop()  # alice was the only watcher: the training stops before bob presses Start
    assert a.job.wait(60).stopped_early
    b.job.start()  # bob never pressed Stop: his run trains, it does not inherit alice's stop
    wait_until(lambda: b.job.snapshot().epoch_logs, 60, what="bob's run trains an epoch")
    sb = b.job.snapshot()
    assert sb.state == "running" and not sb.stopped_early and sb.shared_with == 0
    assert b.job.entry is not a.job.entry and registry.trained == 2 and fits == [200, 200]
    b.job.stop()
    assert b.job.wait(60).stopped_early


@pytest.mark.slow  # long: trains and trains more
def test_watchers_of_one_training_share_one_copy_of_its_data(fits) -> None:
    import gc

    from rnn_core.run import own_data

    loads: list[object] = []

    def load(task, cfg):
        loads.append(cfg)
        return own_data(task, cfg)

    registry = ShareRegistry(max_bytes=50 << 20, book=None)
    spec = tiny_spec(epochs=1)
    runs = [start_run(spec, None, load, in_process=True, share=registry, owner="alice")]
    runs[0].job.start()
    runs.append(start_run(spec, None, load, in_process=True, share=registry, owner="bob"))
    assert runs[1].data is runs[0].data and len(loads) == 1  # a joiner loads no copy of its own
    runs[1].job.start()
    assert runs[1].job.wait(120).state == "done"
    runs.append(start_run(spec, None, load, in_process=True, share=registry, owner="carol"))
    runs[2].job.start()  # carol's Start: the finished training, at once
    assert runs[2].job.snapshot().reused and runs[2].data is runs[0].data and len(loads) == 1
    runs[2].job.start(1)  # Train more: carol's own training reads the same read-only data
    more = runs[2].job.wait(120)
    assert more.state == "done" and more.epoch == 2 and fits == [1, 2], (more, fits)
    for run in runs:
        run.release()
    runs.clear()
    gc.collect()
    again = start_run(spec, None, load, in_process=True, share=registry, owner="dave")
    assert len(loads) == 2 and again.job.snapshot().reused  # nobody held it: loaded anew
