"""Real Chromium: a refused corpus upload is said once and leaves the uploader; the last good
file stays in use (it used to stay as a red chip beside the good file)."""

from __future__ import annotations

import re

import pytest

from tests.browser import ARTIFACTS, chromium_page, streamlit_server

pytestmark = pytest.mark.browser
CORPUS = "[data-testid=stFileUploader]:has-text('A plain-text file')"  # not the other uploaders
CHIPS = f"{CORPUS} [data-testid=stFileChip]"
DROP = f"{CORPUS} [data-testid=stFileUploaderDropzoneInput]"


def test_a_refused_upload_leaves_no_chip_and_the_good_file_stays(tmp_path) -> None:  # noqa: ANN001
    good = tmp_path / "good.txt"
    good.write_text("the quick brown fox jumps over the lazy dog. " * 400, encoding="utf-8")
    bad = tmp_path / "photo.bin"  # not text: our check refuses it, not the browser's type filter
    bad.write_bytes(bytes(range(256)) * 64)
    with streamlit_server() as url, chromium_page(1400, 1400) as page:
        page.goto(f"{url}/text")
        page.get_by_role("heading", name="Text generation").wait_for(timeout=90_000)
        page.get_by_text("Your own .txt file").click(timeout=90_000)  # the form follows the title
        drop = page.locator(DROP)
        drop.wait_for(state="attached", timeout=60_000)
        drop.set_input_files(str(good))
        page.get_by_text(re.compile(r"good\.txt.*characters, \d+ distinct")).wait_for(
            timeout=60_000
        )
        assert page.locator(CHIPS).count() == 1

        page.locator(DROP).set_input_files(str(bad))
        page.get_by_text("This file cannot be used.").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "upload_refused.png"), full_page=True)
        page.get_by_text(re.compile("In use: good.txt")).wait_for(timeout=60_000)
        assert page.locator(CHIPS).count() == 0  # no refused file left in the uploader
        assert "binary" in page.inner_text("body")  # our own reason, not the browser's
        assert page.get_by_text(re.compile(r"good\.txt.*characters, \d+ distinct")).count()
        assert page.get_by_role("button", name=re.compile("Start training")).is_enabled()
