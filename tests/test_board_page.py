"""AppTest: the Board page (leaderboard, sort, filters, curves, try this run, teacher actions)
and handing in a finished run from the Train page, on a real SQLite file."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from rnn_core.board import Board, HandIn
from tests.conftest import PG_ENV, tiny_spec
from tests.waiting import wait_until

APP = Path(__file__).resolve().parents[1] / "app.py"
KEY = "teacher-s3cret"


def _spec(cell: str, units: int):
    """The tiny addition spec with another cell and width."""
    spec = tiny_spec()
    return dataclasses.replace(spec, model=dataclasses.replace(spec.model, cell=cell, units=units))


def _item(student: str, cell: str, units: int, exact: float, params: int) -> HandIn:
    """An addition hand-in with two epochs of curves."""
    history = ({"epoch": 1.0, "loss": 2.0, "val_exact_match": exact / 2},
               {"epoch": 2.0, "loss": 1.0, "val_exact_match": exact})  # fmt: skip
    return HandIn("rnn-101", student, _spec(cell, units), history,
                  {"exact_match": exact, "accuracy": 0.5 + exact / 2}, params, 3.0)  # fmt: skip


@pytest.fixture
def board(tmp_path, monkeypatch) -> Board:
    """A board in a fresh folder the page reads (RNN_LAB_BOARD_DIR), with the teacher key set."""
    monkeypatch.setenv("RNN_LAB_BOARD_DIR", str(tmp_path))
    monkeypatch.setenv("RNN_LAB_BOARD_TEACHER_KEY", KEY)
    return Board(sa.create_engine(f"sqlite:///{tmp_path / 'board.sqlite'}"))


def _open(code: str = "") -> AppTest:
    """The app, switched to the Board page, with a class code typed."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/board.py").run()
    assert not at.exception, at.exception
    if code:
        at.text_input(key="board_code").input(code).run()
        assert not at.exception, at.exception
    return at


def _students(at: AppTest) -> list[str]:
    """The leaderboard's student column, top to bottom."""
    return list(at.dataframe[0].value["student"])


def test_without_a_code_the_page_asks_for_one(board: Board) -> None:
    at = _open()
    assert "Type your class's code" in at.info[0].value
    assert "board.sqlite" in " ".join(c.value for c in at.caption)


def test_a_bad_code_is_one_line_and_an_empty_class_says_so(board: Board) -> None:
    at = _open("my class")
    assert "class code" in at.error[0].value
    at.text_input(key="board_code").input("RNN-999").run()
    assert "No hand-ins in class rnn-999 yet" in at.info[0].value


def test_leaderboard_sorts_and_filters(board: Board) -> None:
    board.hand_in(_item("Ada", "LSTM", 16, 0.6, 900))
    board.hand_in(_item("Bo", "GRU", 8, 0.9, 400))
    board.hand_in(_item("Cy", "LSTM", 32, 0.3, 2000))
    at = _open("RNN-101")
    assert at.selectbox(key="board_sort").options == ["accuracy", "exact match", "params",
                                                     "seconds"]  # fmt: skip
    assert _students(at) == ["Bo", "Ada", "Cy"]  # accuracy, best first
    assert list(at.dataframe[0].value["test exact_match"]) == [0.9, 0.6, 0.3]
    at.radio(key="board_order").set_value("worst first").run()
    assert _students(at) == ["Cy", "Ada", "Bo"]
    at.selectbox(key="board_sort").set_value("params").run()
    assert _students(at) == ["Cy", "Ada", "Bo"]  # worst first: most parameters first
    at.radio(key="board_order").set_value("best first").run()
    assert _students(at) == ["Bo", "Ada", "Cy"]
    at.selectbox(key="board_cell").set_value("LSTM").run()
    assert _students(at) == ["Ada", "Cy"]
    assert "2 of 3 hand-ins in class rnn-101" in " ".join(c.value for c in at.caption)
    assert at.selectbox(key="board_curve").value == "val_exact_match"
    assert not at.exception


def test_try_this_run_loads_the_configuration_into_the_train_form(board: Board) -> None:
    from rnn_core.links import from_query

    board.hand_in(_item("Ada", "GRU", 24, 0.6, 900))
    at = _open("rnn-101")
    at.button(key="board_try_button").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="task").value == "addition"
    assert at.session_state["addition.units"] == 24
    assert at.session_state["addition.cell"] == "GRU"
    spec = from_query({k: v for k, v in at.query_params.items() if k != "tab"})
    assert (spec.model.cell, spec.model.units, spec.data.digits) == ("GRU", 24, 2)


def test_teacher_removes_with_the_key_only_and_clears_the_class(board: Board) -> None:
    board.hand_in(_item("Ada", "LSTM", 16, 0.6, 900))
    bo = board.hand_in(_item("Bo", "GRU", 8, 0.9, 400))
    board.hand_in(_item("Cy", "LSTM", 32, 0.3, 2000))
    at = _open("rnn-101")
    (remove_box,) = [m for m in at.multiselect if m.label == "Hand-ins to remove"]
    remove_box.set_value([o for o in remove_box.options if o.startswith(f"#{bo} ")]).run()
    at.text_input(key="board_teacher_key").input("wrong").run()
    next(b for b in at.button if b.label == "Remove selected").click().run()
    assert "Wrong teacher key" in at.error[0].value
    assert len(board.list("rnn-101")) == 3
    at.text_input(key="board_teacher_key").input(KEY).run()
    next(b for b in at.button if b.label == "Remove selected").click().run()
    assert not at.exception, at.exception
    assert [e.item.student for e in board.list("rnn-101")] == ["Ada", "Cy"]
    assert _students(at) == ["Ada", "Cy"]
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Clear the class").click().run()
    assert board.list("rnn-101") == []
    assert "No hand-ins in class rnn-101 yet" in at.info[0].value


def test_without_a_teacher_key_teacher_actions_are_off(board: Board, monkeypatch) -> None:
    monkeypatch.delenv("RNN_LAB_BOARD_TEACHER_KEY")
    board.hand_in(_item("Ada", "LSTM", 16, 0.6, 900))
    at = _open("rnn-101")
    assert "Teacher actions are off" in " ".join(c.value for c in at.caption)
    assert not [b for b in at.button if b.label in ("Remove selected", "Clear the class")]


@pytest.mark.slow  # long: a training, then the board
def test_hand_in_a_finished_run_from_the_train_page(board: Board) -> None:
    """Train a tiny run on the Train page, hand it in, and find it on the Board."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page("pages/train.py").run()
    for key, value in {"digits": 2, "units": 8, "train_size": 400, "epochs": 1}.items():
        at.session_state[f"addition.{key}"] = value
    next(b for b in at.button if "Start training" in b.label).click().run()
    job = at.session_state["current"].job
    wait_until(lambda: not job.snapshot().active, 90, 0.1, "the run to finish")
    at.run()
    at.text_input(key="board_code").input("rnn-101").run()
    at.text_input(key="board_name").input("").run()
    hand_in = next(b for b in at.button if b.label == "Hand in")
    hand_in.click().run()
    assert "display name" in at.error[0].value  # refused, nothing stored
    assert board.list("rnn-101") == []
    at.text_input(key="board_name").input("Ada").run()
    next(b for b in at.button if b.label == "Hand in").click().run()
    assert not at.exception, at.exception
    assert "Handed in to class rnn-101 as Ada" in at.success[0].value
    (entry,) = board.list("rnn-101")
    run = at.session_state["current"]
    assert entry.item.params == run.params and entry.item.spec.model.units == 8
    assert entry.item.test == run.results.scores() and entry.item.epochs == 1
    assert entry.weights_bytes > 0
    at.switch_page("pages/board.py").run()  # the class code is kept for the Board
    assert _students(at) == ["Ada"]
    assert list(at.dataframe[0].value["weights"]) == ["yes"]
    at.button(key="board_try_button").click().run()  # the trained weights become a run here
    assert not at.exception, at.exception
    tried = at.session_state["current"]
    assert tried is not run and tried.name.endswith("· Ada") and len(at.session_state["runs"]) == 2
    for theirs, mine in zip(
        tried.job.model.get_weights(), run.job.model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(theirs, mine)
    assert tried.job.snapshot().epoch_logs == run.job.snapshot().epoch_logs


def test_try_a_text_hand_in_opens_the_text_page_with_its_configuration(board: Board) -> None:
    """A hand-in without weights (configuration only) of the text task fills the Text form."""
    from rnn_core.tasks import get_task

    spec = get_task("text").default_spec()
    spec = dataclasses.replace(
        spec, data=dataclasses.replace(spec.data, corpus="python-docs"),
        model=dataclasses.replace(spec.model, cell="GRU", units=40),
    )  # fmt: skip
    history = ({"epoch": 1.0, "loss": 2.0, "val_bits_per_char": 3.1},)
    board.hand_in(HandIn("rnn-101", "Di", spec, history, {"bits_per_char": 3.1}, 5000, 9.0))
    at = _open("rnn-101")
    assert list(at.dataframe[0].value["weights"]) == ["no"]
    assert at.selectbox(key="board_sort").value == "bits_per_char"
    at.button(key="board_try_button").click().run()
    assert not at.exception, at.exception
    assert at.session_state["tx_units"] == 40 and at.session_state["tx_cell"] == "GRU"
    assert "tx_current" not in at.session_state  # no weights: nothing to load, only the form


def test_text_hand_ins_say_how_their_test_half_was_read(board: Board) -> None:
    """The leaderboard shows how each text hand-in's test half was read, "not recorded" for
    one handed in without it, and says that differently read ones are not comparable."""
    from rnn_core.tasks import get_task

    spec = get_task("text").default_spec()
    history = ({"epoch": 1.0, "loss": 2.0, "val_bits_per_char": 2.5},)
    for name, bits, labels in [("Al", 2.1, {"reading": "straight"}), ("Bo", 2.2, {}),
                               ("Cy", 2.3, {"reading": "windows"})]:  # fmt: skip
        board.hand_in(HandIn("rnn-101", name, spec, history, {"bits_per_char": bits}, 5000,
                             9.0, labels=labels))  # fmt: skip
    board.hand_in(_item("Di", "GRU", 8, 0.8, 400))  # addition: no such column value
    at = _open("rnn-101")
    at.selectbox(key="board_sort").set_value("bits_per_char").run()
    shown = at.dataframe[0].value
    assert list(shown["student"]) == ["Al", "Bo", "Cy", "Di"]
    how = list(shown["test scored"])
    assert how[:3] == ["read straight through", "not recorded", "read in windows"]
    assert shown["test scored"].isna().tolist()[3]
    assert any("do not compare" in c.value for c in at.caption)
    at.selectbox(key="board_task").set_value("addition").run()
    assert "test scored" not in at.dataframe[0].value.columns
    assert not any("do not compare" in c.value for c in at.caption)


@pytest.mark.postgres
def test_the_board_uses_the_connection_in_the_secrets(tmp_path, monkeypatch) -> None:
    """With [connections.board] in the secrets, st.connection opens that database
    (a real PostgreSQL server), and no SQLite file is written."""
    engine = sa.create_engine(os.environ[PG_ENV])
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS board_entries"))
        conn.execute(sa.text("DROP TABLE IF EXISTS board_schema"))
    Board(engine).hand_in(_item("Pat", "GRU", 8, 0.8, 400))
    monkeypatch.setenv("RNN_LAB_BOARD_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["connections"] = {"board": {"url": os.environ[PG_ENV]}}
    at.run()
    at.switch_page("pages/board.py").run()
    at.text_input(key="board_code").input("rnn-101").run()
    assert not at.exception, at.exception
    assert "[connections.board]" in " ".join(c.value for c in at.caption)
    assert _students(at) == ["Pat"]
    assert not (tmp_path / "board.sqlite").exists()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE board_entries"))
        conn.execute(sa.text("DROP TABLE board_schema"))
    engine.dispose()
