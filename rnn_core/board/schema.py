"""The board's tables, created on first use and migrated by version.

A one-row table ``board_schema`` holds the version. :func:`ensure_schema` runs every migration
above the stored version in order, each in its own transaction with the version update, so a
database is always at a whole version. Version 1 held configuration, history and test scores;
version 2 added the weights file and its manifest; version 3 the words on how the test
scores were made (``test_labels``, e.g. how a text's held-out half was read).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

SCHEMA_VERSION = 3  # the version this code reads and writes

METADATA = sa.MetaData()
VERSION_TABLE = sa.Table(
    "board_schema", METADATA, sa.Column("version", sa.Integer, nullable=False)
)  # fmt: skip


def _entry_columns() -> list[sa.Column]:
    """The columns of version 1 (a fresh list each call: a Column belongs to one Table)."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("class_code", sa.String(64), nullable=False, index=True),
        sa.Column("student", sa.String(80), nullable=False),
        sa.Column("student_key", sa.String(80), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("cell", sa.String(32), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("params", sa.BigInteger, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("history", sa.Text, nullable=False),
        sa.Column("test", sa.Text, nullable=False),
    ]


ENTRIES = sa.Table(
    "board_entries", METADATA, *_entry_columns(),
    sa.Column("weights", sa.LargeBinary, nullable=True),
    sa.Column("weights_manifest", sa.Text, nullable=True),
    sa.Column("test_labels", sa.Text, nullable=True),
)  # fmt: skip  # the current (version 3) table


def _v1(conn: Connection) -> None:
    """Version 1: the entries table without weights, and the version table."""
    v1 = sa.MetaData()
    sa.Table("board_entries", v1, *_entry_columns())
    sa.Table("board_schema", v1, sa.Column("version", sa.Integer, nullable=False))
    v1.create_all(conn)


def _v2(conn: Connection) -> None:
    """Version 2: each entry may carry a small weights file and its JSON manifest."""
    blob = sa.LargeBinary().compile(dialect=conn.dialect)  # BLOB (SQLite), BYTEA (PostgreSQL)
    conn.execute(sa.text(f"ALTER TABLE board_entries ADD COLUMN weights {blob}"))
    conn.execute(sa.text("ALTER TABLE board_entries ADD COLUMN weights_manifest TEXT"))


def _v3(conn: Connection) -> None:
    """Version 3: each entry may say how its test scores were made (JSON; NULL: not said)."""
    conn.execute(sa.text("ALTER TABLE board_entries ADD COLUMN test_labels TEXT"))


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3)  # index i: version i+1


def schema_version(engine: Engine) -> int:
    """The database's board schema version (0: no board tables yet)."""
    if not sa.inspect(engine).has_table("board_schema"):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(VERSION_TABLE.c.version))).scalar() or 0)


def ensure_schema(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Create or migrate the board tables up to ``target``; returns the version now stored.

    Raises RuntimeError when the database is at a newer version than this code knows.
    """
    version = schema_version(engine)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the board database is at schema version {version}, newer than this app's "
            f"{SCHEMA_VERSION}: update RNN Lab"
        )
    for number in range(version + 1, target + 1):
        with engine.begin() as conn:
            MIGRATIONS[number - 1](conn)
            conn.execute(sa.delete(VERSION_TABLE))
            conn.execute(sa.insert(VERSION_TABLE).values(version=number))
    return max(version, target)
