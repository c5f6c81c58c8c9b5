"""In Chromium: two students press Start on the same setup; one training runs for both."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import pytest

from rnn_core.links import to_query
from rnn_core.presets import PRESETS
from tests.browser import ARTIFACTS, chromium_page, streamlit_server, training_children
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, a training
EPOCHS = 12  # of the tiny addition run: still training when the second student joins


def _no_error(page) -> None:
    assert "Traceback" not in page.inner_text("body")
    assert page.locator("[data-testid=stException]").count() == 0


def test_two_students_starting_the_same_run_share_one_training_and_both_finish() -> None:
    preset = PRESETS["addition-tiny"].spec
    spec = replace(preset, train=replace(preset.train, epochs=EPOCHS))
    env = {"RNN_LAB_WARM_WORKERS": "0", "RNN_LAB_MAX_TRAININGS": "2"}  # room for two
    with streamlit_server(env) as url, chromium_page(1300, 1400) as a:
        port = int(url.rsplit(":", 1)[1])
        b = a.context.browser.new_page(viewport={"width": 1300, "height": 1400})  # 2nd student
        for page in (a, b):
            page.goto(f"{url}/train?{urlencode(to_query(spec))}")
            page.get_by_role("button", name="Start training").wait_for(timeout=90_000)
        a.get_by_role("button", name="Start training").click()
        a.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=60_000)
        b.get_by_role("button", name="Start training").click()
        b.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=60_000)
        for page in (a, b):
            page.get_by_text("Shared with 1 student:").wait_for(timeout=60_000)
        wait_until(lambda: training_children(port), 60, 0.25, "the training child process")
        assert len(training_children(port)) == 1  # one training for two students
        b.screenshot(path=str(ARTIFACTS / "shared_live.png"), full_page=True)
        for page in (a, b):
            page.get_by_role("button", name="Train more").wait_for(timeout=240_000)
            page.get_by_text("Trained once for you and 1 other student").wait_for(timeout=60_000)
            tile = page.locator("[data-testid=stMetric]", has_text="epochs done")
            assert tile.locator("[data-testid=stMetricValue]").inner_text() == str(EPOCHS)
            _no_error(page)
        a.screenshot(path=str(ARTIFACTS / "shared_done.png"), full_page=True)
