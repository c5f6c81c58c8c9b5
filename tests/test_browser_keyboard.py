"""Real Chromium: the stepper answers Left / Right / Space (a presentation clicker's keys) and the
browser's Back / Forward, Start answers Ctrl+Enter, and every page stays usable on a 390 px wide
phone screen."""

from __future__ import annotations

import re

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # a server, Chromium, TensorFlow
PHONE = 390  # CSS pixels: an iPhone 12-15 held upright
SLACK = 2  # pixels of horizontal overflow tolerated (sub-pixel rounding)
STEP = re.compile(r"t = (\d+) \(step \d+ of (\d+)\)")


def _env(tmp_path) -> dict[str, str]:  # noqa: ANN001
    """No data directory and an empty Keras cache: the pages pick what needs no download."""
    return {"RNN_LAB_DATA_DIR": "", "KERAS_HOME": str(tmp_path / "keras")}


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:  # noqa: ANN001
    """One server for this module's tests: each test opens its own browser session on it."""
    with streamlit_server(_env(tmp_path_factory.mktemp("server"))) as address:
        yield address


def _t(page) -> int | None:  # noqa: ANN001
    """The stepper's timestep as the page says it ("t = 12 (step 13 of 100)"); None while the
    line is not drawn."""
    found = STEP.search(page.inner_text("[data-testid='stMain']"))
    return int(found.group(1)) if found else None


FOCUSED = "document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : null"
APP = "[data-testid='stApp']"


def _app_state(page) -> str:  # noqa: ANN001
    """The app's script run and connection state, as Streamlit writes them on its root."""
    app = page.locator(APP)
    run, link = (app.get_attribute(f"data-test-{what}-state") for what in ("script", "connection"))
    return f"{run}, {link}"


def _press(page, key: str) -> None:  # noqa: ANN001
    """Press ``key`` once the page has finished its last run and is connected, as a presenter
    presses the next key once the step is drawn."""
    wait_until(
        lambda: _app_state(page) == "notRunning, CONNECTED",
        60,
        0.1,
        f"the page idle to press {key}",
    )
    page.keyboard.press(key)


def _settle(page, want: int) -> None:  # noqa: ANN001
    """Wait until the stepper shows timestep ``want``; the failure says what it showed."""
    try:
        wait_until(lambda: _t(page) == want, 60, 0.2, f"the stepper to show t = {want}")
    except AssertionError as exc:
        seen = (
            f"it shows t = {_t(page)}; app {_app_state(page)}; address {page.url}; "
            f"focus on {page.evaluate(FOCUSED)}"
        )
        raise AssertionError(f"{exc}: {seen}") from None


def test_the_stepper_answers_left_right_and_space(url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(f"{url}/stepper?timesteps=20&t=5&utm_source=lms&embed_options=light")
        page.get_by_role("button", name=re.compile("^Next")).wait_for(timeout=120_000)
        _settle(page, 5)  # the link's timestep; utm_* and embed_options are no error
        assert not page.get_by_text("could not be used").count()
        page.get_by_role("heading", name="Inside the RNN").click()  # focus on no control
        _press(page, "ArrowRight")
        _settle(page, 6)
        _press(page, "ArrowRight")
        _settle(page, 7)
        _press(page, "ArrowLeft")
        _settle(page, 6)
        wait_until(lambda: "t=6" in page.url, 90, 0.2, "the address bar to follow the stepper")
        page.screenshot(path=str(ARTIFACTS / "stepper_keyboard.png"), timeout=60_000)
        _press(page, " ")  # Play
        page.get_by_role("button", name=re.compile("^Pause")).wait_for(timeout=60_000)
        wait_until(lambda: (_t(page) or 0) >= 9, 60, 0.2, "Play to move the stepper on")
        page.keyboard.press(" ")  # Pause
        page.get_by_role("button", name=re.compile("^Play")).wait_for(timeout=60_000)
        seen: list[int | None] = []

        def steady() -> bool:
            seen.append(_t(page))
            return len(seen) > 5 and len(set(seen[-6:])) == 1 and seen[-1] is not None  # 1.5 s

        wait_until(steady, 60, 0.3, "the paused stepper to stay on one timestep")
        page.wait_for_timeout(2000)  # three frames of Play: a paused stepper stays put
        assert _t(page) == seen[-1] < 19


CLIPPED = """() => [...document.querySelectorAll("[data-testid='stMain'] button")]
    .filter((b) => /Previous|Play|Pause|Next/.test(b.innerText))
    .flatMap((b) => [b, ...b.querySelectorAll("*")])
    .filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.closest("button").innerText.replace(/\\s+/g, " "))"""


@pytest.mark.parametrize("width", [1400, 1000, PHONE])
def test_the_stepper_buttons_show_their_whole_labels(url: str, width: int) -> None:
    """Previous / Play / Next and their keys are never cut to an ellipsis, on a laptop beside
    the sidebar or on a phone."""
    with chromium_page(width, 1000) as page:
        page.goto(f"{url}/stepper?timesteps=20&t=5")
        page.get_by_role("button", name=re.compile("^Next")).wait_for(timeout=120_000)
        _settle(page, 5)
        labels = page.evaluate("[...document.querySelectorAll('button')].map(b => b.innerText)")
        assert sum(bool(re.search(r"Previous|Play|Next", label)) for label in labels) >= 3
        assert page.evaluate(CLIPPED) == []


def test_back_and_forward_walk_the_steppers_own_addresses(url: str) -> None:
    with chromium_page() as page:
        page.goto(f"{url}/stepper?timesteps=20&t=5")
        page.get_by_role("button", name=re.compile("^Next")).wait_for(timeout=120_000)
        _settle(page, 5)
        for want in (6, 7):
            page.get_by_role("button", name=re.compile("^Next")).click()
            _settle(page, want)
            wait_until(lambda w=want: f"t={w}" in page.url, 60, 0.2, f"the address to say t={want}")
        page.go_back()
        _settle(page, 6)
        page.go_back()
        _settle(page, 5)
        page.go_forward()
        _settle(page, 6)


def test_start_answers_ctrl_enter(url: str) -> None:
    with chromium_page() as page:
        page.goto(f"{url}/train?preset=addition-tiny")
        start = page.get_by_role("button", name=re.compile("Start training"))
        start.wait_for(timeout=120_000)
        page.get_by_role("heading", name="Train a recurrent network").click()
        page.keyboard.press("Control+Enter")
        stop = page.get_by_role("button", name=re.compile("^■ (Stop|Leave the queue)$"))
        stop.first.wait_for(timeout=300_000)  # TensorFlow's first import, on a loaded machine
        stop.first.click()
        page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=120_000)
        page.set_viewport_size({"width": PHONE, "height": 844})  # a run's page on a phone
        page.get_by_text("Curves as a table").click()
        page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=60_000)
        page.wait_for_timeout(2000)
        width = page.evaluate(WIDTHS)
        assert max(width["page"], width["main"]) <= PHONE + SLACK, width
        page.set_viewport_size({"width": PHONE, "height": min(page.evaluate(MAIN_HEIGHT), 9000)})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "phone_train_run.png"), timeout=120_000)


PAGES = {  # url path -> (heading, names of controls that must be on screen and usable)
    "": ("RNN Lab", ()),
    "train": ("Train a recurrent network", ("button:Start training", "combobox:Task")),
    "stepper": ("Inside the RNN", ("button:Next", "button:Previous", "slider:Timestep t")),
    "text": ("Text generation", ("button:Start training", "radiogroup:Corpus")),
    "lessons": ("Lessons", ()),
    "board": ("Class board", ("textbox:Class code",)),
}


WIDTHS = """() => ({
    page: document.scrollingElement.scrollWidth,
    main: document.querySelector("[data-testid='stMain']").scrollWidth,
    inner: window.innerWidth,
})"""  # the document's and the app body's (Streamlit's own scroller) scroll widths
MAIN_HEIGHT = "document.querySelector(\"[data-testid='stMain']\").scrollHeight"
NAMELESS = """() => [...document.querySelectorAll("[data-testid='stMain'] button")].map(b => {
    const text = b.cloneNode(true);  // what a screen reader reads: not the icons' ligatures
    text.querySelectorAll("[aria-hidden='true']").forEach(e => e.remove());
    return (b.getAttribute('aria-label') || text.textContent || b.title || '').trim();
}).filter(name => !/[A-Za-z]{2}/.test(name))"""  # buttons whose name has no word in it


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits_a_phone_screen(path: str, url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    heading, controls = PAGES[path]
    with chromium_page(PHONE, 844) as page:
        page.goto(f"{url}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
        page.wait_for_timeout(3000)  # charts and late widgets laid out
        for control in controls:
            role, name = control.split(":")
            found = page.get_by_role(role, name=re.compile(re.escape(name))).first
            found.scroll_into_view_if_needed(timeout=60_000)
            assert found.is_visible(), f"{control} is not visible at {PHONE} px"
            box = found.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE + SLACK, control
        width = page.evaluate(WIDTHS)
        assert width["page"] <= PHONE + SLACK, f"/{path} scrolls sideways at {PHONE} px: {width}"
        assert width["main"] <= PHONE + SLACK, f"/{path}'s body is wider than {PHONE} px: {width}"
        tall = min(page.evaluate(MAIN_HEIGHT), 9000)  # the body scrolls inside stMain:
        page.set_viewport_size({"width": PHONE, "height": tall})  # a tall phone shows all of it
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / f"phone_{path or 'home'}.png"), timeout=120_000)
        unnamed = page.evaluate(NAMELESS)
        assert not unnamed, f"buttons without a readable name on /{path}: {unnamed}"
