"""The class board: hand-ins of runs to a class, stored in any SQLAlchemy database."""

from rnn_core.board.entry import (
    BoardError,
    Entry,
    HandIn,
    check_code,
    check_name,
    decode_row,
    encode_row,
    from_run,
)
from rnn_core.board.limits import BoardLimits
from rnn_core.board.ranking import SORT_EXTRA, best_first_descending, sort_entries, sort_keys
from rnn_core.board.schema import SCHEMA_VERSION, ensure_schema, schema_version
from rnn_core.board.store import Board, teacher_key_ok

__all__ = [
    "SCHEMA_VERSION",
    "SORT_EXTRA",
    "Board",
    "BoardError",
    "BoardLimits",
    "Entry",
    "HandIn",
    "best_first_descending",
    "check_code",
    "check_name",
    "decode_row",
    "encode_row",
    "ensure_schema",
    "from_run",
    "schema_version",
    "sort_entries",
    "sort_keys",
    "teacher_key_ok",
]
