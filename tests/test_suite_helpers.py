"""The test suite's own machinery: bounded waits, the skip policy, the server helper."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from rnn_core.engine.memory import slot_threads
from tests import browser
from tests.conftest import share_the_cores
from tests.skip_policy import DATA_SKIP, SkipPolicy
from tests.waiting import wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    calls = iter([0, None, "", 7, 8])
    assert wait_until(lambda: next(calls), timeout=5, interval=0.001) == 7


def test_wait_until_fails_at_the_deadline_naming_what_it_waited_for() -> None:
    t0 = time.monotonic()
    with pytest.raises(AssertionError, match=r"not within 0\.3 s: the moon"):
        wait_until(lambda: False, timeout=0.3, interval=0.05, what="the moon")
    assert 0.3 <= time.monotonic() - t0 < 2


SAMPLE = f"""
import pytest

def test_passes():
    pass

def test_data_absent():
    pytest.skip("{DATA_SKIP}: imdb.npz not in /nowhere")

def test_skips_for_another_reason():
    pytest.skip("no Chromium here")
"""


def _pytest(pytester: pytest.Pytester, ci: str, *args: str, **files: str) -> pytest.RunResult:
    """Run the test ``files`` (name: source) in-process under the skip policy, ``CI=ci``, with
    pytest's extra ``args``."""
    pytester.makepyfile(**files)
    os.environ["CI"] = ci  # restored by the monkeypatch fixture of each test
    return pytester.runpytest_inprocess(
        "-q", "-rs", "-p", "no:cacheprovider", *args, plugins=[SkipPolicy()]
    )


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("CI", "")
    return pytester


def test_ci_fails_on_a_skip_not_due_to_absent_data(pytester: pytest.Pytester) -> None:
    out = _pytest(pytester, "true", test_sample=SAMPLE)
    text = out.stdout.str()
    assert out.ret == pytest.ExitCode.TESTS_FAILED, text
    out.assert_outcomes(passed=1, skipped=2)
    assert "skips not due to absent ../shared data: CI fails" in text
    assert "test_sample.py::test_skips_for_another_reason: no Chromium here" in text
    assert "test_sample.py::test_data_absent:" not in text  # listed by -rs only


def test_outside_ci_the_same_skips_are_listed_but_pass(pytester: pytest.Pytester) -> None:
    out = _pytest(pytester, "", test_sample=SAMPLE)
    assert out.ret == pytest.ExitCode.OK
    out.stdout.fnmatch_lines(["1 skip(s) not due to *", "SKIPPED [[]1[]] *: no Chromium here"])


def test_ci_accepts_skips_for_absent_shared_data(pytester: pytest.Pytester) -> None:
    out = _pytest(pytester, "true", test_sample=SAMPLE.split("def test_skips_for_another")[0])
    assert out.ret == pytest.ExitCode.OK, out.stdout.str()
    out.assert_outcomes(passed=1, skipped=1)
    out.stdout.fnmatch_lines([f"SKIPPED [[]1[]] test_sample.py:*: {DATA_SKIP}: imdb.npz*"])
    assert "not due to" not in out.stdout.str()


GONE = "import pytest\npytest.importorskip('no_such_package_here')\n"  # skips at import


def test_ci_fails_on_a_module_that_skips_at_import(pytester: pytest.Pytester) -> None:
    out = _pytest(pytester, "true", test_gone=GONE)
    assert out.ret == pytest.ExitCode.TESTS_FAILED, out.stdout.str()
    assert "no_such_package_here" in out.stdout.str().split("not due to absent")[1]


def test_under_xdist_workers_every_skip_reaches_the_policy(pytester: pytest.Pytester) -> None:
    """`make test` runs in pytest-xdist workers: the skips they report, at run time and at
    import (which each worker reports; listed once), are listed and fail CI."""
    out = _pytest(pytester, "true", "-n", "2", test_sample=SAMPLE, test_gone=GONE)
    text = out.stdout.str()
    assert out.ret == pytest.ExitCode.TESTS_FAILED, text
    assert "bringing up nodes" in text, text  # it ran in workers
    out.assert_outcomes(passed=1, skipped=3)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "not due to absent ../shared data" in line)
    end = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    assert sorted(lines[start + 1 : end]) == [
        "test_gone.py: could not import 'no_such_package_here': "
        "No module named 'no_such_package_here'",
        "test_sample.py::test_skips_for_another_reason: no Chromium here",
    ], text


def test_each_xdist_worker_gives_tensorflow_its_share_of_the_cores() -> None:
    env = {"PYTEST_XDIST_WORKER_COUNT": "2"}
    share_the_cores(env)
    share = str(slot_threads(2))  # half the cores, at least 1
    assert env["TF_NUM_INTRAOP_THREADS"] == env["TF_NUM_INTEROP_THREADS"] == share
    mine = {"PYTEST_XDIST_WORKER_COUNT": "2", "TF_NUM_INTRAOP_THREADS": "3"}
    share_the_cores(mine)
    assert mine["TF_NUM_INTRAOP_THREADS"] == "3" and mine["TF_NUM_INTEROP_THREADS"] == share
    alone: dict[str, str] = {}  # no workers: TensorFlow's own default, a thread per core
    share_the_cores(alone)
    assert alone == {}


@pytest.mark.process  # a Streamlit server
def test_a_server_that_exits_fails_at_once_with_its_output() -> None:
    t0 = time.monotonic()
    with (
        pytest.raises(browser.ServerDied, match="(?i)no such option"),
        browser.streamlit_server(args=["--server.noSuchOption", "1"]),
    ):
        pass
    assert time.monotonic() - t0 < browser.START_SECONDS / 2


@pytest.mark.process  # a Streamlit server
def test_a_taken_port_is_retried_on_another(monkeypatch) -> None:  # noqa: ANN001
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy])
        free = browser.free_port
        monkeypatch.setattr(browser, "free_port", lambda: next(ports, None) or free())
        with browser.streamlit_server() as url:
            assert not url.endswith(f":{busy}")
            assert "is not available" in (browser.ARTIFACTS / f"server-{busy}.log").read_text()


def _server_pid(port: int) -> int:
    """The pid of the Streamlit server started on ``port``."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if f"--server.port\0{port}\0" in cmdline.read_bytes().decode(errors="replace"):
                return int(cmdline.parent.name)
    raise AssertionError(f"no server on port {port}")


@pytest.mark.process  # a Streamlit server
def test_a_server_that_dies_during_the_test_adds_its_output() -> None:
    with pytest.raises(browser.ServerDied, match="exited with code -9"):  # noqa: SIM117
        with browser.streamlit_server() as url:
            pid = _server_pid(int(url.rsplit(":", 1)[1]))
            os.kill(pid, signal.SIGKILL)  # e.g. the kernel's OOM killer
            stat = Path(f"/proc/{pid}/stat")
            wait_until(lambda: stat.read_text().rsplit(") ", 1)[1][0] == "Z", 10, what="death")
