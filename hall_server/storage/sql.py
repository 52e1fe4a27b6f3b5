"""The SQL helpers every storage module uses: timestamps, JSON text, bulk inserts, sequences.

Functions take an open :class:`~sqlalchemy.Connection`, so that a push applies its whole batch in
one transaction (:func:`hall_server.storage.engine.write_transaction`). Sequence numbers are
assigned from ``MAX(...) + 1`` inside the serialised write transaction, so they are dense and
follow the commit order on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from models.sync import json_string

__all__ = ["dumps", "insert_rows", "is_in", "iso", "json_string", "next_seq", "strict_dumps"]


def iso(moment: dt.datetime) -> str:
    """The stored form of a server timestamp (UTC, ISO 8601, microseconds)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def dumps(value: Any) -> str:
    """Compact JSON for stored payloads (Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# For the change feed: NaN or Infinity would make a document no client can parse, so refuse them.
strict_dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False
).encode


def is_in(conn: Connection, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values`` with ONE bound parameter, whatever the number of values.

    A plain ``IN (?, ?, …)`` of a thousand values costs more to render and parse than the
    lookups themselves; SQLite reads a JSON array instead (``json_each``), PostgreSQL an array
    (``= ANY``).
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    members: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values))))
    )
    return column.in_(members)


def next_seq(conn: Connection, table: Table, column: str) -> int:
    """The next free sequence number of ``table.column`` (call inside a write transaction)."""
    value = conn.execute(select(func.max(table.c[column]))).scalar()
    return int(value or 0) + 1


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """One bulk INSERT of ``rows`` (executemany; a no-op for no rows)."""
    if rows:
        conn.execute(insert(table), list(rows))
