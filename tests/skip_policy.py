"""pytest plugin: list every skip, and under CI (``CI=true``) fail on any skip not due to data.

The one accepted reason is ``../shared/data`` being absent: such skips start with
:data:`DATA_SKIP` (use :func:`needs_shared` or :func:`skip_without_shared`). Any other skip in
CI (no Chromium, a missing package, a test that skips itself) turns the run's exit status into
a failure, with the offending tests named in the summary.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA_SKIP = "no ../shared data"  # every data-absent skip reason starts with this


def _missing(names: tuple[str, ...]) -> list[str]:
    """The files of ``names`` that ``../shared/data`` lacks."""
    return [n for n in names if not (SHARED_DATA / n).is_file()]


def _reason(missing: list[str]) -> str:
    """The skip reason for absent shared files."""
    return f"{DATA_SKIP}: {', '.join(missing)} not in {SHARED_DATA}"


def needs_shared(*names: str) -> pytest.MarkDecorator:
    """Mark: skip (with the accepted data reason) unless every file is in ``../shared/data``."""
    missing = _missing(names)
    return pytest.mark.skipif(bool(missing), reason=_reason(missing))


def skip_without_shared(*names: str) -> None:
    """Skip the running test (with the accepted data reason) unless every file is there."""
    missing = _missing(names)
    if missing:
        pytest.skip(_reason(missing))


def in_ci() -> bool:
    """Whether this run is CI's (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason text of a skipped report (without pytest's ``Skipped: `` prefix)."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def unexpected(skips: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The skips whose reason is not the accepted data-absent one."""
    return [(node, why) for node, why in skips if not why.startswith(DATA_SKIP)]


class SkipPolicy:
    """Records each skip; lists the unexpected ones and, in CI, fails the run on them."""

    def __init__(self) -> None:
        self.skips: list[tuple[str, str]] = []  # (node id, reason) of each skip

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, skip_reason(report)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        passing = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        if in_ci() and unexpected(self.skips) and session.exitstatus in passing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:  # noqa: ANN001
        bad = unexpected(self.skips)
        if bad and not in_ci():
            terminalreporter.line(
                f"{len(bad)} skip(s) not due to absent ../shared data: CI (CI=true) fails on them",
                yellow=True,
            )
        elif bad:
            terminalreporter.section("skips not due to absent ../shared data: CI fails", red=True)
            for node, why in bad:
                terminalreporter.line(f"{node}: {why}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipPolicy(), "rnn_lab_skip_policy")
