"""The board store on an SQLAlchemy Engine: hand in, list, read weights, remove, clear.

Every statement is built with SQLAlchemy Core, so every value travels as a bound parameter.
Limits per class and per student are checked in the same transaction as the insert.
"""

from __future__ import annotations

import hmac
import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rnn_core.board.entry import BoardError, Entry, HandIn, check_code, decode_row, encode_row
from rnn_core.board.limits import DEFAULT, BoardLimits
from rnn_core.board.schema import ENTRIES, ensure_schema

_SCHEMA_LOCK = threading.Lock()  # one migration at a time in this process
_LISTED = [c for c in ENTRIES.c if not c.name.startswith("weights")]  # listed without blobs


def teacher_key_ok(given: str, expected: str | None) -> bool:
    """True when a teacher key is configured and ``given`` equals it (constant-time compare)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Board:
    """A class board in one database; the schema is created or migrated on first use."""

    def __init__(self, engine: Engine, limits: BoardLimits = DEFAULT) -> None:
        """Keep the engine and limits; create or migrate the tables now."""
        self.engine, self.limits = engine, limits
        with _SCHEMA_LOCK:
            ensure_schema(engine)

    def hand_in(self, item: HandIn, now: datetime | None = None) -> int:
        """Store a checked hand-in; its new id. BoardError when a field or a limit refuses it."""
        row = encode_row(item, self.limits)
        created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        code, key = row["class_code"], row["student_key"]
        count = sa.select(sa.func.count()).select_from(ENTRIES)
        with self.engine.begin() as conn:
            in_class = conn.execute(count.where(ENTRIES.c.class_code == code)).scalar_one()
            if in_class >= self.limits.per_class:
                raise BoardError(
                    f"class {code} is full ({self.limits.per_class} hand-ins); "
                    "ask your teacher to remove some"
                )
            mine = conn.execute(
                count.where(ENTRIES.c.class_code == code, ENTRIES.c.student_key == key)
            ).scalar_one()
            if mine >= self.limits.per_student:
                raise BoardError(
                    f"{row['student']} already has {mine} hand-ins in class {code} (at most "
                    f"{self.limits.per_student}); ask your teacher to remove one"
                )
            result = conn.execute(sa.insert(ENTRIES).values(**row, created=created))
            return int(result.inserted_primary_key[0])

    def list(
        self, class_code: str, task: str | None = None, cell: str | None = None
    ) -> list[Entry]:
        """The class's hand-ins, oldest first, without their weights (``get`` reads them)."""
        code = check_code(class_code, self.limits)
        size = sa.func.coalesce(sa.func.length(ENTRIES.c.weights), 0).label("weights_bytes")
        query = sa.select(*_LISTED, size).where(ENTRIES.c.class_code == code)
        if task:
            query = query.where(ENTRIES.c.task == task)
        if cell:
            query = query.where(ENTRIES.c.cell == cell)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(ENTRIES.c.id)).mappings().all()
        return [self._entry(row) for row in rows]

    def _entry(self, row: Any) -> Entry:
        """An Entry from a listed row (weights and manifest left out; ``get`` reads them)."""
        item = decode_row({**row, "weights": b"", "weights_manifest": "{}"}, self.limits)
        return Entry(int(row["id"]), str(row["created"]), item, int(row["weights_bytes"]))

    def get(self, class_code: str, entry_id: int) -> HandIn:
        """One hand-in of the class with its weights; BoardError if there is no such entry."""
        code = check_code(class_code, self.limits)
        query = sa.select(ENTRIES).where(ENTRIES.c.class_code == code, ENTRIES.c.id == entry_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise BoardError(f"class {code} has no hand-in #{entry_id}")
        return decode_row(row, self.limits)

    def remove(self, class_code: str, entry_ids: list[int]) -> int:
        """Delete these hand-ins of the class; the number deleted."""
        code = check_code(class_code, self.limits)
        ids = [int(i) for i in entry_ids]
        if not ids:
            return 0
        query = sa.delete(ENTRIES).where(ENTRIES.c.class_code == code, ENTRIES.c.id.in_(ids))
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount)

    def clear(self, class_code: str) -> int:
        """Delete every hand-in of the class; the number deleted."""
        code = check_code(class_code, self.limits)
        with self.engine.begin() as conn:
            return int(
                conn.execute(sa.delete(ENTRIES).where(ENTRIES.c.class_code == code)).rowcount
            )
