"""Real Chromium: two students (two browser contexts) hand in runs under one class code, and a
third visitor sees both on the Board, ranked, with their curves (in the dark theme too)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rnn_core.board import Board
from tests.browser import ARTIFACTS, chromium_page, streamlit_server, to_dark_theme, white_share

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a server, Chromium, TensorFlow


def _hand_in(page, url: str, name: str) -> None:
    """Load the shipped addition model on the Train page and hand it in to class RNN-101."""
    page.goto(f"{url}/train")
    page.get_by_text("Start from a pretrained model").click(timeout=120_000)
    page.get_by_role("button", name="Load the pretrained model").click(timeout=60_000)
    page.get_by_role("button", name=re.compile("Train more")).wait_for(timeout=240_000)
    page.get_by_text("Hand in this run to a class board").click(timeout=60_000)
    for label, value in (("Class code", "RNN-101"), ("Display name", name)):
        box = page.get_by_role("textbox", name=label)
        box.fill(value)
        box.press("Enter")
        page.wait_for_timeout(800)
    page.locator("button", has_text=re.compile(r"Hand in$")).click(timeout=30_000)
    page.get_by_text(f"Handed in to class rnn-101 as {name}").wait_for(timeout=120_000)


def test_two_students_hand_in_and_a_third_sees_both(tmp_path) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"RNN_LAB_BOARD_DIR": str(tmp_path)}
    with streamlit_server(env) as url, chromium_page(1400, 2000) as first:
        browser = first.context.browser
        second = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        viewer = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
        _hand_in(first, url, "Ada")
        _hand_in(second, url, "Bo")
        first.screenshot(path=str(ARTIFACTS / "board_hand_in.png"), full_page=True)

        viewer.goto(f"{url}/board")
        box = viewer.get_by_role("textbox", name="Class code")
        box.fill("rnn-101")
        box.press("Enter")
        viewer.get_by_text("2 of 2 hand-ins in class rnn-101").wait_for(timeout=120_000)
        viewer.locator(".legendtext").first.wait_for(timeout=60_000)
        viewer.wait_for_timeout(1500)
        viewer.screenshot(path=str(ARTIFACTS / "board_page.png"), full_page=True)
        legend = " ".join(viewer.locator(".legendtext").all_text_contents())
        assert "Ada" in legend and "Bo" in legend, legend

        to_dark_theme(viewer)  # the Board's chart follows the dark theme: no white plot area
        viewer.wait_for_timeout(1500)
        viewer.screenshot(path=str(ARTIFACTS / "dark_board.png"), full_page=True)
        curves = viewer.locator(".js-plotly-plot").first
        curves.scroll_into_view_if_needed()
        share = white_share(curves.screenshot(path=str(ARTIFACTS / "dark_board_chart.png")))
        assert share < 0.06, f"the Board's curves are {share:.0%} white in the dark theme"

    entries = Board(sa.create_engine(f"sqlite:///{tmp_path / 'board.sqlite'}")).list("rnn-101")
    assert sorted(e.item.student for e in entries) == ["Ada", "Bo"]
    assert all(e.item.task == "addition" and e.weights_bytes > 0 for e in entries)
