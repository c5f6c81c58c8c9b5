"""The class board from the pages: its database, the teacher key, and the hand-in form.

The database is Streamlit's ``st.connection("board", type="sql")``: the ``[connections.board]``
table of the secrets when it exists (any SQLAlchemy URL, e.g. PostgreSQL for a hosted class),
else a SQLite file in ``$RNN_LAB_BOARD_DIR`` (default ``~/.rnn-lab/board``), which needs no
setup. Limits come from ``[board]`` in the secrets; the teacher key from the secret (or
environment variable) ``RNN_LAB_BOARD_TEACHER_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from pages._form import Form
from rnn_core.board import Board, BoardError, BoardLimits, from_run

DIR_ENV = "RNN_LAB_BOARD_DIR"  # folder of the default SQLite file
KEY_ENV = "RNN_LAB_BOARD_TEACHER_KEY"  # the teacher's key (a secret or an environment variable)
DEFAULT_DIR = Path.home() / ".rnn-lab" / "board"  # the SQLite file's folder when none is set
CONNECTION = "board"  # st.connection name: secrets under [connections.board]
FORM = Form("board_")  # the class code and display name, kept for the session (both pages)
LIMIT_FIELDS = ("per_class", "per_student")  # limits a teacher may set under [board]


def _secrets(name: str, default: Any = None) -> Any:
    """A secrets entry (``default`` when there is no secrets file or no such entry)."""
    try:
        return st.secrets.get(name, default)
    except Exception:  # no secrets file at all
        return default


def sqlite_path() -> Path:
    """The default SQLite file: ``$RNN_LAB_BOARD_DIR/board.sqlite``."""
    return Path(os.environ.get(DIR_ENV) or DEFAULT_DIR).expanduser() / "board.sqlite"


def where() -> str:
    """One line saying where the board is stored."""
    if CONNECTION in _secrets("connections", {}):
        return "Stored in the database set under `[connections.board]` in the secrets."
    return (
        f"Stored in the SQLite file `{sqlite_path()}` (on a hosted app that file is lost when "
        "it reboots: see the README's *Class board* section for PostgreSQL)."
    )


def limits() -> BoardLimits:
    """The board's limits: defaults, with ``per_class`` / ``per_student`` from ``[board]``."""
    table = dict(_secrets("board", {}))
    return BoardLimits(**{k: int(table[k]) for k in LIMIT_FIELDS if k in table})


_BOARDS: dict[tuple[int, BoardLimits], Board] = {}  # per engine: the schema is checked once


def open_board() -> Board:
    """The board on this server's database (schema created or migrated on first use)."""
    table = _secrets("connections", {}).get(CONNECTION)
    if table:  # its url, passed on (or host, dialect … fields, which the connection reads)
        url = table.get("url")
        conn = st.connection(CONNECTION, type="sql", **({"url": url} if url else {}))
    else:
        path = sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = st.connection(CONNECTION, type="sql", url=f"sqlite:///{path}")
    key = (id(conn.engine), limits())
    if key not in _BOARDS:
        _BOARDS[key] = Board(conn.engine, key[1])
    return _BOARDS[key]


def teacher_key() -> str | None:
    """The configured teacher key (None: teacher actions are off)."""
    return _secrets(KEY_ENV) or os.environ.get(KEY_ENV) or None


def _shared(column: Any, label: str, field: str, **kw: Any) -> str:
    """A text input whose value is shared by every page that draws it.

    A widget's state belongs to the page that drew it, so a plain copy (``_board_<field>``,
    written by ``on_change``) refills the field when another page draws it.
    """
    copy = f"_board_{field}"
    if copy in st.session_state:
        FORM.fill({field: st.session_state[copy]})

    def keep() -> None:
        st.session_state[copy] = FORM.get(field)

    FORM(column.text_input, label, field, on_change=keep, **kw)
    return FORM.get(field) or ""


def code_field(column: Any = st) -> str:
    """The class code input (Board, Train and Text pages share its value); its value."""
    return _shared(
        column, "Class code", "code", max_chars=32, placeholder="e.g. rnn-101",
        help="The code the teacher chose for the class: 3-32 letters, digits, - or _.",
    )  # fmt: skip


def identity_fields() -> tuple[str, str]:
    """The class code and display name inputs (kept for the session); their values."""
    left, right = st.columns(2)
    name = _shared(
        right, "Display name", "name", max_chars=40,
        help="The name the board shows next to your run (no account needed).",
    )  # fmt: skip
    return code_field(left), name


def hand_in_form(record: Any) -> None:
    """For a finished run: hand it in to a class board (configuration, curves, test scores)."""
    snap = record.job.snapshot()
    if snap.active or not snap.epoch:
        return
    with st.expander("Hand in this run to a class board"):
        code, name = identity_fields()
        if st.button("Hand in", key=f"hand_in_{id(record)}", icon=":material/upload:"):
            try:
                board = open_board()
                with st.spinner("Handing in…"):
                    item, why = from_run(record, code, name, board.limits)
                    entry_id = board.hand_in(item)
            except BoardError as exc:
                st.error(str(exc), icon=":material/block:")
                return
            except SQLAlchemyError as exc:  # the database cannot be reached: nothing stored
                msg = str(exc).splitlines()[0]
                st.error(f"The board's database did not answer: {msg}", icon=":material/database:")
                return
            without = f" Without its weights: {why}." if why else ""
            st.success(
                f"Handed in to class {code.strip().lower()} as {' '.join(name.split())} "
                f"(entry #{entry_id}).{without}",
                icon=":material/check:",
            )
            st.page_link("pages/board.py", label="Open the Board", icon=":material/leaderboard:")
        mb = limits().max_weights_bytes / 1e6
        st.caption(
            "Hands in the configuration, the curves, the test scores, parameters, seconds and "
            f"the weights (up to {mb:g} MB), so classmates can try your run."
        )
