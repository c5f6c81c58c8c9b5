"""The class board's core: the hand-in format (round trip, every refusal), the store on a real
SQLite file and a real PostgreSQL server, migrations, limits and the leaderboard order."""

from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy as np
import pytest
import sqlalchemy as sa

from rnn_core.board import (
    SCHEMA_VERSION,
    Board,
    BoardError,
    BoardLimits,
    HandIn,
    decode_row,
    encode_row,
    ensure_schema,
    from_run,
    schema_version,
    sort_entries,
    sort_keys,
    teacher_key_ok,
)
from rnn_core.board.entry import check
from rnn_core.board.schema import ENTRIES
from rnn_core.run_file import read_run_file
from rnn_core.tasks import get_task
from tests.conftest import PG_ENV, tiny_spec


def item(**changes: object) -> HandIn:
    """A valid addition hand-in, with ``changes`` applied."""
    base = HandIn(
        class_code="RNN-101",
        student="Ada  Lovelace ",
        spec=tiny_spec(),
        history=(
            {"epoch": 1.0, "loss": 1.5, "val_loss": 1.4, "val_exact_match": 0.0},
            {"epoch": 2.0, "loss": 1.1, "val_loss": None, "val_exact_match": 0.25},
        ),
        test={"exact_match": 0.3, "accuracy": 0.71},
        params=1234,
        seconds=2.5,
        weights=b"\x00\x01weights",
        manifest={"format": 1, "shapes": [[8, 32]]},
    )
    return dataclasses.replace(base, **changes)


# ----- the format -------------------------------------------------------------------------
def test_round_trip_through_a_row_keeps_every_field() -> None:
    """encode_row -> decode_row gives the checked hand-in back, bytes and None included."""
    original = item()
    row = encode_row(original)
    assert row["class_code"] == "rnn-101" and row["student"] == "Ada Lovelace"
    back = decode_row(row)
    assert back == check(original)
    assert back.weights == b"\x00\x01weights" and back.manifest == original.manifest
    assert back.history[1]["val_loss"] is None and back.spec == tiny_spec()
    assert (back.task, back.cell, back.epochs) == ("addition", "LSTM", 2)


def test_round_trip_of_a_text_spec_keeps_its_tuples() -> None:
    """The text task's tuple field (temperatures) survives JSON as a tuple."""
    spec = get_task("text").default_spec()
    back = decode_row(encode_row(item(spec=spec, test={"bits_per_char": 2.1})))
    assert back.spec == spec and isinstance(back.spec.data.temperatures, tuple)


def test_how_the_test_scores_were_made_is_kept_with_them() -> None:
    """A text run's results say how its test half was read (a LABEL field, not a score); the
    hand-in keeps it beside the scores, and a row without it reads as not recorded ({})."""
    from rnn_core.tasks.text import STRAIGHT, TextResults

    results = TextResults(2.0, 2.1, 1.39, 0.4, 0.8, 100, reading=STRAIGHT)
    assert results.labels() == {"reading": STRAIGHT}
    assert "reading" not in results.scores() and results.stored()["reading"] == STRAIGHT
    assert TextResults.label_names() == ("reading",)
    assert TextResults.label_words(results.labels()) == "read straight through"
    assert TextResults.label_words({}) == "not recorded"  # handed in before labels were kept
    addition = get_task("addition").results_type
    assert addition.label_names() == () and addition.label_words({}) == ""
    text = item(spec=get_task("text").default_spec(), test=results.scores(),
                labels=results.labels())  # fmt: skip
    assert decode_row(encode_row(text)).labels == {"reading": STRAIGHT}
    older = encode_row(text)
    del older["test_labels"]  # a row written before the board kept labels
    assert decode_row(older).labels == {} and decode_row(older).test == text.test


def test_a_local_data_folder_is_not_handed_in() -> None:
    """The data_dir of the student's machine is cleared; the rest of the spec is kept."""
    spec = get_task("imdb").default_spec()
    spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, data_dir="/home/ada"))
    back = decode_row(encode_row(item(spec=spec)))
    assert back.spec.data.data_dir is None and back.spec.data.maxlen == spec.data.maxlen


SMALL = BoardLimits(
    max_history_bytes=60, max_weights_bytes=10, max_manifest_bytes=40, max_epochs=3,
    max_metrics=3,
)  # fmt: skip

REFUSALS = [
    ({"class_code": "ab"}, "class code"),
    ({"class_code": "x" * 33}, "class code"),
    ({"class_code": "my class"}, "class code"),
    ({"class_code": "a';--"}, "class code"),
    ({"class_code": 101}, "class code"),
    ({"student": "   "}, "display name"),
    ({"student": "x" * 41}, "at most 40"),
    ({"student": "bell\x07"}, "printable"),
    ({"student": None}, "display name"),
    ({"spec": {"task": "addition"}}, "configuration"),
    ({"history": "loss"}, "history must be a list"),
    ({"history": ({"loss": math.nan},)}, "finite"),
    ({"history": ({"loss": math.inf},)}, "finite"),
    ({"history": ({"loss": True},)}, "finite"),
    ({"history": ({"loss": "1.0"},)}, "finite"),
    ({"history": ({"bad key!": 1.0},)}, "not a metric name"),
    ({"history": ([1.0],)}, "mapping"),
    ({"test": {"accuracy": None}}, "finite"),
    ({"test": {"accuracy": 1e301}}, "between"),
    ({"test": [0.5]}, "mapping"),
    ({"params": 0}, "params"),
    ({"params": 10**10}, "params"),
    ({"params": 12.0}, "whole number"),
    ({"params": True}, "whole number"),
    ({"seconds": -1.0}, "seconds"),
    ({"seconds": math.nan}, "seconds"),
    ({"seconds": 1e8}, "seconds"),
    ({"weights": "text"}, "weights must be bytes"),
    ({"weights": b"x" * 2_000_001}, "weights file is too large"),
    ({"manifest": []}, "manifest must be a mapping"),
    ({"labels": ["straight"]}, "test labels must be a mapping"),
    ({"labels": {"bad key!": "straight"}}, "not a name"),
    ({"labels": {"reading": 1.0}}, "printable text"),
    ({"labels": {"reading": "a\nb"}}, "printable text"),
    ({"labels": {"reading": "x" * 41}}, "at most 40 characters"),
    ({"manifest": {}}, "come together"),
    ({"weights": b"", "manifest": {"a": 1}}, "come together"),
]


@pytest.mark.parametrize(("changes", "message"), REFUSALS)
def test_every_bad_field_is_refused_with_one_readable_line(changes: dict, message: str) -> None:
    """Each field out of bounds raises BoardError naming it, on one line."""
    with pytest.raises(BoardError, match=message) as info:
        encode_row(item(**changes))
    assert "\n" not in str(info.value)


SIZE_REFUSALS = [
    (BoardLimits(max_config_bytes=100), {}, "configuration is too large"),
    (SMALL, {"history": ({"loss": 1.0},) * 4}, "at most 3 epochs"),
    (SMALL, {"history": ({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0},)}, "at most 3 metrics"),
    (SMALL, {"history": ({"loss_with_a_long_name": 1.0},) * 3}, "history is too large"),
    (SMALL, {"weights": b"x" * 11, "history": ({"loss": 1.0},)}, "at most 10"),
    (SMALL, {"manifest": {"s": "x" * 50}, "history": ({"loss": 1.0},)}, "manifest is too large"),
]


@pytest.mark.parametrize(("limits", "changes", "message"), SIZE_REFUSALS)
def test_sizes_over_the_limits_are_refused(
    limits: BoardLimits, changes: dict, message: str
) -> None:
    """Every size bound comes from BoardLimits and is enforced."""
    with pytest.raises(BoardError, match=message):
        encode_row(item(**changes), limits)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("config", "{not json", "cannot be read"),
        ("config", json.dumps({"task": "chess", "data": {}, "model": {}, "train": {}}), "chess"),
        ("history", "[[", "cannot be read"),
        ("student", "", "display name"),
    ],
)
def test_a_bad_stored_row_is_refused_when_read(column: str, value: str, message: str) -> None:
    """Rows are checked again when read: a row edited by hand cannot reach a page unchecked."""
    row = encode_row(item()) | {column: value}
    with pytest.raises(BoardError, match=message):
        decode_row(row)


def test_teacher_key_compare() -> None:
    """The teacher key must be configured and equal; an empty key never opens anything."""
    assert teacher_key_ok("s3cret", "s3cret")
    assert not teacher_key_ok("s3cre", "s3cret")
    assert not teacher_key_ok("", "")
    assert not teacher_key_ok("anything", None)
    assert not teacher_key_ok("", "s3cret")


# ----- the store, on a real SQLite file and a real PostgreSQL server ----------------------
def _drop(engine: sa.Engine) -> None:
    """Remove the board's tables (a shared PostgreSQL database starts each test empty)."""
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS board_entries"))
        conn.execute(sa.text("DROP TABLE IF EXISTS board_schema"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path):
    """An engine on an empty database: a SQLite file, or the PostgreSQL server of PG_ENV."""
    if request.param == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'board.sqlite'}")
    else:
        eng = sa.create_engine(os.environ[PG_ENV])  # set: conftest skips postgres tests otherwise
        _drop(eng)
    yield eng
    if request.param != "sqlite":
        _drop(eng)
    eng.dispose()


def test_hand_in_list_and_get_round_trip(engine: sa.Engine) -> None:
    """A hand-in comes back from the database as it went in; listing leaves the weights out."""
    board = Board(engine)
    assert schema_version(engine) == SCHEMA_VERSION
    entry_id = board.hand_in(item())
    (listed,) = board.list("rnn-101")
    assert listed.id == entry_id and listed.weights_bytes == len(b"\x00\x01weights")
    assert listed.item.weights == b"" and listed.item.test == {"exact_match": 0.3, "accuracy": 0.71}
    assert listed.item.student == "Ada Lovelace" and listed.created.endswith("+00:00")
    assert board.get("RNN-101", entry_id) == check(item())
    with pytest.raises(BoardError, match="no hand-in #999"):
        board.get("rnn-101", 999)


def test_list_filters_by_task_and_cell_and_keeps_classes_apart(engine: sa.Engine) -> None:
    """Filters select in the database; another class's hand-ins never show."""
    board = Board(engine)
    gru = dataclasses.replace(tiny_spec(), model=dataclasses.replace(tiny_spec().model, cell="GRU"))
    board.hand_in(item(student="a"))
    board.hand_in(item(student="b", spec=gru))
    board.hand_in(item(student="c", class_code="other-class"))
    assert [e.item.student for e in board.list("rnn-101")] == ["a", "b"]
    assert [e.item.student for e in board.list("rnn-101", cell="GRU")] == ["b"]
    assert [e.item.student for e in board.list("rnn-101", task="text")] == []
    assert [e.item.student for e in board.list("other-class")] == ["c"]


def test_limits_per_student_and_per_class(engine: sa.Engine) -> None:
    """The limits refuse the next hand-in with a message and store nothing of it."""
    board = Board(engine, BoardLimits(per_class=3, per_student=2))
    board.hand_in(item(student="Ada"))
    board.hand_in(item(student="ada "))  # the same name, however it is typed
    with pytest.raises(BoardError, match="ADA already has 2 hand-ins in class rnn-101"):
        board.hand_in(item(student="ADA"))
    board.hand_in(item(student="Bob"))
    with pytest.raises(BoardError, match="class rnn-101 is full"):
        board.hand_in(item(student="Cy"))
    assert len(board.list("rnn-101")) == 3
    board.hand_in(item(student="Cy", class_code="rnn-102"))  # another class has room


def test_remove_and_clear_touch_only_their_class(engine: sa.Engine) -> None:
    """remove deletes the named entries of the class; clear empties the class."""
    board = Board(engine)
    first = board.hand_in(item(student="a"))
    board.hand_in(item(student="b"))
    elsewhere = board.hand_in(item(student="c", class_code="other-class"))
    assert board.remove("rnn-101", [first, elsewhere]) == 1  # not another class's entry
    assert [e.item.student for e in board.list("rnn-101")] == ["b"]
    assert board.clear("rnn-101") == 1 and board.list("rnn-101") == []
    assert [e.id for e in board.list("other-class")] == [elsewhere]
    assert board.remove("rnn-101", []) == 0


def test_values_are_bound_parameters_not_sql(engine: sa.Engine) -> None:
    """A name that looks like SQL is stored as text; the table survives it."""
    board = Board(engine)
    name = "x'); DROP TABLE board_entries; --"
    board.hand_in(item(student=name))
    assert [e.item.student for e in board.list("rnn-101")] == [name]
    with pytest.raises(BoardError, match="class code"):
        board.list("rnn-101' OR '1'='1")


def test_version_1_database_is_migrated_with_its_entries(engine: sa.Engine) -> None:
    """A board created by version 1 (no weights columns) gains them; old rows stay listed."""
    assert ensure_schema(engine, target=1) == 1 and schema_version(engine) == 1
    row = encode_row(item(weights=b"", manifest={}))
    old = {k: v for k, v in row.items() if not k.startswith(("weights", "test_labels"))}
    v1_entries = sa.table("board_entries", *(sa.column(k) for k in [*old, "created"]))
    with engine.begin() as conn:
        conn.execute(sa.insert(v1_entries).values(**old, created="2026-01-01T00:00:00+00:00"))
    board = Board(engine)
    assert schema_version(engine) == SCHEMA_VERSION == 3
    assert {"weights", "weights_manifest", "test_labels"} <= {
        c["name"] for c in sa.inspect(engine).get_columns("board_entries")}  # fmt: skip
    (listed,) = board.list("rnn-101")
    assert listed.weights_bytes == 0 and listed.item.student == "Ada Lovelace"
    assert listed.item.labels == {}  # not recorded then
    board.hand_in(item(student="new", labels={"reading": "straight"}))
    new = board.get("rnn-101", board.list("rnn-101")[-1].id)
    assert new.weights == b"\x00\x01weights" and new.labels == {"reading": "straight"}
    assert board.list("rnn-101")[-1].item.labels == {"reading": "straight"}  # listed too
    assert ensure_schema(engine) == 3  # idempotent


def test_version_2_database_gains_test_labels_and_keeps_its_weights(engine: sa.Engine) -> None:
    """A board at version 2 (weights, no test labels) is migrated; its rows keep their weights
    and read as labels not recorded."""
    assert ensure_schema(engine, target=2) == 2
    old = {k: v for k, v in encode_row(item()).items() if k != "test_labels"}
    v2_entries = sa.table("board_entries", *(sa.column(k) for k in [*old, "created"]))
    with engine.begin() as conn:
        conn.execute(sa.insert(v2_entries).values(**old, created="2026-11-01T00:00:00+00:00"))
    board = Board(engine)
    assert schema_version(engine) == 3
    (listed,) = board.list("rnn-101")
    back = board.get("rnn-101", listed.id)
    assert back.weights == b"\x00\x01weights" and back.labels == {} and listed.item.labels == {}


def test_a_newer_schema_is_refused(engine: sa.Engine) -> None:
    """A database written by a newer version is not touched."""
    Board(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE board_schema SET version = 99"))
    with pytest.raises(RuntimeError, match="schema version 99"):
        Board(engine)


def test_a_real_run_is_handed_in_and_read_back(engine: sa.Engine, trained_tiny_run) -> None:
    """from_run takes a trained run's spec, curves, test scores, params and seconds."""
    run = trained_tiny_run
    results = run.score()
    board = Board(engine)
    item, why = from_run(run, "rnn-101", "Ada")
    assert why == "" and item.weights and item.manifest["format"] == "rnn-lab-run/1"
    entry_id = board.hand_in(item)
    back = board.get("rnn-101", entry_id)
    assert back.weights == item.weights and back.manifest == item.manifest
    restored = read_run_file(back.manifest, back.weights, "hand-in")  # the trained weights
    for theirs, mine in zip(restored.weights, run.job.model.get_weights(), strict=True):
        np.testing.assert_array_equal(theirs, mine)
    small, why = from_run(run, "rnn-101", "Ada", BoardLimits(max_weights_bytes=10))
    assert small.weights == b"" and small.manifest == {} and "above the board's" in why
    board.hand_in(small)  # configuration only: still a valid hand-in
    assert back.params == run.params and back.test == results.scores()
    assert back.labels == item.labels == results.labels() == {}  # addition's say nothing more
    assert back.history == tuple(run.job.snapshot().epoch_logs)
    assert back.seconds == pytest.approx(run.job.snapshot().train_seconds)
    assert ENTRIES.name == "board_entries"


# ----- the leaderboard's order --------------------------------------------------------------
def _entries(board: Board) -> list:
    """Three entries with different scores, sizes and times."""
    board.hand_in(item(student="a", test={"accuracy": 0.5, "bits_per_char": 2.0}, params=300))
    board.hand_in(item(student="b", test={"accuracy": 0.9}, params=100, seconds=9.0))
    board.hand_in(item(student="c", test={"accuracy": 0.7, "bits_per_char": 1.5}, params=200))
    return board.list("rnn-101")


def test_sort_keys_and_best_first(tmp_path) -> None:
    """Higher accuracy, lower bits/char, fewer params and seconds rank first; gaps go last."""
    board = Board(sa.create_engine(f"sqlite:///{tmp_path / 'b.sqlite'}"))
    entries = _entries(board)
    names = lambda ranked: [e.item.student for e in ranked]  # noqa: E731
    assert sort_keys(entries) == ["accuracy", "bits_per_char", "params", "seconds"]
    assert names(sort_entries(entries, "accuracy")) == ["b", "c", "a"]
    assert names(sort_entries(entries, "accuracy", best_first=False)) == ["a", "c", "b"]
    assert names(sort_entries(entries, "bits_per_char")) == ["c", "a", "b"]
    assert names(sort_entries(entries, "params")) == ["b", "c", "a"]
    assert names(sort_entries(entries, "seconds")) == ["a", "c", "b"]  # a and c tie: first wins
