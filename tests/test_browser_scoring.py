"""In Chromium: a run's test set is scored in its training process, never by the page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from rnn_core.config import MnistConfig, ModelConfig, RunSpec, TrainConfig
from rnn_core.links import to_query
from tests.browser import ARTIFACTS, chromium_page, streamlit_server
from tests.tiny_data import write_mnist

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, a training
TEST_PER_CLASS = 3_000  # 30,000 test digits: seconds of scoring, wherever it runs

# every text the page shows is kept, so a spinner or a status line that came and went is seen
WATCH = """
window.__texts = new Set();
new MutationObserver(() => {
  const t = document.body ? document.body.innerText : "";
  for (const line of t.split("\\n")) {
    if (/Scoring all|scoring the trained model/.test(line)) window.__texts.add(line.trim());
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def test_the_page_shows_test_scores_it_never_computed(tmp_path) -> None:
    """MNIST with 30,000 test digits, one epoch: the panel says the trained model is being
    scored, then the page shows the confusion matrix of all test digits without ever showing
    its own "Scoring all … test images" spinner (the page never runs the test set)."""
    data = write_mnist(tmp_path / "data", per_class=30, test_per_class=TEST_PER_CLASS)
    spec = RunSpec(
        task="mnist",
        data=MnistConfig(train_size=300),
        model=ModelConfig(cell="GRU", units=64),
        train=TrainConfig(epochs=1, batch_size=64),
    )
    with streamlit_server({"RNN_LAB_DATA_DIR": str(data)}) as url, chromium_page() as page:
        page.add_init_script(WATCH)
        page.goto(f"{url}/train?{urlencode(to_query(spec))}")
        page.get_by_role("button", name="Start training", disabled=False).wait_for(timeout=120_000)
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="Train more").wait_for(timeout=300_000)
        everything = f"all {10 * TEST_PER_CLASS:,} test images"
        page.get_by_text(everything).first.wait_for(timeout=120_000)
        page.wait_for_timeout(1_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "scoring_in_the_worker.png"), full_page=True)
        texts = page.evaluate("[...window.__texts]")
    assert not [t for t in texts if "Scoring all" in t], texts  # the page never scored
    assert [t for t in texts if "scoring the trained model" in t], texts  # the worker did
