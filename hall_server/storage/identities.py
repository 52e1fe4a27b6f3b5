"""Identity checks and 帮办代办 marks of the hall's cases (``case_identities``, migration 12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from hall_server.storage.schema_service import CASE_IDENTITIES
from hall_server.storage.sql import insert_rows


def insert_identities(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record the identity checks of newly accepted cases (the batch's own transaction)."""
    insert_rows(conn, CASE_IDENTITIES, rows)


def identity_of(conn: Connection, case_no: str) -> dict[str, Any] | None:
    """A case's identity check as stored, or None (a case from an older counter)."""
    table = CASE_IDENTITIES
    query = select(table.c.method, table.c.slip, table.c.power_of_attorney, table.c.assisted)
    row = conn.execute(query.where(table.c.case_no == case_no)).first()
    if row is None:
        return None
    return {"method": row[0], "slip": row[1], "power_of_attorney": bool(row[2]), "assisted": bool(row[3])}
