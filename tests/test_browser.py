"""Real Chromium against a real server: train a tiny model and watch the curve appear."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, trainings


def test_train_tiny_addition_model_in_chromium() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server() as url, chromium_page() as page:
        page.goto(f"{url}/train")
        page.get_by_role("combobox", name="Preset").wait_for(timeout=60_000)
        box = page.get_by_role("combobox", name="Preset")
        box.click()
        box.fill("addition-tiny")
        page.keyboard.press("Enter")
        page.get_by_text("Source reports:").wait_for(timeout=60_000)
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
        assert "Ten validation questions after epoch 3" in body
        assert "epochs done" in body
        traces = page.locator(".js-plotly-plot .scatterlayer .trace").count()
        assert traces >= 6  # batch, epoch and validation lines in both panels
        assert seconds < 120


def test_train_tiny_mnist_model_in_chromium(tmp_path) -> None:  # noqa: ANN001
    from tests.test_app_classify import write_tiny_mnist

    ARTIFACTS.mkdir(exist_ok=True)
    write_tiny_mnist(tmp_path / "data")
    env = {"RNN_LAB_DATA_DIR": str(tmp_path / "data"), "KERAS_HOME": str(tmp_path / "keras")}
    with streamlit_server(env) as url, chromium_page(height=3000) as page:
        page.goto(url)  # through the router, as a student arrives
        page.get_by_role("link", name="Train", exact=True).click()  # the router's link
        box = page.get_by_role("combobox", name="Task")
        box.wait_for(timeout=60_000)
        box.click()
        box.fill("MNIST")
        page.keyboard.press("Enter")
        page.get_by_text("mnist.npz ✓ found").wait_for(timeout=60_000)
        subset = page.get_by_role("combobox", name="Training subset")
        subset.click()
        subset.fill("all")
        page.keyboard.press("Enter")
        t0 = time.time()
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="Train more").wait_for(timeout=120_000)
        seconds = time.time() - t0
        page.get_by_text("test accuracy, all 30 test images").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "train_mnist_done.png"), full_page=True)
        body = page.inner_text("body")
        assert "Training on 54 images and validating on 6 (of 60 available)" in body
        assert re.search(r"Confusion matrix after epoch \d+ \(all 30 test images\)", body)
        assert "misclassified of 30" in body
        assert page.locator(".js-plotly-plot .heatmaplayer").count() >= 2  # matrix and digits
        assert seconds < 120
