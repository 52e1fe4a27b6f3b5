"""Identity checks of cases, 帮办代办 and 办事专员 in the local store (migration 0009_identity)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from models.identity_check import CaseIdentity, IdentityMethod, Specialist
from offline_cache.store import UnitOfWork

# (case_no, method, slip, power_of_attorney, assisted)
IdentityRow = tuple[str, str, str | None, bool, bool]


def insert_identities(unit: UnitOfWork, rows: Sequence[IdentityRow]) -> None:
    """Record the identity checks of new cases (in the cases' own transaction)."""
    unit.executemany(
        "INSERT INTO case_identity (case_no, method, slip, power_of_attorney, assisted)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def identity_of(conn: Connection, case_no: str) -> CaseIdentity | None:
    """A case's identity check; None for a case accepted before checks were recorded."""
    row = conn.exec_driver_sql(
        "SELECT method, slip, power_of_attorney, assisted FROM case_identity WHERE case_no = ?",
        (case_no,),
    ).first()
    if row is None:
        return None
    return CaseIdentity(IdentityMethod(row[0]), row[1], bool(row[2]), bool(row[3]))


def assisted_by_window(conn: Connection, station: str, day: dt.date) -> dict[str, int]:
    """window -> cases accepted on ``day`` marked 帮办代办 (日结)."""
    rows = conn.exec_driver_sql(
        "SELECT c.window, COUNT(*) FROM cases c JOIN case_identity i ON i.case_no = c.case_no"
        " WHERE c.accepted_on = ? AND c.station = ? AND i.assisted GROUP BY c.window",
        (day.isoformat(), station),
    )
    return {str(window): int(count) for window, count in rows}


# ---------------------------------------------------------------- 办事专员

_SPECIALIST_SELECT = (
    "SELECT s.credit_code, s.staff_no, COALESCE(st.name, s.staff_no), s.assigned_by, s.assigned_at"
    " FROM specialists s LEFT JOIN staff st ON st.staff_no = s.staff_no"
)


def active_staff_name(conn: Connection, staff_no: str, station: str) -> str | None:
    """The name of an active staff member of ``station``; None when there is none."""
    row = conn.exec_driver_sql(
        "SELECT name FROM staff WHERE staff_no = ? AND station = ? AND active", (staff_no, station)
    ).first()
    return None if row is None else str(row[0])


def assign_specialist(unit: UnitOfWork, credit_code: str, staff_no: str) -> None:
    """Make ``staff_no`` the enterprise's 办事专员 (replacing any earlier one)."""
    unit.execute(
        "INSERT INTO specialists (credit_code, staff_no, assigned_by, assigned_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(credit_code) DO UPDATE SET staff_no = excluded.staff_no,"
        " assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at",
        (credit_code, staff_no, unit.actor, unit.now),
    )


def remove_specialist(unit: UnitOfWork, credit_code: str) -> bool:
    """The enterprise no longer has a 办事专员; False when it had none."""
    result = unit.execute("DELETE FROM specialists WHERE credit_code = ?", (credit_code,))
    return bool(result.rowcount)


def specialist_of(conn: Connection, credit_code: str) -> Specialist | None:
    """The enterprise's 办事专员, if it has one."""
    row = conn.exec_driver_sql(_SPECIALIST_SELECT + " WHERE s.credit_code = ?", (credit_code,)).first()
    return None if row is None else Specialist(*row)


def all_specialists(conn: Connection) -> list[Specialist]:
    """Every assignment, by credit code."""
    rows = conn.exec_driver_sql(_SPECIALIST_SELECT + " ORDER BY s.credit_code")
    return [Specialist(*row) for row in rows]
