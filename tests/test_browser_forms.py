"""Real Chromium: form values survive leaving a page (Home and back), presets and share links.

Also: the Train page comes back on the task last used with its run shown, the address bar
follows the form as it changes, and a fresh server's first deep link goes through the router.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest

from rnn_core.config import ImdbConfig, ModelConfig, RunSpec, TextConfig, TrainConfig
from rnn_core.links import from_query, to_query
from rnn_core.presets import PRESETS
from tests.browser import ARTIFACTS, chromium_page, streamlit_server
from tests.tiny_data import write_imdb, write_mnist

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, trainings
TRAIN, TEXT = "Train a recurrent network", "Text generation"
NAV = "[data-testid=stSidebarNav]"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the form tests; IMDB and MNIST read tiny files from its data directory."""
    data = tmp_path_factory.mktemp("data")
    write_imdb(data)
    write_mnist(data)
    with streamlit_server({"RNN_LAB_DATA_DIR": str(data)}) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with chromium_page(1400, 1400) as p:
        yield p


def _no_error(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in page.inner_text("body")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"forms_{name}.png"), full_page=True)


def _open(page, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading).wait_for(timeout=90_000)
    page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=60_000)


def _sidebar(page, title: str, heading: str) -> None:
    """Click a page in the sidebar navigation; wait for its heading."""
    page.locator(NAV).get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)


def _home_and_back(page, title: str, heading: str) -> None:
    _sidebar(page, "Home", "RNN Lab")
    _sidebar(page, title, heading)
    page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # let the page finish streaming in


def _field(page, label: str):
    """The input of the widget labelled exactly ``label`` (number, selectbox or checkbox)."""
    field = page.locator("[data-testid=stMain]").get_by_label(label, exact=True)
    field.first.wait_for(timeout=60_000)
    assert field.count() == 1, f"{field.count()} widgets labelled {label!r}"
    return field


def _set(page, kind: str, label: str, value: str) -> None:
    """Type or pick a value the way a student does (the field loses focus afterwards)."""
    field = _field(page, label)
    if kind == "number":
        field.fill(value)
        field.press("Enter")
        field.evaluate("e => e.blur()")
    elif kind == "select":
        field.click()
        page.get_by_role("option", name=value, exact=True).click()
    elif field.is_checked() != (value == "on"):
        field.click(force=True)
    page.wait_for_timeout(700)


def _get(page, kind: str, label: str) -> str:
    field = _field(page, label)
    if kind == "check":
        return "on" if field.is_checked() else "off"
    return field.input_value()


def _check(page, expected: list[tuple[str, str, str]], when: str) -> None:
    got = [(k, label, _get(page, k, label)) for k, label, _ in expected]
    assert got == expected, f"{when}: form shows {got}"


def _task(page) -> str:
    return _get(page, "select", "Task")


def _query(page) -> dict[str, str]:
    """The form's part of the address bar (without the tab's private key)."""
    return {k: v for k, v in parse_qsl(urlparse(page.url).query) if k != "tab"}


TASK_LABEL = {"addition": "Addition", "imdb": "IMDB", "mnist": "MNIST"}
CHANGES = {  # per task: at least three controls a student changes
    "addition": [
        ("number", "Units", "77"), ("number", "Epochs", "4"),
        ("number", "Training questions", "5000"), ("select", "Cell", "GRU"),
        ("number", "Learning rate", "0.0050"), ("check", "Unroll the loop", "on"),
    ],
    "imdb": [
        ("number", "Units", "24"), ("number", "Epochs", "3"),
        ("number", "maxlen (tokens)", "120"), ("select", "Cell", "LSTM"),
        ("check", "Bidirectional", "on"), ("select", "Words per timestep", "2"),
    ],
    "mnist": [
        ("number", "Units", "40"), ("number", "Epochs", "2"),
        ("select", "Batch size", "64"), ("select", "Cell", "SimpleRNN"),
        ("select", "Pixel rows per timestep", "4"), ("number", "Batches per call", "4"),
    ],
}  # fmt: skip


def _pick_task(page, task: str) -> None:
    label = next(o for o in _task_options(page) if o.startswith(TASK_LABEL[task]))
    _set(page, "select", "Task", label)
    page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=60_000)
    page.wait_for_timeout(800)


def _task_options(page) -> list[str]:
    _field(page, "Task").click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def _spec_values(spec: RunSpec) -> list[tuple[str, str, str]]:
    """What the Train or Text form must show for a spec (the controls both have)."""
    return [
        ("select", "Cell", spec.model.cell),
        ("number", "Units", str(spec.model.units)),
        ("number", "Epochs", str(spec.train.epochs)),
        ("select", "Batch size", str(spec.train.batch_size)),
        ("number", "Learning rate", f"{spec.train.learning_rate:.4f}"),
    ]


def test_train_form_survives_home_and_back_for_every_task(server: str, page) -> None:
    _open(page, f"{server}/train", TRAIN)
    for task, changes in CHANGES.items():
        _pick_task(page, task)
        for kind, label, value in changes:
            _set(page, kind, label, value)
        _check(page, changes, f"{task} before leaving")
        _home_and_back(page, "Train", TRAIN)
        assert _task(page).startswith(TASK_LABEL[task]), "the task selector moved"
        _check(page, changes, f"{task} after Home and back")
        _no_error(page)
        if task == "addition":
            _shot(page, "train_after_home")
    _pick_task(page, "addition")  # each task keeps its own values
    _check(page, CHANGES["addition"], "addition after imdb and mnist")


def test_train_form_keeps_a_preset_and_a_share_link(server: str, page) -> None:
    _open(page, f"{server}/train", TRAIN)
    _pick_task(page, "imdb")
    name = "seed000-imdb-dense"
    _set(page, "select", "Preset", f"{name} — {PRESETS[name].title}")
    expected = _spec_values(PRESETS[name].spec) + [("number", "maxlen (tokens)", "30")]
    _check(page, expected, "after choosing the preset")
    _home_and_back(page, "Train", TRAIN)
    _check(page, expected, "preset, after Home and back")

    spec = RunSpec(
        task="imdb",
        data=ImdbConfig(maxlen=120, num_words=5000, padding="post", train_size=2000),
        model=ModelConfig(cell="GRU", units=24, bidirectional=True, embedding_dim=16),
        train=TrainConfig(epochs=4, learning_rate=0.002, optimizer="rmsprop", batch_size=64),
    )
    _open(page, f"{server}/train?{urlencode(to_query(spec))}", TRAIN)
    expected = _spec_values(spec) + [
        ("number", "maxlen (tokens)", "120"), ("number", "Vocabulary (num_words)", "5000"),
        ("check", "Bidirectional", "on"), ("select", "Optimizer", "rmsprop"),
    ]  # fmt: skip
    _check(page, expected, "after opening the link")
    assert _task(page).startswith("IMDB")
    _home_and_back(page, "Train", TRAIN)
    assert _task(page).startswith("IMDB")
    _check(page, expected, "link, after Home and back")
    _no_error(page)


def test_an_edited_preset_stops_showing_its_measured_figures(server: str, page) -> None:
    _open(page, f"{server}/train", TRAIN)
    _pick_task(page, "addition")
    name = "addition-fast"
    _set(page, "select", "Preset", f"{name} — {PRESETS[name].title}")
    measured = page.get_by_text("Measured here", exact=False)
    measured.first.wait_for(timeout=60_000)
    _set(page, "number", "Units", "64")
    page.get_by_text(f"Edited from {name} (units changed)", exact=False).wait_for(timeout=60_000)
    assert measured.count() == 0
    _shot(page, "preset_edited")
    _no_error(page)


def test_the_address_bar_follows_the_train_form(server: str, page) -> None:
    _open(page, f"{server}/train", TRAIN)
    _pick_task(page, "addition")
    _set(page, "number", "Units", "66")
    _set(page, "number", "Epochs", "7")
    page.wait_for_function("() => location.search.includes('m.units=66')", timeout=30_000)
    spec = from_query(_query(page))
    assert (spec.task, spec.model.units, spec.train.epochs) == ("addition", 66, 7)


TEXT_CHANGES = [
    ("number", "Units", "96"), ("number", "Epochs", "3"), ("number", "Window (maxlen)", "30"),
    ("select", "Cell", "SimpleRNN"), ("check", "Learn from every prefix", "off"),
    ("number", "Batches per call", "2"),
]  # fmt: skip


def test_text_form_survives_home_and_back_presets_and_links(server: str, page) -> None:
    _open(page, f"{server}/text", TEXT)
    page.get_by_text("Python language reference (ships with Python").click()
    page.wait_for_timeout(800)
    for kind, label, value in TEXT_CHANGES:
        _set(page, kind, label, value)
    _home_and_back(page, "Text generation", TEXT)
    _check(page, TEXT_CHANGES, "text after Home and back")
    assert page.get_by_role("radio", name=re.compile("Python language reference")).is_checked()
    _shot(page, "text_after_home")

    name = "seed003-text-keras"
    _set(page, "select", "Preset", f"{name} — {PRESETS[name].title}")
    expected = _spec_values(PRESETS[name].spec) + [("check", "Learn from every prefix", "off")]
    _check(page, expected, "text preset")
    _home_and_back(page, "Text generation", TEXT)
    _check(page, expected, "text preset, after Home and back")

    spec = RunSpec(
        task="text",
        data=TextConfig(corpus="python-docs", maxlen=25, step=5),
        model=ModelConfig(cell="GRU", units=64, embedding_dim=16),
        train=TrainConfig(epochs=2, batch_size=256, learning_rate=0.004),
    )
    _open(page, f"{server}/text?{urlencode(to_query(spec))}", TEXT)
    expected = _spec_values(spec) + [
        ("number", "Window (maxlen)", "25"), ("number", "Step", "5"),
    ]  # fmt: skip
    _check(page, expected, "text link")
    _home_and_back(page, "Text generation", TEXT)
    _check(page, expected, "text link, after Home and back")
    assert page.get_by_role("radio", name=re.compile("Python language reference")).is_checked()
    _no_error(page)


def test_coming_back_to_train_shows_the_running_task_and_run(server: str, page) -> None:
    main = page.locator("[data-testid=stMain]")
    _open(page, f"{server}/train", TRAIN)
    _pick_task(page, "mnist")
    for kind, label, value in [("number", "Units", "8"), ("number", "Epochs", "30")]:
        _set(page, kind, label, value)
    page.get_by_role("button", name=re.compile("Start training")).click()
    main.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=90_000)
    _sidebar(page, "Home", "RNN Lab")
    _sidebar(page, "Train", TRAIN)
    main.get_by_role("button", name="■ Stop", exact=True).wait_for(timeout=30_000)
    assert _task(page).startswith("MNIST")
    assert page.get_by_role("heading", name=re.compile(r"^Run: ")).count() == 1
    _shot(page, "train_running_mnist_after_home")
    main.get_by_role("button", name="■ Stop", exact=True).click()
    main.get_by_role("button", name="Train more").wait_for(timeout=60_000)
    _no_error(page)


def test_a_fresh_servers_first_request_to_train_goes_through_the_router() -> None:
    with streamlit_server() as url, chromium_page(1300, 1000) as page:
        page.goto(f"{url}/train")  # the very first request this server sees
        page.get_by_role("heading", name=TRAIN).wait_for(timeout=90_000)
        page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=60_000)
        page.locator(f"{NAV} a").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        nav = page.locator(f"{NAV} a").all_inner_texts()
        titles = [re.sub(r"^\S+\n", "", t).strip() for t in nav]
        assert titles == ["Home", "Train", "Inside the RNN", "Text generation", "Lessons", "Board"]
        assert page.get_by_text("Presenter mode").count()  # app.py's sidebar chrome
        _no_error(page)
