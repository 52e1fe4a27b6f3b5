"""Reads for the hall's 电子档案: a case's row, every operation received for it and who was
verified to approve them, whole (every column), for ``hall-server archive export``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from hall_server.storage.schema import CASES, OPERATION_APPROVALS, OPS
from hall_server.storage.sql import is_in


def case_numbers_on(conn: Connection, day: dt.date) -> list[str]:
    """The cases accepted on ``day`` (the station's date), in the order the hall received them."""
    query = select(CASES.c.case_no).where(CASES.c.accepted_on == day.isoformat())
    return [str(r[0]) for r in conn.execute(query.order_by(CASES.c.received_at, CASES.c.case_no))]


def existing_case_numbers(conn: Connection, case_nos: Sequence[str]) -> set[str]:
    """Those of ``case_nos`` the hall holds."""
    if not case_nos:
        return set()
    query = select(CASES.c.case_no).where(is_in(conn, CASES.c.case_no, case_nos))
    return {str(r[0]) for r in conn.execute(query)}


def case_row(conn: Connection, case_no: str) -> dict[str, Any] | None:
    """Every column of the case, or None."""
    row = conn.execute(select(CASES).where(CASES.c.case_no == case_no)).mappings().first()
    return None if row is None else dict(row)


def operation_rows(conn: Connection, case_no: str) -> list[dict[str, Any]]:
    """Every operation received for the case (refused and lost ones too), every column, in the
    hall's order."""
    query = select(OPS).where(OPS.c.case_no == case_no).order_by(OPS.c.server_seq)
    return [dict(r) for r in conn.execute(query).mappings()]


def approval_rows(conn: Connection, op_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The verified approver of each of ``op_ids`` that carried a signed approval."""
    if not op_ids:
        return {}
    query = select(OPERATION_APPROVALS).where(is_in(conn, OPERATION_APPROVALS.c.op_id, op_ids))
    return {str(r["op_id"]): dict(r) for r in conn.execute(query).mappings()}
