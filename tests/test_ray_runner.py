"""The Ray runner on a local one-CPU Ray instance: the child runner's snapshots, Stop, Train
more, a killed actor, queueing for the cluster; and no Ray at all without the address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.engine.process import new_job
from tests.conftest import REPO, tiny_spec
from tests.test_runners import SPEC
from tests.test_runners import _job as local_job
from tests.waiting import wait_until

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]  # a Ray instance, a child trains


def _has_ray() -> bool:
    """Whether Ray is installed (requirements-cluster.txt)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


needs_ray = pytest.mark.skipif(
    not _has_ray(), reason="no ray: pip install -r requirements-cluster.txt (CI installs it)"
)


def test_without_the_address_ray_is_never_imported() -> None:
    code = (
        "import json, sys\n"
        "from rnn_core.run import start_run\n"
        "from tests.conftest import tiny_spec\n"
        "run = start_run(tiny_spec(epochs=1), None)\n"
        "run.job.start(); snap = run.job.wait(120)\n"
        "print(json.dumps([snap.state, type(run.job.runner).__name__, 'ray' in sys.modules]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RNN_LAB_RAY_ADDRESS"}
    env["RNN_LAB_TRAIN_IN_THREAD"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    state, runner, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert (state, runner, imported) == ("done", "ThreadRunner", False)


@pytest.fixture(scope="module")
def ray_mod() -> Iterator[object]:
    """A local Ray instance with one CPU, for this module; shut down at its end."""
    from rnn_core.engine import ray_runner

    ray = ray_runner.connect(
        "local", num_cpus=1, include_dashboard=False, object_store_memory=200 * 2**20
    )
    yield ray
    for job in JOBS:  # a failed test's runs leave the cluster before it goes
        job.stop()
        job.wait(60)
    ray.shutdown()


JOBS: list = []  # every job this module made on the cluster


def ray_job(epochs: int = 2, spec=SPEC):
    """A fresh tiny addition job on the Ray runner (the seeds of tests/test_runners.py)."""
    from rnn_core.engine.memory import estimate
    from rnn_core.engine.ray_runner import RayRunner
    from rnn_core.tasks import get_task

    task = get_task(spec.task)
    data = task.make_data(spec.data)
    model = task.build(spec, data)
    cfg = TrainConfig(epochs=epochs, batch_size=32, publish_every=1, seed=spec.train.seed)
    job = new_job(model, spec.task, data, cfg, runner=RayRunner(spec.task, data, "local"))
    job.memory_need = estimate(spec.task, data, spec.model, cfg, int(model.count_params()))
    JOBS.append(job)
    return job


@pytest.fixture(scope="module")
def trained(ray_mod) -> dict[str, tuple]:
    """Ray and the child runner: a 2-epoch call, then Train more by 1; (job, first, second)."""
    from rnn_core.engine.ray_runner import DATA

    out = {}
    puts = DATA.puts
    for kind, make in (("ray", ray_job), ("process", lambda: local_job("process"))):
        job = make()
        job.start()
        first = job.wait(240)
        assert first.state == "done", first.error
        job.start(1)
        second = job.wait(240)
        assert second.state == "done", second.error
        out[kind] = (job, first, second)
    out["puts"] = DATA.puts - puts
    return out


@needs_ray
def test_ray_gives_the_child_runners_snapshots_and_trains_more(trained) -> None:
    for i in (1, 2):  # the first call, then Train more
        a, b = trained["ray"][i], trained["process"][i]
        assert (a.epoch, a.call_start_epoch) == (b.epoch, b.call_start_epoch) == (i + 1, 2 * i - 2)
        assert len(a.batch_logs) == len(b.batch_logs) == a.epoch * a.batches_per_epoch
        for x, y in zip(a.epoch_logs, b.epoch_logs, strict=True):
            assert set(x) == set(y) >= {"epoch", "loss", "val_loss", "val_exact_match"}
            for key in set(x) - {"seconds"}:
                assert x[key] == pytest.approx(y[key], rel=1e-3, abs=1e-5), key
        np.testing.assert_allclose(
            [log["loss"] for log in a.batch_logs], [log["loss"] for log in b.batch_logs],
            rtol=1e-3, atol=1e-5,
        )  # fmt: skip
        assert [e.exact_match for e in a.epoch_extras] == pytest.approx(
            [e.exact_match for e in b.epoch_extras], abs=1e-9
        )
    job = trained["ray"][0]
    assert job.snapshot().samples_per_sec > 0 and job.runner.host  # it ran on a Ray node
    assert job.runner.actor is None  # each call's actor ended with it: its CPU went back
    weights = [trained[k][0].model.get_weights() for k in ("ray", "process")]
    for x, y in zip(*weights, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-4)
    from rnn_core.export import model_from_bytes

    iterations = model_from_bytes(job.checkpoint).optimizer.iterations.numpy()
    assert int(iterations) == 3 * trained["ray"][2].batches_per_epoch  # optimizer state kept
    assert trained["puts"] == 1  # two calls of one dataset: one copy in the object store


@needs_ray
def test_stop_ends_the_cluster_run_within_one_batch(ray_mod) -> None:
    job = ray_job(epochs=50)
    before = [w.copy() for w in job.model.get_weights()]

    def on_progress(snap) -> None:
        if snap.state == "running" and len(snap.batch_logs) == 1:
            job.stop()

    job.on_progress = on_progress
    job.start()
    snap = job.wait(240)
    assert snap.state == "done" and snap.stopped_early, snap.error
    asked = job.runner.stopped_after  # batches the actor had run when Stop reached it
    assert asked is not None and 1 <= asked <= len(snap.batch_logs) <= asked + 1
    assert snap.epoch < 50
    after = job.model.get_weights()
    assert any(not np.array_equal(x, y) for x, y in zip(before, after, strict=True))


@needs_ray
def test_a_killed_actor_ends_its_run_with_a_readable_message(ray_mod) -> None:
    job = ray_job(epochs=50)
    killed: list[bool] = []

    def on_progress(snap) -> None:
        if snap.state == "running" and len(snap.batch_logs) >= 2 and not killed:
            killed.append(True)
            ray_mod.kill(job.runner.actor)  # as a node failure or an operator would

    job.on_progress = on_progress
    job.start()
    snap = job.wait(240)
    assert killed and snap.state == "failed"
    assert snap.error.startswith("the cluster lost this training: its Ray actor died"), snap.error
    job.on_progress = None
    job.start(1)  # Train more works again afterwards, on a new actor
    assert job.wait(240).state == "done"


@needs_ray
def test_two_runs_queue_for_a_one_cpu_cluster(ray_mod) -> None:
    from rnn_core.charts.training import progress_text
    from rnn_core.engine.ray_runner import DATA

    puts = DATA.puts
    first, second = ray_job(epochs=200), ray_job(epochs=1)
    first.start()
    wait_until(lambda: first.snapshot().batch > 0, 240)
    second.start()
    wait_until(lambda: "CPUs free" in second.snapshot().queue_reason, 60)
    waiting = second.snapshot()
    assert waiting.state == "queued" and first.snapshot().state == "running"
    assert progress_text(waiting).startswith("Waiting for the cluster (0 of 1 CPUs free")
    assert "this run asks 1 CPU and" in waiting.queue_reason
    time.sleep(1.0)
    assert second.snapshot().state == "queued"  # still waiting while the CPU is taken
    first.stop()
    assert first.wait(120).stopped_early
    snap = second.wait(240)
    assert snap.state == "done" and snap.epoch == 1, snap.error
    assert DATA.puts - puts <= 1  # equal data: at most one new copy in the object store


@needs_ray
def test_a_run_no_node_can_hold_is_refused_at_once(ray_mod) -> None:
    job = ray_job()
    job.memory_need = 1 << 50  # a petabyte
    job.start()
    snap = job.wait(60)
    assert snap.state == "failed" and snap.epoch == 0
    assert snap.error.startswith("Not started: no node of the Ray cluster can hold"), snap.error


@needs_ray
def test_start_run_goes_to_the_cluster_when_the_address_is_set(ray_mod, monkeypatch) -> None:
    from rnn_core.engine.ray_runner import ClusterAdmission, RayRunner
    from rnn_core.run import start_run

    monkeypatch.setenv("RNN_LAB_RAY_ADDRESS", "local")  # already connected: kept
    run = start_run(tiny_spec(epochs=1), None)
    assert isinstance(run.job.runner, RayRunner) and isinstance(run.job.pool, ClusterAdmission)
    assert run.job.memory_need > 0  # the memory the actor asks of the cluster
    run.job.start()
    snap = run.job.wait(240)
    assert snap.state == "done" and snap.epoch == 1, snap.error
    assert run.score() is not None  # the page's model holds the trained weights
