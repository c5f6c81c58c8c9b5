"""Browser-tab keys: a tab's runs outlive a reload, held on the server for a grace period.

Each browser tab gets a random, unguessable key (``secrets.token_urlsafe``) kept in its address
bar as ``?tab=…`` and never in a share link. The server keeps a tab's runs in a module-level,
lock-protected :class:`TabStore` (server state, so it lives in ``pages``). When the tab's
Streamlit session ends (a reload, a closed tab, a lost connection: Streamlit releases the
session's ``scope="session"`` resources on disconnect), its runs stay for a grace period and
their trainings go on; a session that comes back with the same key gets them again. After the
grace period (or earlier, oldest first, when the held tabs pass their count or memory bound)
the tab's trainings are stopped, its runs dropped, and a tab presenting that key is told so.

A key is handed over only when its tab's session has ended: a second tab showing the same
address while the first is open (a duplicated tab) gets a key of its own, not the runs.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

TAB_PARAM = "tab"  # the address bar's parameter holding the tab key
GRACE_ENV = "RNN_LAB_TAB_GRACE_SECONDS"  # seconds a tab's runs are held after its session ends
HELD_TABS_ENV = "RNN_LAB_TAB_HELD_MAX"  # at most this many ended tabs are held at once
HELD_MB_ENV = "RNN_LAB_TAB_HELD_MB"  # held tabs' models and data stay under this many MB
GRACE_DEFAULT = 600.0  # 10 minutes: a reload, a laptop lid closed between two exercises
HELD_TABS_DEFAULT = 40  # a class of 30 reloading at once, with room to spare
HELD_MB_DEFAULT = 600  # a quarter of a Community-Cloud-sized server (2.7 GB)
KEPT = ("runs", "current", "tx_current")  # session-state keys that belong to the tab
GONE_KEPT = 2000  # expired keys remembered (to say what happened), oldest forgotten first
CLAIM_WAIT = 3.0  # seconds a reload waits for its old session to end before the key is a copy
KEY = "_tab_key"  # session state: this session's tab key
NOTE = "_tab_note"  # session state: what happened to the runs of the key this tab came with
BUSY = "busy"  # claim(): the key belongs to a tab that is open right now


@dataclass
class Tab:
    """One browser tab's runs, held by the store."""

    key: str  # the address bar's ``tab`` value
    owner: str | None  # token of the session showing the tab; None once that session ended
    created: float  # wall-clock time the key was made (for "runs from 08:12")
    ended: float | None = None  # wall-clock time its session ended; None while it is open
    kept: dict[str, Any] = field(default_factory=dict)  # the KEPT session-state values

    def runs(self) -> list[Any]:
        """The tab's runs (``rnn_core.run.Run``), oldest first."""
        return list(self.kept.get("runs") or [])


@dataclass(frozen=True)
class Gone:
    """What happened to the runs of a key the store no longer holds."""

    created: float  # wall-clock time the key was made
    ended: float  # wall-clock time its session ended
    dropped: float  # wall-clock time its runs were dropped
    runs: int  # how many runs it had
    evicted: bool  # True when dropped before the grace period, to stay within the bounds


def run_bytes(run: Any) -> int:
    """Rough memory held by one run in this process: its model's weights and its data arrays
    (or the weights file it keeps once released)."""
    total = 0
    held = getattr(run.job, "holds_model", None)  # a shared run's watcher: without making a copy
    if held is None:
        held = getattr(run.job, "model", None) is not None
    if held:
        total += int(run.params) * 4 * 3  # float32 weights plus Adam's two slots per weight
    kept = getattr(run, "kept", None)
    if kept is not None:
        total += len(kept.weights)
    data = getattr(run, "data", None)
    if data is not None:
        for value in vars(data).values() if hasattr(data, "__dict__") else ():
            total += int(getattr(value, "nbytes", 0) or 0)
            if isinstance(value, tuple | list):
                total += sum(int(getattr(v, "nbytes", 0) or 0) for v in value)
    return total


class TabStore:
    """Keys -> tabs' runs; runs of an ended session are held for ``grace`` seconds.

    Thread-safe: sessions' script threads claim and keep, the server thread ends sessions,
    a timer thread sweeps. ``clock`` is wall-clock seconds (a fake one in tests).
    """

    def __init__(
        self,
        grace: float = GRACE_DEFAULT,
        max_held: int = HELD_TABS_DEFAULT,
        max_bytes: int = HELD_MB_DEFAULT * 2**20,
        clock: Callable[[], float] = time.time,
        size: Callable[[Any], int] = run_bytes,
    ) -> None:
        self.grace, self.max_held, self.max_bytes = grace, max_held, max_bytes
        self._clock, self._size = clock, size
        self._lock = threading.Lock()
        self._tabs: dict[str, Tab] = {}
        self._gone: OrderedDict[str, Gone] = OrderedDict()

    def new(self, owner: str) -> Tab:
        """A fresh tab with a new unguessable key, shown by session ``owner``."""
        tab = Tab(secrets.token_urlsafe(16), owner, self._clock())
        with self._lock:
            self._tabs[tab.key] = tab
        return tab

    def claim(self, key: str, owner: str) -> Tab | Gone | str | None:
        """Give session ``owner`` the tab of ``key``: the Tab if it is free (its session ended)
        or already this owner's; BUSY if another open session shows it; Gone if its runs were
        dropped; None if this server never had it (or forgot it)."""
        with self._lock:
            tab = self._tabs.get(key)
            if tab is None:
                return self._gone.get(key)
            if tab.owner is not None and tab.owner != owner:
                return BUSY
            tab.owner, tab.ended = owner, None
            return tab

    def owns(self, key: str, owner: str) -> bool:
        """True when session ``owner`` shows the tab of ``key``."""
        with self._lock:
            tab = self._tabs.get(key)
            return tab is not None and tab.owner == owner

    def keep(self, key: str, owner: str, values: Mapping[str, Any]) -> None:
        """Record the tab's session-state values (the same objects the session uses)."""
        with self._lock:
            tab = self._tabs.get(key)
            if tab is not None and tab.owner == owner:
                tab.kept.update(values)

    def end(self, key: str, owner: str) -> None:
        """Session ``owner`` ended: hold its tab for the grace period (if it still shows it)."""
        with self._lock:
            tab = self._tabs.get(key)
            if tab is None or tab.owner != owner:
                return  # another session took the key over (a reload that came back first)
            tab.owner, tab.ended = None, self._clock()
        self.sweep()

    def sweep(self) -> list[str]:
        """Drop tabs past their grace period, then the oldest held ones beyond the bounds;
        stop their trainings (freeing their slots). Returns the dropped keys."""
        now = self._clock()
        with self._lock:
            held = sorted(
                (t for t in self._tabs.values() if t.ended is not None), key=lambda t: t.ended
            )
            late = [t for t in held if now - t.ended >= self.grace]
            left = [t for t in held if now - t.ended < self.grace]
            sizes = [sum(self._size(r) for r in t.runs()) for t in left]
            evicted: list[Tab] = []
            while left and (len(left) > self.max_held or sum(sizes) > self.max_bytes):
                evicted.append(left.pop(0))  # the oldest held tab goes first
                sizes.pop(0)
            for tab in late + evicted:
                del self._tabs[tab.key]
                early = any(tab is t for t in evicted)
                self._gone[tab.key] = Gone(tab.created, tab.ended, now, len(tab.runs()), early)
            while len(self._gone) > GONE_KEPT:
                self._gone.popitem(last=False)
        for tab in late + evicted:  # outside the lock: stopping talks to the runners
            for run in tab.runs():
                if run.job.snapshot().active:
                    run.job.stop()  # frees the training slot; a child process ends in one batch
            tab.kept.clear()
        return [t.key for t in late + evicted]

    def held_runs(self) -> list[Any]:
        """Runs of the tabs held after their session ended (no session draws them now)."""
        with self._lock:
            held = [t for t in self._tabs.values() if t.ended is not None]
        return [run for tab in held for run in tab.runs()]

    def next_deadline(self) -> float | None:
        """Wall-clock time the next held tab's grace period ends (None when none is held)."""
        with self._lock:
            ends = [t.ended for t in self._tabs.values() if t.ended is not None]
        return min(ends) + self.grace if ends else None

    def held(self) -> list[str]:
        """Keys of the tabs held after their session ended, oldest first."""
        with self._lock:
            held = [t for t in self._tabs.values() if t.ended is not None]
        return [t.key for t in sorted(held, key=lambda t: t.ended)]


def _env_number(name: str, default: float) -> float:
    """A positive number from the environment, else ``default``."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


_STORE: TabStore | None = None
_STORE_LOCK = threading.Lock()


def store() -> TabStore:
    """This server's tab store (bounds from RNN_LAB_TAB_* environment variables)."""
    global _STORE
    with _STORE_LOCK:
        if _STORE is None:
            _STORE = TabStore(
                grace=_env_number(GRACE_ENV, GRACE_DEFAULT),
                max_held=int(_env_number(HELD_TABS_ENV, HELD_TABS_DEFAULT)),
                max_bytes=int(_env_number(HELD_MB_ENV, HELD_MB_DEFAULT) * 2**20),
            )
        return _STORE


_TIMER: tuple[float, threading.Timer] | None = None  # the one pending sweep: (when, timer)


def _sweep_later(tabs: TabStore) -> None:
    """Sweep when the next grace period ends: one timer thread, so nobody has to visit."""
    global _TIMER
    deadline = tabs.next_deadline()
    with _STORE_LOCK:
        if deadline is None or (_TIMER is not None and _TIMER[0] <= deadline):
            return  # nothing held, or a sweep at or before this deadline is pending

        def sweep() -> None:
            """Drop what expired, then wait for the next deadline."""
            global _TIMER
            with _STORE_LOCK:
                _TIMER = None
            tabs.sweep()
            _sweep_later(tabs)

        if _TIMER is not None:
            _TIMER[1].cancel()
        timer = threading.Timer(max(0.0, deadline - time.time()) + 0.05, sweep)
        timer.daemon = True
        _TIMER = (deadline, timer)
        timer.start()


@dataclass
class _Session:
    """This Streamlit session as the store knows it (released when the session ends)."""

    token: str = field(default_factory=lambda: uuid.uuid4().hex)  # the tab's owner
    key: str | None = None  # the tab key this session shows


def _session_ended(session: _Session) -> None:
    """Streamlit released the session (reload, tab closed, connection lost): grace starts."""
    if session.key is not None:
        tabs = store()
        tabs.end(session.key, session.token)
        _sweep_later(tabs)


@st.cache_resource(scope="session", on_release=_session_ended, show_spinner=False)
def _session() -> _Session:
    """This session's owner token; its release is the hook for the session's end."""
    return _Session()


def _when(seconds: float) -> str:
    """A clock time for the student, in their browser's time zone when known."""
    import datetime as dt
    import zoneinfo

    try:
        zone = zoneinfo.ZoneInfo(st.context.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return dt.datetime.fromtimestamp(seconds, zone).strftime("%H:%M")


def _span(seconds: float) -> str:
    """A duration in words: minutes from one minute up, else seconds."""
    if seconds >= 60:
        n = round(seconds / 60)
        return f"{n} minute{'s' * (n != 1)}"
    n = round(seconds)
    return f"{n} second{'s' * (n != 1)}"


def gone_note(gone: Gone, grace: float) -> str:
    """One line saying what happened to the runs of an expired key."""
    runs = f"{gone.runs} run{'s' * (gone.runs != 1)}" if gone.runs else "runs"
    if gone.evicted:
        return (
            f"This tab's {runs} from {_when(gone.created)} were removed "
            f"{_span(gone.dropped - gone.ended)} after the tab was closed or reloaded, to free "
            "the server's memory for others; their trainings were stopped."
        )
    return (
        f"This tab's {runs} from {_when(gone.created)} expired after {_span(grace)}: the "
        "server keeps a closed or reloaded tab's runs that long, then stops their trainings."
    )


def _claim(tabs: TabStore, session: _Session, presented: str | None) -> Tab:
    """The tab this session shows: the presented key's runs if free, else a new key (and a
    note saying why the runs are not here)."""
    result: Tab | Gone | str | None = None
    if presented:
        deadline = time.monotonic() + CLAIM_WAIT
        result = tabs.claim(presented, session.token)
        while result == BUSY and time.monotonic() < deadline:  # a reload: the old session
            time.sleep(0.1)  # ends when its connection closes, usually within milliseconds
            result = tabs.claim(presented, session.token)
    if isinstance(result, Tab):
        for name, value in result.kept.items():
            st.session_state[name] = value
        return result
    if isinstance(result, Gone):
        st.session_state[NOTE] = gone_note(result, tabs.grace)
    elif result == BUSY:
        st.session_state[NOTE] = (
            "This tab is a copy of another open tab: its runs stay in that tab; "
            "runs started here are this tab's own."
        )
    elif presented and presented != st.session_state.get(KEY):
        st.session_state[NOTE] = (
            "This tab's earlier runs are not on this server (it restarted since, or the "
            "link came from elsewhere)."
        )
    return tabs.new(session.token)


def attach_tab(show: bool = True) -> None:
    """Every script run (app.py): make sure this session shows a tab key (reattaching the
    runs of the key in the address bar) and that the address bar holds it; with ``show``,
    say what happened to runs the tab came back without."""
    tabs = store()
    session = _session()
    key = st.session_state.get(KEY)
    if key is None or not tabs.owns(key, session.token):
        presented = key or st.query_params.get(TAB_PARAM)
        key = _claim(tabs, session, presented).key
        session.key = st.session_state[KEY] = key
    st.session_state.setdefault("runs", [])
    kept = {name: st.session_state[name] for name in KEPT if name in st.session_state}
    tabs.keep(key, session.token, kept)
    if st.query_params.get(TAB_PARAM) != key:
        st.query_params[TAB_PARAM] = key
    note = st.session_state.get(NOTE)
    if show and note and not st.session_state["runs"]:
        st.info(note, icon=":material/history:")


def in_address_bar() -> dict[str, str]:
    """The address-bar parameter that is this tab's, not the form's (empty before a key)."""
    key = st.session_state.get(KEY)
    return {TAB_PARAM: key} if key else {}
