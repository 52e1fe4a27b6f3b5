"""Reads for the 电子档案: everything the store holds about a case, as plain rows.

Whole rows (``SELECT *``), so a column a later migration adds is archived without a change here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection

from offline_cache import audit as chain

# The tables with rows of one case, and the column naming it (fixed here: never from input).
_CASE_TABLES = {
    "case_materials": "case_no = ? ORDER BY rowid",
    "outbox": "case_no = ? ORDER BY seq",
    "sync_conflicts": "case_no = ? ORDER BY recorded_at, op_id",
}
_JSON_COLUMNS = frozenset({"payload", "result", "detail", "reasons", "approval", "body"})


def _decoded(row: Any) -> dict[str, Any]:
    """A row as a dict; columns that hold JSON text are decoded (kept as text when not JSON)."""
    record = dict(row._mapping)
    for name in _JSON_COLUMNS & record.keys():
        value = record[name]
        if isinstance(value, str) and value[:1] in ("{", "["):
            with contextlib.suppress(ValueError):  # else stored text that only looks like JSON
                record[name] = json.loads(value)
    return record


def case_numbers_on(conn: Connection, day: dt.date) -> list[str]:
    """The cases accepted on ``day``, in the order they were accepted."""
    rows = conn.exec_driver_sql(
        "SELECT case_no FROM cases WHERE accepted_on = ? ORDER BY id", (day.isoformat(),)
    )
    return [str(r[0]) for r in rows]


def existing_case_numbers(conn: Connection, case_nos: list[str]) -> set[str]:
    """Those of ``case_nos`` the store holds."""
    found: set[str] = set()
    for start in range(0, len(case_nos), 500):
        part = case_nos[start : start + 500]
        marks = ", ".join("?" * len(part))
        rows = conn.exec_driver_sql(f"SELECT case_no FROM cases WHERE case_no IN ({marks})", tuple(part))
        found.update(str(r[0]) for r in rows)
    return found


def case_record(conn: Connection, case_no: str) -> dict[str, Any] | None:
    """Every column of the case's row, or None."""
    row = conn.exec_driver_sql("SELECT * FROM cases WHERE case_no = ?", (case_no,)).first()
    return None if row is None else _decoded(row)


def case_rows(conn: Connection, table: str, case_no: str) -> list[dict[str, Any]]:
    """Every row of ``table`` (one of :data:`_CASE_TABLES`) about the case."""
    where = _CASE_TABLES[table]
    return [_decoded(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} WHERE {where}", (case_no,))]


def audit_slice(conn: Connection, case_no: str) -> list[tuple[Any, ...]]:
    """The case's audit events with their links: (seq, at, actor, action, subject, detail,
    prev_hash, hash), oldest first."""
    return [
        tuple(r)
        for r in conn.exec_driver_sql(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_events"
            " WHERE subject = ? ORDER BY seq",
            (case_no,),
        )
    ]


def chain_position(conn: Connection) -> dict[str, Any]:
    """The chain's head and the highest head the hall acknowledged (where the slice sits)."""
    seq, digest = chain.read_head(conn)
    return {"head_seq": seq, "head_hash": digest, "acknowledged_seq": chain.acknowledged_seq(conn)}


def certificate_records(conn: Connection, case_no: str) -> list[dict[str, Any]]:
    """The certificates the case resulted in: each whole row with its handover and revocation."""
    found = []
    for row in conn.exec_driver_sql(
        "SELECT c.* FROM certificates c JOIN certificate_cases k ON k.identifier = c.identifier"
        " WHERE k.case_no = ? ORDER BY c.identifier",
        (case_no,),
    ):
        record = _decoded(row)
        for key, table in (("handover", "certificate_handovers"), ("revocation", "certificate_revocations")):
            extra = conn.exec_driver_sql(
                f"SELECT * FROM {table} WHERE identifier = ?", (record["identifier"],)
            ).first()
            record[key] = None if extra is None else _decoded(extra)
        found.append(record)
    return found
