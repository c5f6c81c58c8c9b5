"""In Chromium: a reload keeps the tab's runs (mid-run and after the end), a copied tab does not
take them, an expired tab says what happened, and a closed tab's training ends after grace."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest

from rnn_core.links import to_query
from rnn_core.presets import PRESETS
from tests.browser import ARTIFACTS, chromium_page, streamlit_server, training_children

pytestmark = pytest.mark.browser
EPOCHS = 40  # of the tiny addition run reloaded mid-run: still training after the reload


def _tab_key(page) -> str:
    """The tab's private key in the address bar (waits for the page to write it)."""
    for _ in range(80):
        key = dict(parse_qsl(urlparse(page.url).query)).get("tab")
        if key:
            return key
        page.wait_for_timeout(250)
    raise AssertionError(f"no tab key in the address bar: {page.url}")


def _start(page, url: str, epochs: int) -> None:
    """Open the Train page on a tiny addition setup with ``epochs`` epochs and press Start."""
    preset = PRESETS["addition-tiny"].spec
    spec = replace(preset, train=replace(preset.train, epochs=epochs))
    page.goto(f"{url}/train?{urlencode(to_query(spec))}")
    page.get_by_role("button", name="Start training").wait_for(timeout=90_000)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=60_000)


def _epochs_done(page) -> int:
    """The live panel's "epochs done" tile."""
    tile = page.locator("[data-testid=stMetric]", has_text="epochs done")
    return int(tile.locator("[data-testid=stMetricValue]").inner_text())


def _no_error(page) -> None:
    assert "Traceback" not in page.inner_text("body")
    assert page.locator("[data-testid=stException]").count() == 0


def test_a_reload_mid_run_reattaches_to_the_same_run_and_it_finishes() -> None:
    env = {"RNN_LAB_TRAIN_IN_THREAD": "1"}
    with streamlit_server(env) as url, chromium_page(1300, 1000) as page:
        _start(page, url, epochs=EPOCHS)
        progress = re.compile(rf"epoch ([3-9]|\d\d)/{EPOCHS}")  # two epochs done at least
        page.get_by_text(progress).first.wait_for(timeout=60_000)
        key = _tab_key(page)
        before = _epochs_done(page)
        assert 2 <= before < EPOCHS, "the run ended before the reload; make it longer"
        heading = page.get_by_role("heading", name=re.compile("^Run: ")).inner_text()

        page.reload()
        page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
        assert _tab_key(page) == key
        page.locator("[data-testid=stMetric]", has_text="epochs done").wait_for(timeout=60_000)
        after = _epochs_done(page)
        assert after >= before  # the same run, not a new one (nothing starts one on a reload)
        print(f"epochs done before the reload {before}, after it {after}")
        assert page.get_by_text("Compare runs").count() == 0  # one run, not a copy
        page.get_by_role("button", name="Train more").wait_for(timeout=120_000)
        page.wait_for_timeout(1000)
        assert _epochs_done(page) == EPOCHS  # it trained on through the reload, to the end
        assert page.get_by_text("Stopped after").count() == 0
        assert page.locator("[data-testid=stPlotlyChart]").count() >= 1  # the curves
        page.screenshot(path=str(ARTIFACTS / "reattach_finished.png"), full_page=True)

        page.reload()  # after the end: the results come back too, with the model
        page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
        page.get_by_role("button", name="Train more").wait_for(timeout=60_000)
        assert _epochs_done(page) == EPOCHS
        exact = page.locator("[data-testid=stMetric]", has_text="val exact match")
        value = exact.locator("[data-testid=stMetricValue]").inner_text()
        assert re.fullmatch(r"[01]\.\d{3}", value), value
        page.get_by_label("Ask your own sum").fill("12+34")
        page.get_by_role("button", name="Ask the model").click()
        page.get_by_text(re.compile(r"12\+34 = ")).wait_for(timeout=60_000)
        share = page.locator("[data-testid=stCode]").filter(has_text="task=addition").first
        assert "tab=" not in share.inner_text() and key not in share.inner_text()
        _no_error(page)


def test_a_copied_tab_gets_no_runs_and_an_expired_tab_says_what_happened() -> None:
    env = {"RNN_LAB_TRAIN_IN_THREAD": "1", "RNN_LAB_TAB_GRACE_SECONDS": "2"}
    with streamlit_server(env) as url, chromium_page(1300, 1000) as page:
        _start(page, url, epochs=1)
        page.get_by_role("button", name="Train more").wait_for(timeout=120_000)
        address = page.url
        assert _tab_key(page)

        browser = page.context.browser
        copy = browser.new_page(viewport={"width": 1300, "height": 1000})  # same address, open
        copy.goto(address)
        copy.get_by_text("This tab is a copy of another open tab").wait_for(timeout=60_000)
        assert copy.get_by_role("heading", name=re.compile("^Run: ")).count() == 0
        assert _tab_key(copy) != _tab_key(page)
        copy.context.close()

        page.context.close()  # the student closes the tab
        time.sleep(4)  # past the 2 s grace period
        late = browser.new_page(viewport={"width": 1300, "height": 1000})
        late.goto(address)
        note = late.get_by_text(re.compile(r"This tab's 1 run from \d\d:\d\d expired after 2 s"))
        note.wait_for(timeout=60_000)
        late.get_by_role("button", name="Start training").wait_for(timeout=60_000)
        assert late.get_by_role("heading", name=re.compile("^Run: ")).count() == 0
        late.screenshot(path=str(ARTIFACTS / "reattach_expired.png"), full_page=True)
        _no_error(late)


def test_a_closed_tabs_training_goes_on_for_the_grace_period_then_ends_and_frees_its_slot():
    grace = 8
    env = {
        "RNN_LAB_TAB_GRACE_SECONDS": str(grace),
        "RNN_LAB_MAX_TRAININGS": "1",  # the slot the next student needs
        "RNN_LAB_WARM_WORKERS": "0",  # no warm worker waiting: every child here is a training
    }
    with streamlit_server(env) as url, chromium_page(1300, 1000) as page:
        port = int(url.rsplit(":", 1)[1])
        _start(page, url, epochs=200)  # a child process trains it
        for _ in range(120):
            if training_children(port):
                break
            page.wait_for_timeout(250)
        children = training_children(port)
        assert children, "no training child process started"
        browser = page.context.browser
        page.context.close()  # the student's browser disconnects mid-run
        closed = time.monotonic()
        time.sleep(grace / 2)
        assert training_children(port) == children, "the training ended within the grace period"
        for _ in range(120):
            if not training_children(port):
                break
            time.sleep(0.5)
        assert not training_children(port), "the training went on after the grace period"
        ended = time.monotonic() - closed
        print(f"training child ended {ended:.1f} s after the tab closed (grace {grace} s)")
        assert ended >= grace - 0.5

        other = browser.new_page(viewport={"width": 1300, "height": 1000})
        _start(other, url, epochs=1)  # the one slot is free: trains at once, no queue
        assert other.get_by_role("button", name="■ Leave the queue").count() == 0
        other.get_by_role("button", name="Train more").wait_for(timeout=120_000)
        _no_error(other)
