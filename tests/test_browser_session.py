"""Real Chromium: train a tiny run, save the session, open the file in a new browser context
(a new session): a refused file changes nothing, the saved file brings the run back with its
curves and results, and Train more continues it."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode

import pytest

from rnn_core.links import to_query
from rnn_core.presets import PRESETS
from tests.browser import ARTIFACTS, chromium_page, streamlit_server
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, trainings
RESULT = re.compile(r"Exact match on all [\d,]+ test questions.*")
SIDEBAR_DROP = "[data-testid=stSidebar] [data-testid=stFileUploaderDropzoneInput]"


def _epochs_done(page) -> int:
    """The live panel's "epochs done" tile (the largest while a redraw shows two copies)."""
    tiles = page.locator("[data-testid=stMetric]", has_text="epochs done")
    values = tiles.locator("[data-testid=stMetricValue]").all_inner_texts()
    return max((int(v) for v in values if v.strip().isdigit()), default=0)


def _no_error(page) -> None:
    assert "Traceback" not in page.inner_text("body")
    assert page.locator("[data-testid=stException]").count() == 0


def test_save_the_session_and_open_it_in_a_new_session(tmp_path) -> None:  # noqa: ANN001
    preset = PRESETS["addition-tiny"].spec
    spec = replace(preset, train=replace(preset.train, epochs=1))
    env = {"RNN_LAB_TRAIN_IN_THREAD": "1"}
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(env) as url, chromium_page(1400, 1300) as page:
        page.goto(f"{url}/train?{urlencode(to_query(spec))}")
        page.get_by_role("button", name="Start training").wait_for(timeout=90_000)
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="⟳ Train more").wait_for(timeout=180_000)
        result = page.get_by_text(RESULT).first
        result.wait_for(timeout=60_000)
        scored = result.inner_text()
        title = page.get_by_role("heading", name=re.compile("^Run: ")).inner_text()
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="Save this session").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.name.endswith(".rnnlab.zip") and saved.stat().st_size > 1000
        page.screenshot(path=str(ARTIFACTS / "session_saved.png"), full_page=True)

        other = page.context.browser.new_context(viewport={"width": 1400, "height": 1300})
        fresh = other.new_page()  # a new browser context: a new session, no runs
        fresh.goto(f"{url}/train")
        fresh.get_by_role("button", name="Start training").wait_for(timeout=90_000)
        assert fresh.get_by_role("heading", name=re.compile("^Run: ")).count() == 0
        broken = tmp_path / "broken.zip"
        broken.write_bytes(saved.read_bytes()[:300])
        fresh.locator(SIDEBAR_DROP).set_input_files(str(broken))
        fresh.get_by_text("broken.zip was not opened: it is not a zip archive").wait_for(
            timeout=60_000
        )
        assert fresh.get_by_role("heading", name=re.compile("^Run: ")).count() == 0
        fresh.screenshot(path=str(ARTIFACTS / "session_refused.png"), full_page=True)

        fresh.locator(SIDEBAR_DROP).set_input_files(str(saved))
        fresh.get_by_text(re.compile(r"Opened .*: 1 run\(s\) added")).wait_for(timeout=120_000)
        fresh.get_by_role("heading", name=title).wait_for(timeout=60_000)
        assert fresh.get_by_text("was not opened").count() == 0  # the old refusal is replaced
        fresh.get_by_text(RESULT).first.wait_for(timeout=60_000)
        assert fresh.get_by_text(RESULT).first.inner_text() == scored  # the same weights
        wait_until(lambda: _epochs_done(fresh) == 1, 60, 0.5, "the opened run's epoch tile")
        fresh.locator("[data-testid=stPlotlyChart]").first.wait_for(timeout=60_000)  # the curves
        fresh.wait_for_timeout(1500)
        fresh.screenshot(path=str(ARTIFACTS / "session_opened.png"), full_page=True)
        _no_error(fresh)

        fresh.get_by_role("button", name="⟳ Train more").click()
        wait_until(lambda: _epochs_done(fresh) >= 2, 180, 0.5, "Train more on the opened run")
        fresh.get_by_role("button", name="⟳ Train more").wait_for(timeout=180_000)
        _no_error(fresh)
        fresh.screenshot(path=str(ARTIFACTS / "session_trained_more.png"), full_page=True)
        other.close()
