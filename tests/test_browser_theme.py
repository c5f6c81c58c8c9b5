"""Real Chromium: the dark theme is reachable from the ⋮ menu, and in it no page and no chart
has a white area: Home, Lessons, Inside the RNN, Train (MNIST's curves, confusion matrix and
digits, then Compare runs) and Text generation.

Each chart is screenshotted on its own and its pixels are counted: on a dark page a chart may
hold light text and thin light lines, not white areas. The full-page screenshots are kept
under artifacts/ (dark_*.png) for a person to look at. On the way: every chart's modebar holds
the PNG download, the smoothing slider redraws the live curves, and presenter mode redraws
every chart with larger text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from rnn_core.charts.palette import PRESENTER_FONT
from tests.browser import ARTIFACTS, chromium_page, streamlit_server, to_dark_theme, white_share
from tests.tiny_data import write_mnist

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # a server, Chromium, 3 trainings
NAV = "[data-testid=stSidebarNav]"
MAX_WHITE = 0.06  # share of near-white pixels a dark chart may have (its text and thin lines)
PNG_BUTTON = ".modebar-btn[data-title='Download plot as a PNG']"
CURVES = """() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => (g.data || []).some(t => t.name === 'train (batches)'));
  return plot ? plot.data.map(t => ({name: t.name, y: Array.from(t.y || [])})) : null;
}"""  # the live curves' traces as drawn, read from Plotly's graph div; null while redrawn


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = write_mnist(tmp_path_factory.mktemp("data"))
    with streamlit_server({"RNN_LAB_DATA_DIR": str(data)}) as url:
        yield url


def _background_luminance(page) -> float:
    """Relative brightness (0-1) of the app's background colour."""
    colour = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
    )
    r, g, b = (int(v) for v in re.findall(r"\d+", colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _charts_are_dark(page, name: str, least: int) -> None:
    """Screenshot the page; every chart on it has (almost) no white pixels."""
    page.wait_for_timeout(1500)  # let Plotly finish drawing
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dark_{name}.png"), full_page=True)
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= least, f"{name}: {charts.count()} charts"
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        png = chart.screenshot(path=str(ARTIFACTS / f"dark_{name}_chart{i}.png"))
        share = white_share(png)
        assert share < MAX_WHITE, f"{name}: chart {i} is {share:.0%} white"
    assert page.locator("[data-testid=stException]").count() == 0


def _page_is_dark(page, name: str) -> None:
    """A page without charts: its screenshot has (almost) no white pixels either."""
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"dark_{name}.png"), full_page=True)
    share = white_share(png)
    assert share < MAX_WHITE, f"{name}: the page is {share:.0%} white"
    assert page.locator("[data-testid=stException]").count() == 0


def _every_chart_offers_png(page) -> None:
    """Each chart's modebar has the PNG download; the first one downloads an rnn-lab-….png."""
    charts = page.locator(".js-plotly-plot")
    assert page.locator(PNG_BUTTON).count() == charts.count() > 0
    assert page.locator(".js-plotly-plot .modebar-btn").count() == charts.count()  # only it
    charts.first.hover()
    with page.expect_download(timeout=30_000) as download:
        charts.first.locator(PNG_BUTTON).click()
    assert re.fullmatch(r"rnn-lab-[a-z-]+\.png", download.value.suggested_filename)


def _smoothing_redraws_the_curves(page) -> None:
    """The smoothed per-batch curve follows the slider: at 0 only the raw batches are left."""
    page.wait_for_function(f"({CURVES})() !== null", timeout=30_000)
    drawn = {t["name"]: t["y"] for t in page.evaluate(CURVES)}
    smoothed = drawn["train (batches, smoothed 0.6)"]
    assert len(smoothed) == len(drawn["train (batches)"]) > 1
    assert smoothed != drawn["train (batches)"]
    page.get_by_role("slider", name=re.compile("Smoothing")).focus()
    page.keyboard.press("Home")  # the slider's minimum: no smoothing
    page.wait_for_function(
        f"(c => c !== null && !c.some(t => t.name.includes('smoothed')))(({CURVES})())",
        timeout=30_000,
    )  # a chart being redrawn reads as null, not as an error that ends the wait


def _presenter_enlarges_every_chart(page) -> None:
    """Presenter mode redraws every chart with its larger text (Streamlit's theme keeps it)."""
    page.get_by_text("Presenter mode").click()
    page.wait_for_function(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        f".every(g => g._fullLayout.font.size === {PRESENTER_FONT})",
        timeout=30_000,
    )
    titles = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".map(g => g._fullLayout.xaxis.title.text ? g._fullLayout.xaxis.title.font.size : null)"
    )
    assert {t for t in titles if t is not None} == {PRESENTER_FONT}, titles


def _sidebar(page, title: str, heading: str) -> None:
    page.locator(NAV).get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)


def test_dark_theme_is_reachable_and_no_chart_has_a_white_plot_area(server: str) -> None:
    with chromium_page(1400, 3200) as page:  # tall: the whole page in one screenshot
        page.goto(server)
        page.get_by_role("heading", name="RNN Lab").wait_for(timeout=90_000)
        assert _background_luminance(page) > 0.8  # the light theme by default here
        assert "menu (top right)" in page.locator("[data-testid=stSidebar]").inner_text()
        to_dark_theme(page)
        assert _background_luminance(page) < 0.2
        _page_is_dark(page, "home")

        _sidebar(page, "Lessons", "Lessons")
        _page_is_dark(page, "lessons")

        _sidebar(page, "Inside the RNN", "Inside the RNN")
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=90_000
        )
        assert "dark grey 0" in page.inner_text("body")  # the caption follows the theme
        _charts_are_dark(page, "stepper", least=3)
        _every_chart_offers_png(page)

        _sidebar(page, "Train", "Train a recurrent network")
        box = page.get_by_role("combobox", name="Task")
        box.click()
        box.fill("MNIST")
        page.keyboard.press("Enter")
        page.get_by_text("mnist.npz ✓ found").wait_for(timeout=60_000)
        subset = page.get_by_role("combobox", name="Training subset")
        subset.click()
        subset.fill("all")
        page.keyboard.press("Enter")
        page.wait_for_timeout(800)
        page.get_by_role("button", name=re.compile("Start training")).click()
        page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=180_000)
        page.get_by_text("test accuracy, all 30 test images").wait_for(timeout=60_000)
        assert page.locator(".js-plotly-plot .heatmaplayer").count() >= 2  # matrix and digits
        _charts_are_dark(page, "train_mnist", least=3)
        _smoothing_redraws_the_curves(page)
        # a second run with the same settings: the server's finished-run cache serves it
        # (engine/sharing.py), so Compare runs appears without a second training
        page.get_by_role("button", name=re.compile("Start training")).click()
        page.get_by_role("heading", name="Compare runs").wait_for(timeout=180_000)
        page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=180_000)
        page.get_by_text("Best first by val accuracy (higher is better).").wait_for()
        _charts_are_dark(page, "train_compare", least=4)

        _sidebar(page, "Text generation", "Text generation")
        page.get_by_text("Python language reference (ships with Python").click()
        page.get_by_text(re.compile(r"characters, \d+ distinct")).wait_for(timeout=60_000)
        use = page.get_by_role("combobox", name="Use")
        use.click()
        use.fill("first 20,000")
        page.keyboard.press("Enter")
        epochs = page.get_by_label("Epochs", exact=True)
        epochs.fill("1")
        epochs.press("Tab")
        page.wait_for_timeout(800)
        page.get_by_role("button", name=re.compile("Start training")).click()
        page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=240_000)
        page.get_by_text(re.compile(r"T\s*=\s*0\.5")).first.wait_for(timeout=60_000)
        _charts_are_dark(page, "text", least=2)
        _presenter_enlarges_every_chart(page)
        _charts_are_dark(page, "text_presenter", least=2)
