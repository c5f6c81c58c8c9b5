"""Real Chromium: the Stepper on the shipped pretrained IMDB model (max pooling) shows the true
gradient of its logit and names max pooling in the explanation."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server
from tests.conftest import SHARED_DATA
from tests.skip_policy import needs_shared

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, trainings


@needs_shared("imdb.npz")
def test_stepper_on_pretrained_imdb_shows_the_gradient_through_max_pooling(tmp_path) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"RNN_LAB_DATA_DIR": str(SHARED_DATA), "KERAS_HOME": str(tmp_path / "keras")}
    with streamlit_server(env) as url, chromium_page(height=5200) as page:
        page.goto(url)
        page.get_by_role("link", name="Train", exact=True).click()
        box = page.get_by_role("combobox", name="Task")
        box.wait_for(timeout=60_000)
        box.click()
        box.fill("IMDB")
        page.keyboard.press("Enter")
        page.get_by_text("imdb.npz ✓ found").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.get_by_text("Start from a pretrained model").click(timeout=60_000)
        page.get_by_role("button", name="Load the pretrained model").click(timeout=60_000)
        page.get_by_role("button", name="Train more").wait_for(timeout=180_000)
        page.wait_for_timeout(3000)
        page.get_by_role("link", name="Inside the RNN", exact=True).click(timeout=120_000)
        page.get_by_text("A model trained this session").click(timeout=60_000)
        page.get_by_text("How far back does it remember?").wait_for(timeout=180_000)
        page.get_by_text("Where max pooling takes each unit").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(
            path=str(ARTIFACTS / "stepper_pretrained_imdb.png"), full_page=True, timeout=120_000
        )
        body = page.inner_text("body")
        assert "the logit of P(positive) (the pre-sigmoid output)" in body
        assert "each unit's maximum over time, max_t h_t (max pooling)" in body
        assert "The gradient enters h only at the timestep where each unit reaches its" in body
        assert "This is the true gradient of the model's own output" in body
        assert "Tip: the Dense head reads each unit's maximum over time (max pooling)" in body
        assert "What is differentiated: for the trained model, the logit of P(positive)" in body
        assert "applied to h_T" not in body  # the old, wrong description
        assert page.locator(".js-plotly-plot").count() >= 4
