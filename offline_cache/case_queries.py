"""Reading cases from the local store: pages of cases as raw rows, one case with its checklist
and history, and the counts the screens show (红黄绿, per state) as index ranges.

The day close's per-window figures are in :mod:`offline_cache.dayclose_queries`; writes in
:mod:`offline_cache.repositories`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from models.records import CaseFilter, HistoryEntry, MaterialView


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


CASE_VIEW_COLUMNS = (
    "case_no, item_code, item_name, station, clerk, channel, applicant_type, applicant_id,"
    " applicant_name, agent_name, phone, state, verdict, reasons, accepted_on, due_date,"
    " due_provisional, supplement_due, supplement_provisional, remaining_days, limit_unit,"
    " certificate_type, commitment, approved_by, synced, closed_on, closed_by"
)


def _where(f: CaseFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.state:
        clauses.append("state = ?")
        params.append(f.state)
    if f.states:
        clauses.append(f"state IN ({', '.join('?' * len(f.states))})")
        params.extend(f.states)
    if f.station:
        clauses.append("station = ?")
        params.append(f.station)
    if f.accepted_on:
        clauses.append("accepted_on = ?")
        params.append(f.accepted_on.isoformat())
    if f.applicant_id:
        clauses.append("applicant_id = ?")
        params.append(f.applicant_id)
    if f.text:
        clauses.append("(case_no LIKE ? ESCAPE '\\' OR applicant_name LIKE ? ESCAPE '\\')")
        pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params.extend([pattern, pattern])
    if f.unsynced:
        clauses.append("synced = 0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_case_rows(
    conn: Connection, f: CaseFilter, limit: int, offset: int = 0, order: str = "id DESC"
) -> list[tuple[Any, ...]]:
    """One page of cases as raw rows in :data:`CASE_VIEW_COLUMNS` order."""
    where, params = _where(f)
    sql = f"SELECT {CASE_VIEW_COLUMNS} FROM cases{where} ORDER BY {order} LIMIT ? OFFSET ?"
    return [tuple(r) for r in conn.exec_driver_sql(sql, (*params, limit, offset))]


def count_cases(conn: Connection, f: CaseFilter) -> int:
    """How many cases match."""
    where, params = _where(f)
    return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM cases{where}", tuple(params)).scalar_one())


def get_case_row(conn: Connection, case_no: str) -> tuple[Any, ...] | None:
    """One case as a raw row, or None."""
    row = conn.exec_driver_sql(f"SELECT {CASE_VIEW_COLUMNS} FROM cases WHERE case_no = ?", (case_no,)).first()
    return None if row is None else tuple(row)


def materials_of(conn: Connection, case_no: str) -> list[MaterialView]:
    """The checklist of a case, in the order it was presented."""
    return [
        MaterialView(code, name, tol, status, _date(due), _date(received))
        for code, name, tol, status, due, received in conn.exec_driver_sql(
            "SELECT code, name, tolerance, status, supplement_due, received_on FROM case_materials"
            " WHERE case_no = ? ORDER BY rowid",
            (case_no,),
        )
    ]


def history_of(conn: Connection, case_no: str) -> list[HistoryEntry]:
    """Audit events of a case, oldest first."""
    return [
        HistoryEntry(at, actor, action, detail)
        for at, actor, action, detail in conn.exec_driver_sql(
            "SELECT at, actor, action, detail FROM audit_events WHERE subject = ? ORDER BY seq",
            (case_no,),
        )
    ]


def overdue_tolerated(conn: Connection, today: dt.date) -> list[tuple[str, str]]:
    """(case_no, applicant_id) of tolerated cases whose 补正 deadline has passed."""
    return [
        (str(a), str(b))
        for a, b in conn.exec_driver_sql(
            "SELECT case_no, applicant_id FROM cases WHERE state = 'accepted_tolerated'"
            " AND supplement_due < ? ORDER BY supplement_due",
            (today.isoformat(),),
        )
    ]


# ---------------------------------------------------------------- counts

OPEN_DEADLINES = (
    # (states, deadline column): 补正 deadlines of tolerated cases, due dates of open ones.
    # Each pair is an index (ix_cases_state_due, ix_cases_state_due_date), so every count
    # below is an index range, whatever the number of closed cases in the store.
    (("accepted_tolerated",), "supplement_due"),
    (("accepted", "supplemented"), "due_date"),
)


def deadline_ranges(column: str) -> dict[str, str]:
    """SQL conditions of the red, yellow and green ranges of a deadline ``column``."""
    return {
        "red": f"{column} < :today",
        "yellow": f"{column} >= :today AND {column} <= :yellow",
        "green": f"{column} > :yellow",
    }


def flag_counts(conn: Connection, today: dt.date, yellow_until: dt.date) -> dict[str, int]:
    """红黄绿 counts over open deadlines: 补正 deadlines of tolerated cases and due dates of
    accepted and supplemented cases, counted as index ranges so 200,000 cases never leave
    SQLite (nor are read from the table)."""
    counts = {"red": 0, "yellow": 0, "green": 0}
    for states, column in OPEN_DEADLINES:
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        params = {"today": today.isoformat(), "yellow": yellow_until.isoformat()}
        params.update({f"s{i}": state for i, state in enumerate(states)})
        for flag, condition in deadline_ranges(column).items():
            sql = f"SELECT COUNT(*) FROM cases WHERE state IN ({marks}) AND {condition}"
            counts[flag] += int(conn.exec_driver_sql(sql, params).scalar_one())
    return counts


def count_by_state(conn: Connection, states: Sequence[str]) -> dict[str, int]:
    """How many cases are in each of ``states`` (index ranges on the state; no table scan)."""
    if not states:
        return {}
    marks = ", ".join("?" * len(states))
    rows = conn.exec_driver_sql(
        f"SELECT state, COUNT(*) FROM cases WHERE state IN ({marks}) GROUP BY state", tuple(states)
    )
    found = {str(s): int(n) for s, n in rows}
    return {state: found.get(state, 0) for state in states}


def state_counts(conn: Connection, station: str | None = None, day: dt.date | None = None) -> dict[str, int]:
    """Cases per state, optionally for one station and one acceptance day."""
    sql = "SELECT state, COUNT(*) FROM cases"
    clauses, params = [], []
    if station:
        clauses.append("station = ?")
        params.append(station)
    if day:
        clauses.append("accepted_on = ?")
        params.append(day.isoformat())
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " GROUP BY state"
    return {str(s): int(n) for s, n in conn.exec_driver_sql(sql, tuple(params))}
