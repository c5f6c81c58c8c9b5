"""One form helper: widgets whose values outlive the page, kept per form (and per task).

Streamlit deletes the state of a widget that is not drawn in a run, so leaving a page used to
throw a form's values away. Every field here is drawn with Streamlit's own
``persist_state="session"`` (1.67): its value stays in ``st.session_state`` under the widget's
key for the whole session, whichever page the student opens meanwhile. A form is a key prefix
(``"addition."``, ``"tx_"``, ``"stp_"``), so each task of the Train page keeps its own values.

Presets, links and task defaults only write values (:meth:`Form.fill`, :meth:`Form.start`);
the address bar is written from the form after it is drawn (:func:`follow_in_address_bar`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

PERSIST = "session"  # Streamlit keeps the value across pages for the whole session
PAGE_NOW = "_page_now"  # session-state key: the url path of the page the last run showed
START_SHORTCUT = "Ctrl+Enter"  # Start on the Train and Text pages (Streamlit shows Cmd on a Mac)


@dataclass(frozen=True)
class Form:
    """A group of persistent widgets whose keys share a prefix."""

    prefix: str  # widget keys are prefix + field name, e.g. "addition.units"

    def key(self, field: str) -> str:
        """The widget (and session-state) key of one field."""
        return f"{self.prefix}{field}"

    def __call__(self, widget: Callable[..., Any], label: str, field: str, *args, **kw) -> Any:
        """Draw ``widget(label, *args, key=…, persist_state="session", **kw)`` for ``field``."""
        return widget(label, *args, key=self.key(field), persist_state=PERSIST, **kw)

    def get(self, field: str, default: Any = None) -> Any:
        """The field's current value (``default`` if it never had one)."""
        return st.session_state.get(self.key(field), default)

    def fill(self, values: Mapping[str, Any]) -> None:
        """Set fields (a preset, a link): before their widgets are drawn, or in a callback."""
        for field, value in values.items():
            st.session_state[self.key(field)] = value

    def start(self, values: Mapping[str, Any]) -> None:
        """Give fields that never had a value their starting value (first visit only)."""
        for field, value in values.items():
            if self.key(field) not in st.session_state:
                st.session_state[self.key(field)] = value


def note_page(path: str) -> None:
    """Called by the router at every run with the page's url path: entering a page (from
    another page, or in a new session) makes its address bar due to be read once."""
    if st.session_state.get(PAGE_NOW) != path:
        st.session_state[PAGE_NOW] = path
        st.session_state[f"_link_due_{path}"] = True


def _link_due(page: str) -> bool:
    """Whether this run may read ``page``'s address bar as a link: the first run since the page
    was entered, or the browser's Back / Forward. Any other run carries the page's own address,
    possibly one it has replaced since (a click sent before the browser got the new one). A
    page the router never noted (run on its own, as by AppTest) reads it at every run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    key = f"_link_due_{page}"
    if key not in st.session_state:
        return True
    due = bool(st.session_state[key])
    st.session_state[key] = False
    ctx = get_script_run_ctx()
    return due or bool(getattr(ctx, "is_history_navigation", False))


def new_link(page: str, known: Callable[[str], bool]) -> dict[str, str] | None:
    """The address bar's ``known`` parameters if they are a link this page has not loaded yet,
    else None.

    A link is read on the first run after the page is entered and after Back / Forward
    (:func:`_link_due`), and loaded once: the page's own address (written by
    :func:`follow_in_address_bar`) and an address bar without such keys (the page opened from
    the sidebar; only the tab's key, ``utm_*`` or ``embed`` added by a learning platform) leave
    the form as it is.
    """
    if not _link_due(page):
        return None
    params = {k: v for k, v in st.query_params.to_dict().items() if known(k)}
    if not params or st.session_state.get(f"_link_{page}") == params:
        return None
    st.session_state[f"_link_{page}"] = params
    return params


def read_link(
    page: str, known: Callable[[str], bool], read: Callable[[dict[str, str]], Any]
) -> Any:
    """Once per link: ``read(params)`` of the address bar's ``known`` keys; None when there is no
    new link or it cannot be used (said in one line; the form keeps every value it had)."""
    params = new_link(page, known)
    if params is None:
        return None
    try:
        return read(params)
    except ValueError as exc:
        st.warning(f"This link's configuration could not be used: {exc}. The form is unchanged.")
        return None


def follow_in_address_bar(page: str, query: Mapping[str, str]) -> None:
    """Make the address bar show the form as it is now (and the tab's key), so it can be
    reloaded; a share link is the form's part alone.

    Written at every run, even when this run's copy of the address already says so: that copy
    is the one the browser sent with the click, and an address written by the run before may
    reach the browser after it (the browser only changes its history when the text differs).
    """
    from pages._tabs import in_address_bar

    query = dict(query)
    st.query_params.from_dict(query | in_address_bar())  # at every run: see the docstring
    st.session_state[f"_link_{page}"] = query  # our own address: never reloaded into the form


def share_url(query: Mapping[str, str]) -> str:
    """A link to this page with ``query`` (a form's settings), never the tab's key."""
    from urllib.parse import urlencode

    from pages._tabs import TAB_PARAM

    base = st.context.url or ""
    return f"{base}?{urlencode({k: v for k, v in query.items() if k != TAB_PARAM})}"


def share_box(query: Mapping[str, str], lead: str) -> None:
    """The page's share link, ready to copy, under ``lead`` (a sentence: what it carries)."""
    st.caption(
        f"{lead} The address bar follows the form and also holds this tab's private key, which "
        "brings your runs back after a reload: share the link, not the bar."
    )
    st.code(share_url(query), language=None, wrap_lines=True)


def _run_link(params: dict[str, str]) -> tuple[Any, str | None]:
    """(spec, preset name or None) of a ``?preset=NAME`` or ``?task=…&m.units=…`` link."""
    from rnn_core.links import from_query
    from rnn_core.presets import PRESETS

    name = params.get("preset")
    if name is None:
        return from_query(params), None
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (see `python -m rnn_core presets`)")
    return PRESETS[name].spec, name


def spec_from_link(page: str, task: str = "addition") -> tuple[Any, str | None] | None:
    """Once per link: (spec, preset name or None) that a ``?preset=NAME`` or a shared
    ``?task=…&m.units=…`` link asks for (``task`` when it names none); None when there is none
    or it cannot be used (said)."""
    from rnn_core.links import is_run_key

    return read_link(page, is_run_key, lambda params: _run_link({"task": task} | params))
