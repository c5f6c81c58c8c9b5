"""End to end in real Chromium: every page opened on a fresh server, one action each, screenshots.

Also: the first deep link of a fresh server goes through the router, and a training keeps
running while its user visits other pages (with a Stop in the sidebar there), and closing the
tab ends that session's training process.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server, training_children
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, trainings
PAGE_TITLES = ["Home", "Train", "Inside the RNN", "Text generation", "Lessons", "Board"]


def _shot(page, name: str) -> None:
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"e2e_{name}.png"), full_page=True)


def _sidebar_links(page) -> list[str]:
    nav = page.locator("[data-testid=stSidebarNav] a")
    return [re.sub(r"^\S+\n", "", t).strip() for t in nav.all_inner_texts()]


def _no_error(page) -> None:
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert page.locator("[data-testid=stException]").count() == 0


def test_every_page_in_chromium() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server() as url, chromium_page(1300, 1000) as page:
        # Lessons first: a fresh server's first deep link must still use app.py's router.
        page.goto(f"{url}/lessons")
        page.get_by_role("heading", name="Lessons").wait_for(timeout=90_000)
        page.wait_for_timeout(500)
        assert _sidebar_links(page) == PAGE_TITLES
        _no_error(page)
        _shot(page, "lessons")
        page.get_by_role("button", name="Open seed003-addition-300").click()  # stays in session
        page.get_by_role("heading", name="Train a recurrent network").wait_for(timeout=90_000)
        page.get_by_text("Source reports:").wait_for(timeout=90_000)
        units = page.get_by_label("Units", exact=True)
        # the page streams in: the form may show its new value a bit later
        wait_until(lambda: units.input_value() == "300", 15, 0.25, "Units = 300")
        _no_error(page)
        _shot(page, "train_from_lesson")

        page.goto(url)
        page.get_by_role("heading", name="RNN Lab").wait_for(timeout=60_000)
        _no_error(page)
        _shot(page, "home")
        page.get_by_role("link", name=re.compile("^Inside the RNN: step")).click()

        page.get_by_role("heading", name="Inside the RNN").wait_for(timeout=60_000)
        page.get_by_role("button", name="Next").first.click()
        page.get_by_text(re.compile(r"t = 1\b")).first.wait_for(timeout=60_000)
        _no_error(page)
        _shot(page, "stepper")

        # Text generation offline: the bundled Python reference, a short slice, one epoch.
        page.get_by_role("link", name="Text generation", exact=True).click()
        page.get_by_role("heading", name="Text generation").wait_for(timeout=60_000)
        page.get_by_text("Python language reference (ships with Python").click()
        page.get_by_text(re.compile(r"characters, \d+ distinct")).wait_for(timeout=60_000)
        use = page.get_by_role("combobox", name="Use")
        use.click()
        use.fill("first 20,000")
        page.keyboard.press("Enter")
        epochs = page.get_by_label("Epochs", exact=True)
        epochs.fill("1")
        epochs.press("Tab")
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="Train more").wait_for(timeout=180_000)
        page.get_by_text(re.compile(r"T\s*=\s*0\.5")).first.wait_for(timeout=60_000)
        _no_error(page)
        _shot(page, "text")

        size = "getComputedStyle(document.documentElement).fontSize"
        normal = page.evaluate(size)
        page.get_by_text("Presenter mode").click()
        page.wait_for_function(f"{size} === '21px'", timeout=30_000)
        assert normal != "21px"
        _shot(page, "text_presenter")
        page.get_by_role("link", name="Lessons", exact=True).click()  # kept across pages
        page.get_by_role("heading", name="Lessons").wait_for(timeout=60_000)
        assert page.evaluate(size) == "21px"


def test_training_keeps_running_on_other_pages_and_stops_from_the_sidebar() -> None:
    with streamlit_server() as url, chromium_page(1300, 1000) as page:
        page.goto(f"{url}/train?preset=addition-fast")
        page.get_by_text("Source reports:").wait_for(timeout=90_000)
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=60_000)
        page.get_by_role("link", name="Home", exact=True).click()
        sidebar = page.locator("[data-testid=stSidebar]")
        sidebar.get_by_text("Training now").wait_for(timeout=30_000)
        status = sidebar.get_by_text(re.compile(r"batch \d+/"))
        status.wait_for(timeout=120_000)  # after "starting: loading TensorFlow…" on a slow box
        first = status.inner_text()  # the run moves on while its user is on another page
        wait_until(lambda: status.inner_text() != first, 60, 0.5, f"a status after {first!r}")
        _shot(page, "home_while_training")
        sidebar.get_by_role("button", name="■ Stop").click()
        sidebar.get_by_text("No training running.").wait_for(timeout=30_000)
        page.get_by_role("link", name="Train", exact=True).click()
        page.get_by_text("the weights learned so far are kept").wait_for(timeout=30_000)
        page.get_by_role("button", name="Train more").wait_for(timeout=30_000)
        _no_error(page)
        _shot(page, "train_after_sidebar_stop")
        # Train more, then Stop from the live panel itself (a button inside a fragment that
        # redraws itself every 0.7 s): the click must land and the page must swap back
        page.get_by_role("button", name="Train more").click()
        stop = page.get_by_role("button", name="■ Stop", exact=True)
        stop.wait_for(timeout=60_000)
        page.get_by_text(re.compile(r"epoch \d+/\d+ · batch [1-9]")).wait_for(timeout=60_000)
        stop.click()
        page.get_by_role("button", name="Train more").wait_for(timeout=30_000)
        page.get_by_role("button", name="Start training", disabled=False).wait_for(timeout=30_000)
        assert not page.get_by_role("button", name="■ Stop", exact=True).count()
        _no_error(page)


def test_closing_the_tab_ends_its_training_process() -> None:
    env = {
        "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2",  # Streamlit's default is 120 s
        "RNN_LAB_TAB_GRACE_SECONDS": "0",  # no grace period (test_browser_reattach has one)
        "RNN_LAB_WARM_WORKERS": "0",  # no warm worker waiting: every child here is a training
    }
    with streamlit_server(env) as url, chromium_page(1300, 1000) as page:
        port = int(url.rsplit(":", 1)[1])
        page.goto(f"{url}/train?preset=addition-fast")
        page.get_by_text("Source reports:").wait_for(timeout=90_000)
        page.get_by_role("button", name="Start training").click()
        page.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=60_000)
        wait_until(lambda: training_children(port), 30, 0.25, "a training child process")
        page.context.close()  # the student closes the tab mid-training
        ended = "the training to end with its session"
        wait_until(lambda: not training_children(port), 60, 0.5, ended)


def test_a_queued_student_sees_the_queue_and_can_leave_it() -> None:
    env = {"RNN_LAB_MAX_TRAININGS": "1", "RNN_LAB_SHARE_RUNS": "0"}  # two trainings, one slot
    with streamlit_server(env) as url, chromium_page(1300, 1000) as a:
        b = a.context.browser.new_page(viewport={"width": 1300, "height": 1000})  # 2nd student
        for page in (a, b):
            page.goto(f"{url}/train?preset=addition-fast")
            page.get_by_text("Source reports:").wait_for(timeout=90_000)
        a.get_by_role("button", name="Start training").click()
        a.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=60_000)
        b.get_by_role("button", name="Start training").click()  # the one slot is taken
        queued = "Waiting for a free training slot: 1 run is training · position 1 in the queue"
        waiting = b.get_by_text(queued)
        waiting.wait_for(timeout=60_000)
        waiting.scroll_into_view_if_needed()
        _shot(b, "queued")
        b.get_by_role("button", name="■ Leave the queue").click()
        b.get_by_text("Stopped after 0 epoch(s)").wait_for(timeout=30_000)
        b.get_by_role("button", name="Train more").wait_for(timeout=30_000)
        b.get_by_role("button", name="Start training", disabled=False).wait_for(timeout=30_000)
        assert a.get_by_role("button", name="■ Stop", exact=True).count()  # a's run goes on
        a.get_by_role("button", name="■ Stop", exact=True).click()
        a.get_by_role("button", name="Train more").wait_for(timeout=30_000)
        for page in (a, b):
            _no_error(page)
