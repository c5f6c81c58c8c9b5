"""Memory-aware admission: cgroup limits (v2, v1, none) from fake trees, process-tree usage,
the child estimate, and the slot pool's FIFO queue with reasons, on a fake clock."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.engine import memory, pool
from rnn_core.engine.memory import MB, Memory, estimate, margin_for, read_limits
from rnn_core.engine.slots import REFUSE_AFTER, MemoryRefused, SlotPool, default_capacity

GB = 1 << 30
SERVER = 100  # pid of the fake server


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _proc(tmp: Path, cgroup: str, total_mb: int = 16_000, available_mb: int = 12_000) -> Path:
    """A fake /proc: this process's cgroup lines, meminfo, and a server with no children."""
    proc = tmp / "proc"
    _write(proc / "self" / "cgroup", cgroup)
    _write(
        proc / "meminfo",
        f"MemTotal: {total_mb * 1024} kB\nMemFree: 1 kB\nMemAvailable: {available_mb * 1024} kB\n",
    )
    _process(proc, SERVER, pss_mb=600, private_mb=300, children=[])
    return proc


def _process(proc: Path, pid: int, pss_mb: int, private_mb: int, children: list[int]) -> None:
    """A fake process: its smaps_rollup and its children list."""
    _write(
        proc / str(pid) / "smaps_rollup",
        f"Rss: {pss_mb * 2048} kB\nPss: {pss_mb * 1024} kB\n"
        f"Private_Clean: 0 kB\nPrivate_Dirty: {private_mb * 1024} kB\n"
        f"Anonymous: {private_mb * 1024} kB\n",
    )
    _write(proc / str(pid) / "task" / str(pid) / "children", " ".join(map(str, children)))


def _v2(tmp: Path, limit: str, cpu: str = "max 100000", parent_limit: str = "max") -> Path:
    """A fake cgroup v2 mount with the app in /app/web and a parent /app."""
    root = tmp / "sys"
    _write(root / "cgroup.controllers", "cpu memory pids")
    _write(root / "app" / "memory.max", parent_limit)
    _write(root / "app" / "web" / "memory.max", limit)
    _write(root / "app" / "web" / "cpu.max", cpu)
    _write(root / "app" / "web" / "memory.current", str(900 * MB))
    _write(root / "app" / "web" / "memory.stat", f"anon 1\ninactive_file {400 * MB}\n")
    return root


def _v1(tmp: Path, limit: int, quota: int = -1, period: int = 100000) -> Path:
    """A fake cgroup v1 hierarchy with the app in /docker/abc."""
    root = tmp / "sys"
    _write(root / "memory" / "docker" / "abc" / "memory.limit_in_bytes", str(limit))
    _write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712")
    _write(root / "cpu" / "docker" / "abc" / "cpu.cfs_quota_us", str(quota))
    _write(root / "cpu" / "docker" / "abc" / "cpu.cfs_period_us", str(period))
    return root


V1_LINES = "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"


def test_v2_limit_is_the_lowest_along_the_ancestors_and_cpu_max_is_the_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})  # a quota below cores
    proc = _proc(tmp_path, "0::/app/web\n")
    sys_root = _v2(tmp_path, str(3 * GB), cpu="150000 100000", parent_limit=str(2 * GB))
    lim = read_limits(sys_root, proc)
    assert lim.memory == 2 * GB and lim.memory_source == "cgroup v2 memory.max"
    assert lim.cgroup == sys_root / "app" and lim.cgroup_version == 2
    assert lim.cpus == 1.5 and lim.cpu_source == "cgroup v2 cpu.max"


def test_v2_without_a_limit_falls_back_to_the_machine(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/app/web\n", total_mb=8000, available_mb=5000)
    lim = read_limits(_v2(tmp_path, "max"), proc)
    assert lim.memory == 8000 * MB and lim.memory_source.startswith("MemTotal")
    assert not lim.limited and lim.cpu_source == "CPU affinity"
    book = Memory(_v2(tmp_path, "max"), proc, pid=SERVER)
    assert book.room() == 5000 * MB - margin_for(8000 * MB)  # MemAvailable less the margin


def test_v1_limit_and_cfs_quota(tmp_path: Path) -> None:
    proc = _proc(tmp_path, V1_LINES)
    lim = read_limits(_v1(tmp_path, 1536 * MB, quota=100000), proc)
    assert lim.memory == 1536 * MB and lim.memory_source == "cgroup v1 memory.limit_in_bytes"
    assert lim.cpus == 1.0 and lim.cpu_source == "cgroup v1 cpu.cfs_quota_us"


def test_v1_unlimited_and_no_cgroup_at_all_read_memtotal(tmp_path: Path) -> None:
    proc = _proc(tmp_path, V1_LINES, total_mb=4000)
    lim = read_limits(_v1(tmp_path, 9223372036854771712), proc)
    assert lim.memory == 4000 * MB and not lim.limited and lim.cpu_source == "CPU affinity"
    bare = _proc(tmp_path / "bare", "", total_mb=3000)
    lim = read_limits(tmp_path / "nothing-mounted", bare)
    assert lim.memory == 3000 * MB and not lim.limited


def test_a_container_that_sees_its_cgroup_as_the_root_reads_the_root(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/kubepods/pod1/ctr\n")  # the host's path, not mounted here
    root = tmp_path / "sys"
    _write(root / "cgroup.controllers", "memory")
    _write(root / "memory.max", str(2700 * MB))
    assert read_limits(root, proc).memory == 2700 * MB


def test_usage_counts_the_tree_once_and_admitted_runs_until_their_child_grows(
    tmp_path: Path,
) -> None:
    proc = _proc(tmp_path, "0::/app/web\n")
    now = [0.0]
    book = Memory(_v2(tmp_path, str(3 * GB)), proc, pid=SERVER, clock=lambda: now[0], every=1.0)
    margin = margin_for(3 * GB)
    # server alone: 600 MB PSS > the cgroup's working set (900 - 400 inactive file = 500 MB)
    assert book.room() == 3 * GB - 600 * MB - margin
    child = {"pid": None}
    book.reserve("run", 500 * MB, lambda: child["pid"])
    assert book.room() == 3 * GB - 600 * MB - 500 * MB - margin  # counted before it exists
    _process(proc, SERVER, 600, 300, children=[201])
    _process(proc, 201, pss_mb=350, private_mb=200, children=[])
    child["pid"] = 201
    assert book.room() == 3 * GB - 600 * MB - 500 * MB - margin  # reading is 1 s old: cached
    now[0] = 1.0
    # the child is measured (350 MB PSS) and may grow by 500 - 200 MB more
    assert book.room() == 3 * GB - 950 * MB - 300 * MB - margin
    book.unreserve("run")
    assert book.room() == 3 * GB - 950 * MB - margin


def test_can_start_and_refusal_name_the_limit(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/app/web\n")
    book = Memory(_v2(tmp_path, str(1536 * MB)), proc, pid=SERVER)
    room = 1536 * MB - 600 * MB - margin_for(1536 * MB)
    assert book.can_start(room) == (True, "")
    fits, why = book.can_start(room + MB)
    assert not fits and "1.5 GB" in why and "cgroup v2 memory.max" in why
    assert book.refusal(room) == ""
    text = book.refusal(room + MB)
    assert "1.5 GB" in text and "cgroup v2 memory.max" in text and "smaller" in text
    assert book.fitting(300 * MB) == room // (300 * MB)


def test_estimate_grows_with_data_and_model() -> None:
    class Data:  # not a dataclass: only x_train is read for the timesteps
        x_train = np.zeros((1000, 40), np.int32)

    lstm = ModelConfig(cell="LSTM", units=128)
    train = TrainConfig(batch_size=64)
    small = estimate("imdb", None, lstm, train, params=10_000, timesteps=40)
    assert small > memory.CHILD_BASE["imdb"] * MB
    assert estimate("imdb", None, lstm, train, 10_000, timesteps=400) > small  # longer sequences
    assert estimate("imdb", None, ModelConfig(units=512), train, 10_000, 40) > small  # wider
    assert estimate("imdb", None, lstm, train, 1_000_000, 40) > small  # more weights
    assert estimate("imdb", None, ModelConfig(cell="SimpleRNN"), train, 10_000, 40) < small


def test_estimate_counts_the_data_arrays() -> None:
    from dataclasses import dataclass

    @dataclass
    class Data:
        x_train: np.ndarray
        note: str = ""

    model, train = ModelConfig(units=8), TrainConfig(batch_size=8)
    a = estimate("mnist", Data(np.zeros((100, 28, 28), np.float32)), model, train, 100)
    b = estimate("mnist", Data(np.zeros((1100, 28, 28), np.float32)), model, train, 100)
    assert b - a == int(memory.DATA_COPIES * 1000 * 28 * 28 * 4)


def test_estimate_counts_the_timesteps_the_rnn_reads_not_the_tokens() -> None:
    from dataclasses import dataclass

    from rnn_core.config import ImdbConfig

    @dataclass
    class Data:
        x_train: np.ndarray
        config: ImdbConfig
        note: str = ""

    x = np.zeros((10, 400), np.int32)  # (N, T) padded reviews
    model, train = ModelConfig(units=80), TrainConfig(batch_size=256)
    one = estimate("imdb", Data(x, ImdbConfig(maxlen=400)), model, train, 100)
    four = estimate("imdb", Data(x, ImdbConfig(maxlen=400, words_per_step=4)), model, train, 100)
    per_step = 4 * 256 * 80 * memory.CELL_ACTIVATIONS["LSTM"]  # bytes per timestep read
    assert one - four == 300 * per_step  # 4 words per step: 100 timesteps of 400 tokens


def test_default_capacity_is_the_cpu_quota_or_memory_and_the_env_bounds_it(
    tmp_path: Path,
) -> None:
    proc = _proc(tmp_path, "0::/app/web\n")
    small = Memory(_v2(tmp_path / "a", str(1200 * MB), cpu="400000 100000"), proc, pid=SERVER)
    # 1200 - 600 server - 128 margin = 472 MB: one typical child, though the quota is 4 cores
    assert default_capacity({}, small) == 1
    roomy = Memory(_v2(tmp_path / "b", str(12 * GB), cpu="200000 100000"), proc, pid=SERVER)
    assert default_capacity({}, roomy) == min(2, len(os.sched_getaffinity(0)))  # the quota
    assert default_capacity({"RNN_LAB_MAX_TRAININGS": "8"}, small) == 8


class _Recorder:
    """What on_wait reported, last first."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []

    def __call__(self, position: int, reason: str) -> None:
        if not self.seen or self.seen[-1] != (position, reason):
            self.seen.append((position, reason))


def _wait_for(cond, timeout: float = 5.0) -> None:
    """Bounded wait for ``cond()``."""
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if cond():
            return
        done.wait(0.02)
    raise AssertionError("condition not reached")


def test_pool_admits_by_memory_in_fifo_order_with_a_plain_reason(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/app/web\n")
    now = [0.0]
    limit = 600 * MB + 128 * MB + 900 * MB  # room for 900 MB beside the server and margin
    book = Memory(_v2(tmp_path, str(limit)), proc, pid=SERVER, clock=lambda: now[0], every=0.0)
    released: list[int] = []
    book.on_pressure(lambda: released.append(1))
    pool = SlotPool(8, book, clock=lambda: now[0])
    assert pool.acquire("a", threading.Event(), _Recorder(), need=600 * MB)  # 300 MB left
    waits = {"b": _Recorder(), "c": _Recorder()}
    got: list[str] = []

    def take(name: str, need: int) -> None:
        if pool.acquire(name, threading.Event(), waits[name], need=need):
            got.append(name)

    tb = threading.Thread(target=take, args=("b", 500 * MB))
    tb.start()
    _wait_for(lambda: bool(waits["b"].seen))
    tc = threading.Thread(target=take, args=("c", 100 * MB))  # would fit, but waits its turn
    tc.start()
    _wait_for(lambda: bool(waits["c"].seen))
    assert waits["b"].seen[-1][0] == 1 and waits["c"].seen[-1][0] == 2
    reason = waits["b"].seen[-1][1]
    assert reason.startswith("waiting for memory: 1 run is training") and "500 MB" in reason
    assert waits["c"].seen[-1][1] == reason and got == [] and released  # caches were asked
    pool.release("a")
    tb.join(5)
    tc.join(5)
    assert got == ["b", "c"] and pool.usage() == (2, 0)


def test_pool_refuses_a_run_that_could_never_fit(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/app/web\n")
    book = Memory(_v2(tmp_path, str(1 * GB)), proc, pid=SERVER)
    pool = SlotPool(2, book)
    with pytest.raises(MemoryRefused, match=r"1\.0 GB in all \(cgroup v2 memory.max\)"):
        pool.acquire("big", threading.Event(), _Recorder(), need=2 * GB)
    assert pool.usage() == (0, 0)


def _server_pss(proc: Path, mb: int) -> None:
    """The fake server now has a PSS of ``mb`` MB (and no children)."""
    _process(proc, SERVER, pss_mb=mb, private_mb=mb // 2, children=[])


def test_server_floor_is_the_lowest_reading_of_the_last_minute(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/app/web\n")
    now = [0.0]
    book = Memory(_v2(tmp_path, str(2 * GB)), proc, pid=SERVER, clock=lambda: now[0], every=1.0)
    for t, mb in [(0, 600), (10, 450), (20, 1200)]:
        now[0] = t
        _server_pss(proc, mb)
        book.usage()
    assert book.usage().server == 1200 * MB and book.server_floor() == 450 * MB
    now[0] = 10 + memory.SERVER_WINDOW + 1  # the 450 MB reading is older than the window
    assert book.server_floor() == 1200 * MB
    _server_pss(proc, 700)
    now[0] += 1
    assert book.server_floor() == 700 * MB  # the current reading counts


def _loading_server(tmp_path: Path) -> tuple[Path, Memory, list[float]]:
    """A 1.5 GB server read at 500 MB, then at 1.2 GB (loading data for another session)."""
    proc = _proc(tmp_path, "0::/app/web\n")
    now = [0.0]
    book = Memory(_v2(tmp_path, str(1536 * MB)), proc, pid=SERVER, clock=lambda: now[0], every=0)
    _server_pss(proc, 500)
    book.usage()
    _server_pss(proc, 1200)
    now[0] = 1.0
    return proc, book, now


def test_a_run_is_not_refused_while_the_server_is_briefly_large(tmp_path: Path) -> None:
    proc, book, now = _loading_server(tmp_path)
    need = 347 * MB  # fits beside 500 MB, not beside 1.2 GB
    assert book.refusal(need) and not book.refusal(need, floor=True)
    pool = SlotPool(2, book, clock=lambda: now[0])
    seen, got = _Recorder(), []

    def take() -> None:
        got.append(pool.acquire("a", threading.Event(), seen, need))

    t = threading.Thread(target=take)
    t.start()
    _wait_for(lambda: bool(seen.seen))
    reason = seen.seen[-1][1]
    assert reason.startswith("waiting for memory: the server itself uses 1.2 GB now"), reason
    assert "347 MB" in reason and got == []
    _server_pss(proc, 520)  # the load is done
    t.join(5)
    assert got == [True] and pool.usage() == (1, 0)


def test_a_run_that_never_fits_beside_the_server_is_refused_after_a_while(
    tmp_path: Path,
) -> None:
    _proc_dir, book, now = _loading_server(tmp_path)
    released: list[int] = []
    book.on_pressure(lambda: released.append(1))
    pool = SlotPool(2, book, clock=lambda: now[0])
    seen, errors = _Recorder(), []

    def take() -> None:
        try:
            pool.acquire("a", threading.Event(), seen, need=347 * MB)
        except MemoryRefused as exc:
            errors.append(str(exc))

    t = threading.Thread(target=take)
    t.start()
    _wait_for(lambda: bool(seen.seen))
    now[0] += REFUSE_AFTER - 1
    _wait_for(lambda: len(released) >= 2)  # caches asked when it did not fit, and 5 s on
    assert t.is_alive() and not errors
    now[0] += 1
    t.join(5)
    assert errors and "1.2 GB of it used by the server itself" in errors[0]
    assert pool.usage() == (0, 0)


def test_library_pages_beyond_the_kept_share_do_not_refuse_a_run_on_a_small_box(
    tmp_path: Path,
) -> None:
    """As measured in a 1 GB cgroup: a server of 643 MB PSS, 313 MB of it TensorFlow's library
    pages, beside which the addition preset's 323 MB child trained; MNIST's 557 MB did not."""
    proc = _proc(tmp_path, "0::/app/web\n")
    _write(
        proc / str(SERVER) / "smaps_rollup",
        f"Rss: {650 * 1024} kB\nPss: {643 * 1024} kB\nPss_Anon: {330 * 1024} kB\n"
        f"Pss_File: {313 * 1024} kB\nAnonymous: {330 * 1024} kB\n",
    )
    book = Memory(_v2(tmp_path, str(1 * GB)), proc, pid=SERVER)
    kept = (643 - (313 - memory.FILE_KEPT)) * MB
    assert book.usage().server == 643 * MB and book.usage().server_kept == kept
    assert book.refusal(323 * MB) == "" and book.refusal(323 * MB, floor=True) == ""
    assert f", {kept >> 20} MB of it used by the server itself" in book.refusal(557 * MB)
    lowest = f"at least {kept >> 20} MB of it used by the server itself"  # the last minute's
    assert lowest in book.refusal(557 * MB, floor=True)
    _process(proc, SERVER, pss_mb=643, private_mb=330, children=[])  # no Pss_File: all counted
    book = Memory(_v2(tmp_path, str(1 * GB)), proc, pid=SERVER)
    assert "643 MB of it used by the server itself" in book.refusal(323 * MB)


def test_pool_waits_for_a_slot_with_its_own_reason(tmp_path: Path) -> None:
    pool = SlotPool(1)
    assert pool.acquire("a", threading.Event(), _Recorder())
    seen = _Recorder()
    cancel = threading.Event()
    t = threading.Thread(target=lambda: pool.acquire("b", cancel, seen))
    t.start()
    _wait_for(lambda: bool(seen.seen))
    assert seen.seen[-1] == (1, "waiting for a free training slot: 1 run is training")
    cancel.set()
    t.join(5)
    pool.release("a")


def test_slot_threads_share_the_cores() -> None:
    assert memory.slot_threads(2, cpus=2.0) == 1
    assert memory.slot_threads(1, cpus=4.0) == 4
    assert memory.slot_threads(8, cpus=2.0) == 1


def test_byte_cache_is_bounded_in_bytes_and_emptied_under_pressure(tmp_path: Path) -> None:
    book = Memory(tmp_path / "sys", _proc(tmp_path, ""), pid=SERVER)
    cache = memory.ByteCache(250, size=len, book=book)
    made: list[str] = []

    def make(key: str, n: int):
        return lambda: made.append(key) or b"x" * n

    assert cache.get("a", make("a", 100)) == b"x" * 100
    cache.get("b", make("b", 100))
    cache.get("a", make("a", 100))  # held: not made again, and now the newest
    cache.get("c", make("c", 100))  # 300 > 250: the least recently used ("b") goes
    assert made == ["a", "b", "c"] and cache.nbytes == 200
    cache.get("b", make("b", 100))
    assert made[-1] == "b"
    big = cache.get("big", make("big", 300))  # larger than the cache: returned, not kept
    assert len(big) == 300 and cache.nbytes <= 250
    book.relieve()  # a training waits for memory
    assert cache.nbytes == 0


def test_byte_cache_makes_a_key_once_for_concurrent_callers(tmp_path: Path) -> None:
    cache = memory.ByteCache(10_000, size=len, book=None)
    gate, calls = threading.Event(), []

    def slow() -> bytes:
        calls.append(1)
        gate.wait(5)
        return b"data"

    got: list[bytes] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", slow))) for _ in range(4)]
    for t in threads:
        t.start()
    _wait_for(lambda: len(calls) == 1)
    gate.set()
    for t in threads:
        t.join(5)
    assert got == [b"data"] * 4 and len(calls) == 1


def test_oom_score_not_permitted_is_quiet_and_logged_once(monkeypatch, caplog) -> None:
    def refuse(self: Path, text: str) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "write_text", refuse)
    monkeypatch.setattr(memory, "_warned", threading.Event())
    with caplog.at_level("INFO", logger="rnn_core.engine.memory"):
        assert memory.set_oom_score("self", -500) is False
        assert memory.set_oom_score("self", -500) is False
    assert len([r for r in caplog.records if "oom_score_adj" in r.getMessage()]) == 1


def test_progress_text_shows_the_queue_reason() -> None:
    from types import SimpleNamespace

    from rnn_core.charts.training import progress_text

    snap = SimpleNamespace(state="queued", queue_position=3, queue_reason="")
    assert progress_text(snap) == "Waiting for a free training slot · position 3 in the queue"
    snap.queue_reason = "waiting for memory: 2 runs are training (this run needs about 400 MB)"
    assert progress_text(snap).startswith("Waiting for memory: 2 runs are training (this run")
    assert progress_text(snap).endswith("position 3 in the queue")


def test_a_process_own_memory_leaves_out_library_files_it_alone_maps(tmp_path) -> None:
    # a worker that imported TensorFlow while the server did not: TensorFlow's library pages
    # are private to it (Private_Clean), yet they are files, not memory the worker holds
    proc = tmp_path / "proc"
    _write(
        proc / "77" / "smaps_rollup",
        "Rss: 668492 kB\nPss: 660000 kB\nShared_Clean: 17436 kB\nPrivate_Clean: 355852 kB\n"
        "Private_Dirty: 295204 kB\nAnonymous: 295204 kB\n",
    )
    assert memory.anonymous_bytes(77, proc) == 295204 * 1024
    assert pool.anonymous_mb(77, proc) == pytest.approx(295204 / 1024)
    assert memory.anonymous_bytes(78, proc) == 0  # gone
    _write(proc / "79" / "status", "VmRSS: 5000 kB\nRssAnon: 3000 kB\nRssFile: 2000 kB\n")
    assert memory.anonymous_bytes(79, proc) == 3000 * 1024  # no smaps_rollup: RssAnon


def test_a_training_child_gets_threads_for_every_core_unless_the_host_says_otherwise() -> None:
    every = memory.slot_threads(1)
    assert memory.child_env({}) == {memory.THREADS_ENV: str(every)}
    assert memory.child_env({memory.THREADS_ENV: "1"}) == {memory.THREADS_ENV: "1"}
    assert memory.child_env({memory.THREADS_ENV: "0"}) == {memory.THREADS_ENV: str(every)}
    assert memory.child_env({memory.THREADS_ENV: "x"}) == {memory.THREADS_ENV: str(every)}


def test_a_child_that_will_train_beside_others_gets_its_share_of_the_threads() -> None:
    assert memory.child_threads(0, {}) == memory.slot_threads(1)  # alone: every core
    assert memory.child_threads(1, {}) == memory.slot_threads(2)  # beside one: half of them
    assert memory.child_threads(7, {}) == 1  # never fewer than one
    assert memory.child_threads(3, {memory.THREADS_ENV: "2"}) == 2  # the host's setting wins
    assert memory.child_env({}, threads=1) == {memory.THREADS_ENV: "1"}


def test_the_estimate_covers_measured_bidirectional_children() -> None:
    # benchmarks/child_memory.py --preset imdb-fast (RESULTS, 2026-12-06): peak private MB of
    # the training child, by GRU units each way and layers, with the model's parameters
    measured = {(16, 1): (595, 110_049), (32, 1): (633, 127_169), (64, 1): (700, 170_625)}
    measured[32, 2] = (799, 145_985)
    held = memory.DATA_COPIES * 77 * MB  # the run's data arrays: 77 MB
    train = TrainConfig(batch_size=256)
    for (units, layers), (peak, params) in measured.items():
        model = ModelConfig(cell="GRU", units=units, layers=layers, bidirectional=True)
        need = estimate("imdb", None, model, train, params, timesteps=100) + held
        assert need >= peak * MB, (units, layers, need / MB)
