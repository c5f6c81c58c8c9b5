"""Real Chromium: a lesson's preset run shows "Your result" on the Lessons page, and the lesson
buttons navigate inside the session, so a two-run lesson ends with both runs compared.

The server reads a tiny IMDB file, so the seed 000 presets (all reviews, 10 epochs) run
unchanged in seconds: the run is the preset's, not a shortened copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server
from tests.tiny_data import write_imdb

pytestmark = pytest.mark.browser
NAV = "[data-testid=stSidebarNav]"
DENSE, RNN = "seed000-imdb-dense", "seed000-imdb-simplernn"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = write_imdb(tmp_path_factory.mktemp("data"))
    with streamlit_server({"RNN_LAB_DATA_DIR": str(data)}) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with chromium_page(1400, 1400) as p:
        yield p


def _sidebar(page, title: str, heading: str) -> None:
    page.locator(NAV).get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # let the page finish streaming in


def _open_from_lesson(page, preset: str) -> None:
    """Press the lesson's Open button; wait for the Train page with the preset loaded."""
    page.get_by_role("button", name=f"Open {preset}").click()
    page.get_by_role("heading", name="Train a recurrent network").wait_for(timeout=60_000)
    page.get_by_text("Source reports:").wait_for(timeout=60_000)
    assert preset in page.get_by_role("combobox", name="Preset").input_value()


def _train_to_the_end(page, run: str) -> None:
    """Start; wait until the run ``run`` has ended and its whole test set is scored."""
    page.get_by_role("button", name=re.compile("Start training")).click()
    page.get_by_role("heading", name=re.compile(f"Run: {run}")).wait_for(timeout=60_000)
    page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=180_000)
    page.get_by_text(re.compile(r"test accuracy, all 40 test reviews")).wait_for(timeout=60_000)


def _result_line(page, preset: str) -> str:
    """The 'Your result' caption under the preset's title on the Lessons page."""
    row = page.locator("[data-testid=stHorizontalBlock]").filter(has_text=preset).first
    return row.get_by_text(re.compile("^Your result")).inner_text()


def _lessons(page) -> None:
    _sidebar(page, "Lessons", "Lessons")
    page.get_by_role("button", name=f"Open {DENSE}").wait_for(timeout=60_000)


def test_lesson_shows_your_result_after_the_preset_run(server: str, page) -> None:
    """Opened from the lesson, or picked in the Train page's preset menu: the run counts."""
    page.goto(f"{server}/lessons")
    page.get_by_role("button", name=f"Open {DENSE}").wait_for(timeout=90_000)
    assert "not run yet" in _result_line(page, DENSE)
    _open_from_lesson(page, DENSE)
    _train_to_the_end(page, "Dense 32×1")
    _lessons(page)
    line = _result_line(page, DENSE)
    assert re.search(r"Dense 32×1, 10 epochs: test accuracy \d\.\d{3}", line), line
    assert "not run yet" in _result_line(page, RNN)

    _sidebar(page, "Train", "Train a recurrent network")
    box = page.get_by_role("combobox", name="Preset")
    box.click()
    box.fill(RNN)
    page.keyboard.press("Enter")
    page.get_by_text("about 68% test accuracy").wait_for(timeout=60_000)
    page.wait_for_timeout(800)
    _train_to_the_end(page, "SimpleRNN 32×1")
    _lessons(page)
    line = _result_line(page, RNN)
    assert re.search(r"SimpleRNN 32×1, 10 epochs: test accuracy \d\.\d{3}", line), line
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lessons_your_result.png"), full_page=True)


def test_two_lesson_runs_are_compared_in_one_session(server: str, page) -> None:
    """Open the first preset, train, back to the lesson, open the second: both runs stay."""
    page.goto(f"{server}/lessons")
    page.get_by_role("button", name=f"Open {DENSE}").wait_for(timeout=90_000)
    _open_from_lesson(page, DENSE)
    _train_to_the_end(page, "Dense 32×1")
    _lessons(page)
    _open_from_lesson(page, RNN)
    _train_to_the_end(page, "SimpleRNN 32×1")
    page.get_by_role("heading", name="Compare runs").wait_for(timeout=60_000)
    table = page.locator("[data-testid=stDataFrame]").last.inner_text()
    body = page.inner_text("body")
    assert "1. Dense 32×1" in body + table and "2. SimpleRNN 32×1" in body + table
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lessons_two_runs_compared.png"), full_page=True)
    _lessons(page)
    assert "Dense 32×1, 10 epochs" in _result_line(page, DENSE)
    assert "SimpleRNN 32×1, 10 epochs" in _result_line(page, RNN)
