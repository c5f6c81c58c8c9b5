"""A class on a server inside a memory cgroup: N browser sessions press Start at once.

The server (and every training process it starts) runs in a fresh memory cgroup of
``--memory`` bytes (cgroup v2 where the machine has its memory controller, else v1), with
``RNN_LAB_MAX_TRAININGS=--cap`` and ``RNN_LAB_WARM_WORKERS=--warm-workers`` (default 0, as
measured in RESULTS: the hog waits for two training processes, and an idle warm worker is one).
Three scenarios:

- default, a mixed class: session i opens a share link of addition (3 digits, 3,000
  questions), MNIST (4,000 images) or IMDB (2,000 reviews at maxlen 120) in turn, each with its
  own unit count, and all press Start together. Each page must end with its own run
  ("LSTM 28×1"), no other run and no error.
- ``--same PRESET``: one session trains the preset's link alone first, then ``--sessions``
  sessions open that same link and press Start together (identical runs train once); each
  must finish within ``--within`` × the time alone.
- ``--hog``: the mixed class, and once every run has shown a batch, a process inside the
  cgroup allocates memory until the kernel steps in: a training is to be killed (and shown
  as a readable failed run), never the server.

Printed per session: Start → first batch, Start → done, the queue reasons it showed, its own
run, others, errors; then how many finished, the cgroup's peak memory, its OOM kills, whether
the server is alive and the slowest wait. Needs root (cgroups are created under
/sys/fs/cgroup); elsewhere it says so and exits 0 without measuring.

Usage: python benchmarks/class_cgroup.py --memory 2.7G --cap 8 --sessions 15
       python benchmarks/class_cgroup.py --memory 1.5G --cap 8 --sessions 8
       python benchmarks/class_cgroup.py --memory 2.7G --cap 8 --sessions 15 --same mnist-fast
       python benchmarks/class_cgroup.py --sessions 15 --same addition-fast --split-cpus
       python benchmarks/class_cgroup.py --memory 2.7G --cap 8 --sessions 2 --hog
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ray_class import warm  # noqa: E402
from benchmarks.load_classroom import server_dir  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium, streamlit_server  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
V2 = Path("/sys/fs/cgroup")
V1 = Path("/sys/fs/cgroup/memory")
HOG = (  # grows by 50 MB a step (pages touched) up to 12 GB, unless the kernel ends it first
    "import time\nheld = []\nfor _ in range(240):\n"
    "    held.append(bytearray(50 << 20)); time.sleep(0.05)\ntime.sleep(120)\n"
)


def parse_bytes(text: str) -> int:
    """``2.7G`` / ``1500M`` / a plain byte count -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


@dataclasses.dataclass
class Cgroup:
    """A memory cgroup this script made: its directory and version."""

    path: Path  # its directory under the cgroup mount
    version: int  # 1 or 2

    def read(self, name: str) -> str:
        """One of its files, stripped ("" when absent)."""
        try:
            return (self.path / name).read_text().strip()
        except OSError:
            return ""

    def peak(self) -> int:
        """Its peak memory in bytes since it was made."""
        return int(self.read("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"))

    def usage(self) -> int:
        """Its memory use in bytes now."""
        return int(self.read("memory.current" if self.version == 2 else "memory.usage_in_bytes"))

    def oom_kills(self) -> int:
        """Processes the kernel's OOM killer ended in it."""
        text = self.read("memory.events" if self.version == 2 else "memory.oom_control")
        found = re.search(r"oom_kill (\d+)", text)
        return int(found.group(1)) if found else 0

    def enter_prefix(self) -> list[str]:
        """A command prefix that moves itself into this cgroup, then execs the rest."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh"]


def has_v2_memory() -> bool:
    """True when cgroup v2 is mounted at /sys/fs/cgroup with its memory controller."""
    controllers = V2 / "cgroup.controllers"
    return controllers.exists() and "memory" in controllers.read_text()


def why_no_cgroup() -> str | None:
    """None when a memory cgroup can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root: cannot create a memory cgroup"
    v2 = has_v2_memory()
    if not v2 and not (V1 / "memory.limit_in_bytes").exists():
        return "no memory cgroup controller is mounted (neither v2 nor v1)"
    return None


@contextlib.contextmanager
def memory_cgroup(limit: int) -> Iterator[Cgroup]:
    """A fresh memory cgroup capped at ``limit`` bytes; its processes are killed at the end."""
    name = f"rnnlab-class-{os.getpid()}"
    v2 = has_v2_memory()
    if v2:
        (V2 / "cgroup.subtree_control").write_text("+memory")
        cg = Cgroup(V2 / name, 2)
        cg.path.mkdir()
        (cg.path / "memory.max").write_text(str(limit))
        (cg.path / "memory.swap.max").write_text("0")
    else:
        cg = Cgroup(V1 / name, 1)
        cg.path.mkdir()
        (cg.path / "memory.limit_in_bytes").write_text(str(limit))
        with contextlib.suppress(OSError):  # no swap accounting on some kernels
            (cg.path / "memory.memsw.limit_in_bytes").write_text(str(limit))
    try:
        yield cg
    finally:
        for pid in cg.read("cgroup.procs").split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        with contextlib.suppress(Exception):
            wait_until(lambda: not cg.read("cgroup.procs"), 20, what="the cgroup empties")
        with contextlib.suppress(OSError):
            cg.path.rmdir()


def class_spec(i: int, epochs: int):  # noqa: ANN201
    """Session ``i``'s run: addition, MNIST or IMDB in turn, small data, its own unit count."""
    from rnn_core.config import update
    from rnn_core.presets import get_preset

    units = 16 + 4 * i
    kind = i % 3
    if kind == 0:
        spec = get_preset("addition-fast").spec
        data = update(spec.data, train_size=3_000)
    elif kind == 1:
        spec = get_preset("mnist-fast").spec
        data = update(spec.data, train_size=4_000)
    else:
        spec = get_preset("imdb-fast").spec
        data = update(spec.data, train_size=2_000, maxlen=120)
    model = update(spec.model, units=units)
    train = update(spec.train, epochs=epochs, until="", patience=0)
    return dataclasses.replace(spec, data=data, model=model, train=train)


def same_spec(preset: str, epochs: int | None):  # noqa: ANN201
    """The preset's spec, with ``epochs`` when given."""
    from rnn_core.config import update
    from rnn_core.presets import get_preset

    spec = get_preset(preset).spec
    if epochs:
        spec = dataclasses.replace(spec, train=update(spec.train, epochs=epochs))
    return spec


def reseeded(spec):  # noqa: ANN001, ANN201
    """``spec`` with seed 1 for model and shuffle (another run of the same size)."""
    from rnn_core.config import update

    seed = spec.train.seed + 1
    return dataclasses.replace(
        spec, model=update(spec.model, seed=seed), train=update(spec.train, seed=seed)
    )


def link(spec) -> str:  # noqa: ANN001
    """The Train page's share-link query of ``spec``."""
    from rnn_core.links import to_query

    return urllib.parse.urlencode(to_query(spec))


def label(spec) -> str:  # noqa: ANN001
    """The run's legend name on the page, e.g. ``LSTM 28×1``."""
    return f"{spec.model.cell} {spec.model.units}×{spec.model.layers}"


def browser_path(args: argparse.Namespace) -> str:
    """Chromium, or with ``--nice-browsers`` a wrapper that runs it at the lowest CPU priority
    (the students' browsers are not on the server in a real class)."""
    if not args.nice_browsers:
        return chromium()
    wrapper = ROOT / "artifacts" / "nice-chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 {chromium()} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def session(browser, url: str, spec, go: Gate, timeout: float, tag: str) -> dict:  # noqa: ANN001
    """Open ``spec``'s link, press Start when ``go`` opens, follow the run until it ends."""
    context = await browser.new_context(viewport={"width": 1300, "height": 1600})
    context.set_default_timeout(300_000)  # many pages on 2 loaded cores: the browser lags
    page = await context.new_page()
    name = label(spec)
    r = {"task": spec.task, "name": name, "first_batch": None, "done": None, "reasons": set()}
    r |= {"error": "", "failed": "", "own": False, "others": [], "shared": False}
    try:
        await page.goto(f"{url}/train?{link(spec)}", timeout=300_000)
        start = page.get_by_role("button", name="Start training")
        await start.wait_for(timeout=300_000)
        await go.arrive()
        t0 = time.time()
        await start.click()
        while time.time() - t0 < timeout:
            body = await page.inner_text("body")
            for reason in re.findall(r"(?i)waiting for (memory|a free training slot)", body):
                r["reasons"].add(reason.lower())
            r["shared"] |= bool(re.search(r"shared with|other students?\b", body))
            if r["first_batch"] is None and re.search(r"batch [1-9]\d*/\d+", body):
                r["first_batch"] = round(time.time() - t0, 1)
            failed = re.search(r"Training failed: [^\n]*", body)
            if failed:
                r["failed"] = failed.group(0)[:200]
                break
            if re.search(r"Traceback|Connection error|lost this", body):
                r["error"] = body[:300]
                break
            if await page.get_by_role("button", name="Train more").count():
                failed = re.search(r"Training failed: [^\n]*", await page.inner_text("body"))
                if failed:  # the run ended refused or failed: drawn with its Train more button
                    r["failed"] = failed.group(0)[:200]
                else:
                    r["done"] = round(time.time() - t0, 1)
                break
            await asyncio.sleep(1.0)
        body = await page.inner_text("body")
        r["own"] = name in body
        found = {f"{c} {u}×1" for c, u in re.findall(r"(LSTM|GRU|SimpleRNN) (\d+)×1", body)}
        r["others"] = sorted(found - {name})
        await page.screenshot(path=str(ROOT / "artifacts" / f"cgroup_{tag}.png"), full_page=True)
    except Exception as exc:  # reported in the summary, not hidden
        r["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await context.close()
    return r


class Gate:
    """Opens when ``n`` sessions have arrived (their Start button shown) or one gave up."""

    def __init__(self, n: int) -> None:
        """A gate for ``n`` sessions."""
        self.n, self.arrived, self.open = n, 0, asyncio.Event()

    async def arrive(self) -> None:
        """Count this session in and wait until the gate opens."""
        self.arrived += 1
        if self.arrived >= self.n:
            self.open.set()
        await self.open.wait()


class Sampler:
    """The cgroup's memory use and the number of training children, read twice a second."""

    def __init__(self, cg: Cgroup) -> None:
        """Watch ``cg``."""
        self.cg, self.children_peak = cg, 0
        self.lifetimes: dict[str, list[float]] = {}  # worker pid -> [first seen, last seen]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def spans(self) -> list[float]:
        """Seconds each training process was seen alive (its import and its training)."""
        return [round(last - first, 1) for first, last in self.lifetimes.values()]

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            pids = self.cg.read("cgroup.procs").split()
            workers = 0
            for pid in pids:
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"rnn_core.engine.worker" in cmdline:
                        workers += 1
                        seen = self.lifetimes.setdefault(pid, [time.time(), 0.0])
                        seen[1] = time.time()
            self.children_peak = max(self.children_peak, workers)


async def run(args: argparse.Namespace, url: str, cg: Cgroup) -> int:
    """Drive the scenario on ``url``; print one line per session and the summary."""
    from playwright.async_api import async_playwright

    port = int(url.rsplit(":", 1)[1])
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=browser_path(args), args=CHROMIUM_ARGS)
        await warm(browser, url)
        alone = None
        if args.same:
            spec = same_spec(args.same, args.epochs)
            # alone with another seed (same cost): the class's identical runs must not find it
            solo, cpu = Sampler(cg), server_cpu(port)
            one = await session(browser, url, reseeded(spec), Gate(1), args.timeout, "alone")
            solo.done.set()
            alone = one["done"]
            print(
                f"alone: {one}; its training process lived {solo.spans()} s; the server used "
                f"{server_cpu(port) - cpu:.1f} CPU s",
                flush=True,
            )
            specs = [spec] * args.sessions
        else:
            specs = [class_spec(i, args.epochs or 3) for i in range(args.sessions)]
        sampler = Sampler(cg)
        go = Gate(len(specs))
        jobs = [
            asyncio.create_task(session(browser, url, s, go, args.timeout, f"{i:02d}"))
            for i, s in enumerate(specs)
        ]
        await asyncio.wait_for(go.open.wait(), 600)  # every page shows Start; all press it
        t0, cpu = time.time(), server_cpu(port)
        hog = None
        if args.hog:
            hog = await start_hog(cg, port, args.timeout)
        results = await asyncio.gather(*jobs)
        wall = time.time() - t0
        print(f"the server used {server_cpu(port) - cpu:.1f} CPU s from Start on", flush=True)
        sampler.done.set()
        alive = server_dir(port) is not None
        await browser.close()
    if hog is not None:
        hog_end = hog.poll()
        with contextlib.suppress(ProcessLookupError):
            hog.kill()
        hog.wait()
        print(f"memory hog: {'ended by the kernel' if hog_end is not None else 'still alive'}")
    return report(args, results, wall, alive, cg, sampler, alone)


async def start_hog(cg: Cgroup, port: int, timeout: float) -> subprocess.Popen:
    """Once two trainings run, start a process in ``cg`` that takes memory until stopped."""
    from tests.browser import training_children

    t0 = time.time()
    while len(training_children(port)) < 2 and time.time() - t0 < timeout:
        await asyncio.sleep(0.5)
    await asyncio.sleep(8)  # both are into their first epoch
    print(f"memory hog starts; cgroup at {cg.usage() / 2**20:.0f} MB", flush=True)
    return subprocess.Popen([*cg.enter_prefix(), sys.executable, "-c", HOG])


def server_cpu(port: int) -> float:
    """CPU seconds (user + system) the server on ``port`` has used so far; nan if it is gone."""
    proc = server_dir(port)
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split() if proc else []
    except OSError:
        fields = []
    if not fields:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def report(args, results, wall, alive, cg: Cgroup, sampler: Sampler, alone) -> int:  # noqa: ANN001
    """Print per-session lines and the summary; 0 when the scenario's goal is met."""
    ok = 0
    for r in results:
        fine = r["done"] is not None and r["own"] and not r["others"] and not r["error"]
        fine &= not r["failed"]
        if alone is not None:
            fine &= r["done"] is not None and r["done"] <= args.within * alone
        ok += fine
        print(
            f"{r['task']:<8} {r['name']:<10}: first batch after {r['first_batch']} s, done after "
            f"{r['done']} s, reasons {sorted(r['reasons']) or 'none'}, shared {r['shared']}, "
            f"own run {r['own']}, others {r['others'] or 'none'}, "
            f"failed {r['failed'] or 'no'}, error {r['error'] or 'none'}",
            flush=True,
        )
    firsts = [r["first_batch"] for r in results if r["first_batch"] is not None]
    dones = [r["done"] for r in results if r["done"] is not None]
    failed = sum(bool(r["failed"]) for r in results)
    print(
        f"summary: {ok}/{len(results)} finished with their own run and no error; failed runs "
        f"{failed}; server alive {alive}; cgroup v{cg.version} limit {args.memory}, peak "
        f"{cg.peak() / 2**20:.0f} MB, OOM kills {cg.oom_kills()}; at most "
        f"{sampler.children_peak} training processes (alive {sampler.spans()} s); "
        f"slowest Start → first batch "
        f"{max(firsts, default=float('nan')):.1f} s, slowest Start → done "
        f"{max(dones, default=float('nan')):.1f} s"
        + (f" (alone {alone} s, limit {args.within} ×)" if alone is not None else "")
        + f"; browsers {'at nice 19' if args.nice_browsers else 'at normal priority'}"
        + ("; server on CPU 0, browsers on CPU 1" if args.split_cpus else "")
        + f"; wall {wall:.0f} s; {time.strftime('%Y-%m-%d %H:%M')}; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if args.hog:
        return 0 if alive and failed >= 1 else 1
    return 0 if ok == len(results) and alive else 1


def main() -> int:
    """Parse flags, make the cgroup, start the server in it, run the scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", default="2.7G", help="the cgroup's limit, e.g. 2.7G")
    parser.add_argument("--cap", type=int, default=8, help="RNN_LAB_MAX_TRAININGS")
    parser.add_argument("--sessions", type=int, default=15)
    parser.add_argument("--epochs", type=int, help="epochs of each run (mixed class: 3)")
    parser.add_argument("--same", help="every session opens this preset's link")
    parser.add_argument("--within", type=float, default=1.5, help="--same: slowest ≤ this × alone")
    parser.add_argument("--hog", action="store_true", help="fill the cgroup while runs train")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--nice-browsers", action="store_true", help="Chromium at nice 19 (browsers elsewhere)"
    )
    parser.add_argument(
        "--split-cpus",
        action="store_true",
        help="server and its trainings on CPU 0, this script and Chromium on CPU 1",
    )
    parser.add_argument(  # an idle warm worker counts as a training process in the figures
        "--warm-workers", type=int, default=0, help="RNN_LAB_WARM_WORKERS (RESULTS: 0)"
    )
    args = parser.parse_args()
    reason = why_no_cgroup()
    if reason:
        print(f"skipped: {reason}")
        return 0
    (ROOT / "artifacts").mkdir(exist_ok=True)
    env = {"RNN_LAB_MAX_TRAININGS": str(args.cap), "RNN_LAB_DATA_DIR": str(DATA)}
    env["RNN_LAB_WARM_WORKERS"] = str(args.warm_workers)
    with memory_cgroup(parse_bytes(args.memory)) as cg:
        print(f"cgroup v{cg.version} {cg.path} limit {args.memory}; load {os.getloadavg()}")
        wrap = cg.enter_prefix()
        if args.split_cpus:  # the students' browsers are not on the server in a real class
            os.sched_setaffinity(0, {1})  # this script; Chromium inherits it
            wrap = ["taskset", "-c", "0", *wrap]
        with streamlit_server(env, wrap=wrap) as url:
            return asyncio.run(run(args, url, cg))


if __name__ == "__main__":
    raise SystemExit(main())
