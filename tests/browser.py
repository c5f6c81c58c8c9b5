"""Helpers for the real-browser tests: a Streamlit server on a free port, Debian Chromium."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
START_SECONDS = 60  # a server not answering its health check by then fails the test
PORT_TRIES = 3  # a port taken between choosing it and binding it: try another one


def chromium() -> str | None:
    """Debian's Chromium (``$RNN_LAB_CHROMIUM``, else ``chromium`` on PATH), or None."""
    given = os.environ.get("RNN_LAB_CHROMIUM")
    found = given or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() and os.access(found, os.X_OK) else None


def why_no_browser() -> str | None:
    """None when the browser tests can run, else one line saying how to enable them."""
    if importlib.util.find_spec("playwright") is None:
        return "browser tests need Playwright: pip install -r requirements-dev.txt"
    if chromium() is None:
        return (
            "no Chromium: browser tests skipped; enable them with `apt-get install chromium` "
            "(Debian; `make test-all` does it when run as root) or "
            "RNN_LAB_CHROMIUM=/path/to/chromium"
        )
    return None


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerDied(RuntimeError):
    """The Streamlit server exited before it answered; the message ends with its output."""

    def __init__(self, code: int, output: str) -> None:
        super().__init__(f"streamlit exited with code {code} before it answered:\n{output}")
        self.code, self.output = code, output


def _dying(pid: int) -> bool:
    """True when ``pid`` has exited (a zombie) while some of its threads are still being torn
    down, so ``waitpid`` cannot report it yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] == "Z"
    except (OSError, IndexError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of the server's log."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server, killing it if it does not exit within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _start(
    port: int, env: dict[str, str], args: list[str], wrap: Sequence[str] = ()
) -> tuple[subprocess.Popen, Path]:
    """Start the server on ``port`` (its command after ``wrap``, a prefix that ends in an exec)
    and wait for its health check; ServerDied if it exits."""
    cmd = [
        *wrap, sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true", *args,
    ]  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"server-{port}.log"
    with open(path, "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)

    def answered() -> bool:
        if proc.poll() is not None:
            raise ServerDied(proc.returncode, _tail(path))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_until(answered, START_SECONDS, 0.2, "streamlit's health check")
    except AssertionError:
        _stop(proc)
        log = _tail(path)
        raise AssertionError(f"streamlit did not answer within {START_SECONDS} s:\n{log}") from None
    except BaseException:
        _stop(proc)
        raise
    return proc, path


@contextlib.contextmanager
def streamlit_server(
    env: dict[str, str] | None = None, args: Sequence[str] = (), wrap: Sequence[str] = ()
) -> Iterator[str]:
    """Start ``streamlit run app.py`` (plus ``args``; after ``wrap``, a command prefix that
    execs the rest, e.g. one that enters a cgroup) on localhost and yield its URL; stop it
    afterwards. A taken port is retried on another; a server that exits before it answers fails
    at once with its output, and one that exits during the test adds its output to the failure
    (ServerDied); its log is ``artifacts/server-PORT.log``."""
    # trainings in child processes, as deployed, unless ``env`` says otherwise (the unit
    # tests train in a thread); a crash in native code leaves every thread's stack in the log
    inherited = {k: v for k, v in os.environ.items() if k != "RNN_LAB_TRAIN_IN_THREAD"}
    full_env = {**inherited, "PYTHONFAULTHANDLER": "1", **(env or {})}
    for attempt in range(PORT_TRIES):
        port = free_port()
        try:
            proc, log = _start(port, full_env, list(args), wrap)
            break
        except ServerDied as died:
            if f"Port {port} is not available" not in died.output or attempt == PORT_TRIES - 1:
                raise
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        died = proc.poll()  # the server ended during the test: its output explains the failure
        if died is None and _dying(proc.pid):  # killed, its threads still exiting: not reaped yet
            died = proc.wait(10)
        _stop(proc)
        if died is not None:
            raise ServerDied(died, _tail(log))


ACTION_WAIT_MS = 60_000  # a click or fill with no timeout of its own: a slow CI box needs > 30 s


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1800) -> Iterator[object]:
    """A Playwright page in Debian's Chromium (never a downloaded browser)."""
    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(ACTION_WAIT_MS)
            yield page
        finally:
            browser.close()


def training_children(port: int) -> list[int]:
    """Pids of ``rnn_core.engine.worker`` children of the server listening on ``port``."""
    server = [
        int(p.parent.name)
        for p in Path("/proc").glob("[0-9]*/cmdline")
        if f"--server.port\0{port}\0" in p.read_bytes().decode(errors="replace")
    ]
    children = []
    for p in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = p.read_text().rsplit(")", 1)[1].split()
            cmdline = (p.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) in server and "rnn_core.engine.worker" in cmdline:
            children.append(int(p.parent.name))
    return children


def to_dark_theme(page) -> None:  # noqa: ANN001
    """Switch Streamlit's theme to Dark from its ⋮ menu and wait until the app is repainted."""
    page.get_by_role("button", name="Main menu").click()
    page.get_by_role("menuitemradio", name="Dark").click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
        " !== 'rgb(255, 255, 255)'",
        timeout=10_000,
    )


def white_share(png: bytes) -> float:
    """Share of a screenshot's pixels that are near white (every channel above 225)."""
    import io

    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)  # (H, W, 3)
    return float((rgb.min(axis=2) > 225).mean())


def message_kind(payload: bytes | str) -> str:
    """A short name of one message the server sent a page over its websocket: ``page run …``
    or ``fragment run …`` (with the run's id), ``timer N s`` (a redraw timer set), ``run ended
    (status)``, ``delta`` (a drawing), or the message's type."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(payload, str):
        return "text"
    msg = ForwardMsg()
    msg.ParseFromString(payload)
    name = msg.WhichOneof("type") or "?"
    run = msg.metadata.run.script_run_id[:6]
    if name == "new_session":
        return f"fragment run {run}" if msg.metadata.run.fragment_ids else f"page run {run}"
    if name == "auto_rerun":
        return f"timer {msg.auto_rerun.interval:g} s"
    if name == "script_finished":
        return f"run ended ({msg.script_finished})"
    return name
