"""The address bar follows the page, and a page never mistakes its own older address for a link.

A click is sent with the browser's address as it is at that moment; the address the run before
wrote may reach the browser later. Here the router's and the browser's parts are played by
hand: :func:`note_page` as ``app.py`` calls it, the address each run receives, Back / Forward.
(AppTest runs a multipage app's pages without its router, so it cannot play them.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import streamlit as st
import streamlit.runtime.scriptrunner as scriptrunner

from pages import _form
from rnn_core.links import is_run_key


class Bar(dict):
    """A run's copy of the address bar: the one the browser sent with the click."""

    def __init__(self, *args, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kw)
        self.writes: list[dict[str, str]] = []

    def to_dict(self) -> dict[str, str]:
        return dict(self)

    def from_dict(self, values: dict[str, str]) -> None:
        self.writes.append(dict(values))
        self.clear()
        self.update(values)


@pytest.fixture
def browser(monkeypatch):  # noqa: ANN001, ANN201
    """A session (its state, the address its runs receive, whether a run is Back / Forward)."""
    session = SimpleNamespace(state={}, history=False)
    monkeypatch.setattr(st, "session_state", session.state)
    ctx = SimpleNamespace(is_history_navigation=False)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: ctx)

    def run(
        page: str, address: dict[str, str], back: bool = False, router: bool = True
    ) -> dict[str, str] | None:
        """One run of ``page`` sent with ``address``: the link it reads (None: none)."""
        monkeypatch.setattr(st, "query_params", Bar(address))
        ctx.is_history_navigation = back
        if router:
            _form.note_page(page)
        return _form.new_link(page, is_run_key)

    return run


UNITS = {n: {"task": "addition", "m.units": str(n)} for n in (76, 77, 78)}


def test_a_page_reads_a_link_once_per_visit_and_never_its_own_older_address(browser) -> None:  # noqa: ANN001
    assert browser("train", UNITS[77]) == UNITS[77]  # a shared link opens the page
    assert browser("train", UNITS[77]) is None  # loaded once
    _form.follow_in_address_bar("train", UNITS[78])  # the student sets Units 78
    assert browser("train", UNITS[77]) is None  # a click sent before the browser got it
    assert st.session_state["_link_train"] == UNITS[78]
    browser("", {})  # Home
    assert browser("train", UNITS[77]) == UNITS[77]  # the Board opens that run again
    _form.follow_in_address_bar("train", UNITS[77])
    assert browser("train", UNITS[76], back=True) == UNITS[76]  # the browser's Back


def test_a_page_the_router_never_noted_reads_its_address_at_every_run(browser) -> None:  # noqa: ANN001
    assert browser("train", UNITS[77], router=False) == UNITS[77]
    assert browser("train", UNITS[78], router=False) == UNITS[78]


def test_the_address_is_written_at_every_run_even_when_the_runs_copy_says_so(browser) -> None:  # noqa: ANN001
    browser("stepper", {"t": "6"})
    _form.follow_in_address_bar("stepper", {"t": "6"})  # the browser may show t=7 meanwhile
    assert st.query_params.writes == [{"t": "6"}]
