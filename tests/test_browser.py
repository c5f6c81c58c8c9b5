"""Real Chromium against a real server: train a tiny model and watch the curve appear."""

from __future__ import annotations

import time

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server

pytestmark = pytest.mark.browser


def test_train_tiny_addition_model_in_chromium() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server() as url, chromium_page() as page:
        page.goto(f"{url}/train")
        page.get_by_role("combobox", name="Preset").wait_for(timeout=60_000)
        box = page.get_by_role("combobox", name="Preset")
        box.click()
        box.fill("addition-tiny")
        page.keyboard.press("Enter")
        page.get_by_text("Source reports:").wait_for(timeout=20_000)
        t0 = time.time()
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="Stop").wait_for(timeout=60_000)
        # the curve is drawn while training: Plotly's SVG holds the batch-loss line
        page.locator(".js-plotly-plot .scatterlayer .trace path").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Train more").wait_for(timeout=120_000)
        seconds = time.time() - t0
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "train_addition_done.png"), full_page=True)
        body = page.inner_text("body")
        assert "Ten held-out questions after epoch 3" in body
        assert "epochs done" in body
        traces = page.locator(".js-plotly-plot .scatterlayer .trace").count()
        assert traces >= 6  # batch, epoch and validation lines in both panels
        assert seconds < 120
