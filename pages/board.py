"""Board: a class's hand-ins as a leaderboard, their curves overlaid, "try this run", and the
teacher's remove and clear."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from pages._board_db import FORM, code_field, open_board, teacher_key, where
from pages._plot import chart, page_theme
from pages._train_form import current_key, page_of
from rnn_core.board import (
    Board,
    BoardError,
    best_first_descending,
    check_code,
    sort_entries,
    sort_keys,
    teacher_key_ok,
)
from rnn_core.charts import training as charts
from rnn_core.tasks import get_task

ALL = "(all)"  # the filter value that keeps every task or cell
ORDERS = ("best first", "worst first")


def choice(column, label_: str, field: str, options: list, **kw) -> str:
    """A persistent selectbox whose options depend on the board: a stale value falls back."""
    if FORM.get(field) not in options:
        FORM.fill({field: options[0]})
    return FORM(column.selectbox, label_, field, options, **kw)


def label(entry) -> str:
    """An entry's name in menus and legends: ``#3 Ada · LSTM 128×1 (addition)``."""
    m = entry.item.spec.model
    return f"#{entry.id} {entry.item.student} · {m.cell} {m.units}×{m.layers} ({entry.item.task})"


def scored_how(entry) -> str:
    """How a hand-in's test scores were made, in words ("not recorded" for one handed in
    before the board kept it); "" when its task's scores need no such word or it has none."""
    results = get_task(entry.item.task).results_type
    return results.label_words(entry.item.labels) if entry.item.test else ""


def not_comparable(entries: list) -> list[str]:
    """Why scores do not compare, once per task whose entries' scores were made differently."""
    notes = []
    for task in sorted({e.item.task for e in entries}):
        if len({scored_how(e) for e in entries if e.item.task == task} - {""}) > 1:
            notes.append(get_task(task).results_type.LABEL_NOTE)
    return notes


def table(entries: list, keys: list[str]) -> pd.DataFrame:
    """The leaderboard rows: rank, who, what, each test metric (and how it was made, where a
    task says), params, seconds, when."""
    rows = []
    how = any(scored_how(e) for e in entries)
    for rank, e in enumerate(entries, 1):
        m = e.item.spec.model
        row = {
            "rank": rank, "entry": f"#{e.id}", "student": e.item.student, "task": e.item.task,
            "cell": e.item.cell, "model": f"{m.units}×{m.layers}",
        }  # fmt: skip
        row |= {f"test {k}": e.item.test.get(k) for k in keys if k not in ("params", "seconds")}
        if how:
            row["test scored"] = scored_how(e) or None
        row |= {
            "params": e.item.params, "seconds": round(e.item.seconds, 1),
            "epochs": e.item.epochs, "weights": "yes" if e.weights_bytes else "no",
            "handed in (UTC)": e.created.replace("T", " ")[:16],
        }  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def load_hand_in(item, entry_id: int) -> bool:
    """Restore a hand-in's weights as a run of this session (its page shows it); False when
    they cannot be used (said on the page)."""
    from pages.common import add_run, cached_data, load_training
    from rnn_core.run_file import RunFileError, read_run_file, restore_run

    load_training()
    try:
        with st.spinner("Loading the hand-in's weights…"):
            restored = read_run_file(item.manifest, item.weights, f"hand-in #{entry_id}")
            run = restore_run(restored, cached_data)
    except RunFileError as exc:
        st.error(str(exc), icon=":material/block:")
        return False
    run.name = f"{restored.name} · {item.student}"
    add_run(run)
    st.session_state[current_key(item.task)] = run
    return True


def try_this_run(board: Board, code: str, shown: list) -> None:
    """Open a hand-in on its page in this session: its configuration in the form and, when
    it has weights, the trained model as this session's current run."""
    from rnn_core.links import to_query

    names = [label(e) for e in shown]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    picked = choice(left, "Hand-in to try", "try", names)
    if right.button("Try this run", icon=":material/play_arrow:", key="board_try_button"):
        entry = shown[names.index(picked)]
        item = board.get(code, entry.id)
        if item.weights and not load_hand_in(item, entry.id):
            return
        st.switch_page(page_of(item.task), query_params=to_query(item.spec))
    st.caption(
        "Opens the hand-in on its page in your session (your own runs stay): with weights, as "
        "your current run, ready to predict or train more; its configuration fills the form."
    )


def teacher(board: Board, code: str, entries: list) -> None:
    """Remove entries or clear the class, with the teacher key."""
    with st.expander("Teacher: remove hand-ins or clear the class"):
        expected = teacher_key()
        if not expected:
            st.caption(
                "Teacher actions are off: set `RNN_LAB_BOARD_TEACHER_KEY` in the secrets "
                "(or the environment) to turn them on."
            )
            return
        key = st.text_input("Teacher key", type="password", key="board_teacher_key")
        chosen = st.multiselect("Hand-ins to remove", [label(e) for e in entries])
        left, right = st.columns(2)
        remove = left.button("Remove selected", disabled=not chosen)
        confirm = right.checkbox(f"Yes, delete every hand-in of class {code}")
        clear = right.button("Clear the class", disabled=not confirm, type="primary")
        if not (remove or clear):
            return
        if not teacher_key_ok(key, expected):
            st.error("Wrong teacher key: nothing was removed.", icon=":material/lock:")
            return
        if remove:
            ids = [e.id for e in entries if label(e) in chosen]
            st.toast(f"Removed {board.remove(code, ids)} hand-in(s).")
        else:
            st.toast(f"Cleared class {code}: {board.clear(code)} hand-in(s) removed.")
        st.rerun()


st.title("Class board")
st.caption(
    "Runs handed in to a class: hand one in from the Train or Text generation page "
    "(*Hand in this run to a class board*, under a finished run). " + where()
)
try:
    board = open_board()
except Exception as exc:  # a database that cannot be reached: say so, keep the page
    st.error(f"The board's database cannot be opened: {exc}", icon=":material/database:")
    st.stop()

raw = code_field()
if not raw.strip():
    st.info("Type your class's code to see its board.", icon=":material/leaderboard:")
    st.stop()
try:
    code = check_code(raw, board.limits)
    entries = board.list(code)
except BoardError as exc:
    st.error(str(exc), icon=":material/block:")
    st.stop()
except SQLAlchemyError as exc:  # the database stopped answering
    st.error(f"The board's database did not answer: {str(exc).splitlines()[0]}")
    st.stop()

if not entries:
    st.info(f"No hand-ins in class {code} yet.", icon=":material/inbox:")
    teacher(board, code, entries)
    st.stop()

c1, c2, c3, c4 = st.columns(4)
task = choice(c1, "Task", "task", [ALL, *sorted({e.item.task for e in entries})])
cell = choice(c2, "Cell", "cell", [ALL, *sorted({e.item.cell for e in entries})])
shown = [e for e in entries if task in (ALL, e.item.task) and cell in (ALL, e.item.cell)]
keys = sort_keys(shown)
key = choice(c3, "Sort by", "sort", keys, format_func=lambda k: k.replace("_", " "))
order = FORM(c4.radio, "Order", "order", ORDERS, horizontal=True)
if not shown:
    st.info("No hand-in matches these filters.")
    st.stop()
ranked = sort_entries(shown, key, best_first=order == ORDERS[0])
direction = "largest" if best_first_descending(key) == (order == ORDERS[0]) else "smallest"
st.caption(
    f"{len(shown)} of {len(entries)} hand-ins in class {code}, by {key.replace('_', ' ')}, "
    f"{direction} first. Test scores are the student's own whole-test-set figures, recorded "
    "when they handed the run in."
)
for note in not_comparable(shown):
    st.caption(f"{note} Compare a hand-in with those scored the same way (*test scored*).")
st.dataframe(table(ranked, keys), hide_index=True, width="stretch")

st.subheader("Curves")
curve_keys = sorted({k for e in shown for log in e.item.history for k in log if k != "epoch"})
if curve_keys:
    first = [k for k in curve_keys if k.startswith("val_") and "loss" not in k] + curve_keys
    curve_keys = [first[0], *(k for k in curve_keys if k != first[0])]  # a validation score
    curve = choice(st, "Curve", "curve", curve_keys)
    series = [(label(e), e.item.history) for e in ranked]
    chart(charts.compare_curves(series, curve, page_theme()), "board_curves", "board-curves")

st.subheader("Try a hand-in")
try_this_run(board, code, ranked)
teacher(board, code, entries)
