"""In Chromium: from Start to the end of a run the page is rerun only when the run ends, so the
browser's redraw timer of the live panel is set once and cannot be lost mid-run."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from urllib.parse import urlencode

import pytest

from rnn_core.links import to_query
from rnn_core.presets import PRESETS
from tests.browser import chromium_page, message_kind, streamlit_server

pytestmark = pytest.mark.browser
EPOCHS = 20  # of the tiny addition run: several seconds of live progress


def test_a_run_s_page_reruns_once_when_it_ends_and_never_while_it_trains() -> None:
    preset = PRESETS["addition-tiny"].spec
    spec = replace(preset, train=replace(preset.train, epochs=EPOCHS))
    seen: list[tuple[float, str]] = []
    with streamlit_server() as url, chromium_page(1300, 1000) as page:
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived", lambda p: seen.append((time.monotonic(), message_kind(p)))
            ),
        )
        page.goto(f"{url}/train?{urlencode(to_query(spec))}")  # a training process: the
        # first batch comes a second or more after Start, while the panel shows it starting
        start = page.get_by_role("button", name="Start training")
        start.wait_for(timeout=90_000)
        start.click()
        # any epoch: a primed worker can finish epoch 1 before the panel's first redraw
        page.get_by_text(re.compile(r"epoch \d+/\d+ · batch [1-9]")).first.wait_for(timeout=60_000)
        first_progress = time.monotonic()
        page.get_by_role("button", name="Train more").wait_for(timeout=120_000)
        ended = time.monotonic()
        page.wait_for_timeout(1500)  # the page rerun that follows the end
        assert "Traceback" not in page.inner_text("body")
    timers = [t for t, k in seen if k.startswith("timer")]
    assert timers and timers[0] < first_progress  # the panel's timer was set after Start
    during = [k for t, k in seen if timers[0] < t < ended - 1.0]  # until just before the end
    assert not [k for k in during if k.startswith("page run")], "a page rerun mid-run"
    assert not [k for k in during if k.startswith("timer")]  # its timer set once, never lost
    assert [k for t, k in seen if t >= ended - 1.0 and k.startswith("page run")]  # at the end
