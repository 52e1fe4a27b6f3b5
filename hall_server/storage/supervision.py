"""Queries of 首办负责人, timeliness supervision and the hall's reminders."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, insert, select, update

from hall_server.storage.schema import CASES, OPS, STAFF
from hall_server.storage.schema_supervision import (
    CASE_HANDLERS,
    CASE_TIMELINESS,
    HANDLER_DEFAULTS,
    NOTIFICATIONS,
)
from hall_server.storage.sql import is_in


class OpenCase(NamedTuple):
    """What the timeliness of a case is computed from."""

    case_no: str
    station: str
    item_code: str
    state: str
    accepted_on: str


class Published(NamedTuple):
    """What the hall last published about a case's timeliness."""

    due_date: str | None
    flag: str | None
    paused: bool
    handler: str | None


def cases_in_states(
    conn: Connection, states: Collection[str], case_nos: Sequence[str] | None = None
) -> list[OpenCase]:
    """The cases in ``states`` (only ``case_nos`` when given), oldest acceptance first."""
    query = select(
        CASES.c.case_no, CASES.c.station, CASES.c.item_code, CASES.c.state, CASES.c.accepted_on
    ).where(CASES.c.state.in_(sorted(states)))
    if case_nos is not None:
        query = query.where(is_in(conn, CASES.c.case_no, case_nos))
    return [OpenCase(*row) for row in conn.execute(query.order_by(CASES.c.accepted_on, CASES.c.case_no))]


def supplement_days(conn: Connection, case_nos: Sequence[str], event: str) -> dict[str, str]:
    """The day of each case's applied full 补正 (its payload's ``on``, else when it was made)."""
    if not case_nos:
        return {}
    query = select(OPS.c.case_no, OPS.c.payload, OPS.c.created_at).where(
        OPS.c.event == event, OPS.c.fold == "applied", is_in(conn, OPS.c.case_no, case_nos)
    )
    found: dict[str, str] = {}
    for case_no, payload, created_at in conn.execute(query):
        try:
            on = json.loads(payload).get("on")
        except (ValueError, AttributeError):
            on = None
        found[case_no] = on if isinstance(on, str) and len(on) == 10 else str(created_at)[:10]
    return found


def assignments(conn: Connection, case_nos: Sequence[str] | None) -> dict[str, dict[str, str]]:
    """The assignment in force of each case (the newest), as a row dict."""
    query = select(
        CASE_HANDLERS.c.case_no,
        CASE_HANDLERS.c.staff_no,
        CASE_HANDLERS.c.assigned_by,
        CASE_HANDLERS.c.assigned_at,
    ).order_by(CASE_HANDLERS.c.id)
    if case_nos is not None:
        if not case_nos:
            return {}
        query = query.where(is_in(conn, CASE_HANDLERS.c.case_no, case_nos))
    return {row[0]: dict(row._mapping) for row in conn.execute(query)}


def assignment_history(conn: Connection, case_no: str) -> list[dict[str, Any]]:
    """Every assignment of a case, oldest first."""
    query = select(CASE_HANDLERS).where(CASE_HANDLERS.c.case_no == case_no).order_by(CASE_HANDLERS.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def insert_assignment(conn: Connection, row: Mapping[str, Any]) -> None:
    """Record an assignment."""
    conn.execute(insert(CASE_HANDLERS).values(**row))


def handler_defaults(conn: Connection) -> list[dict[str, Any]]:
    """Every default 首办负责人 (scope, code, staff_no, set_by, set_at)."""
    query = select(HANDLER_DEFAULTS).order_by(HANDLER_DEFAULTS.c.scope, HANDLER_DEFAULTS.c.code)
    return [dict(row._mapping) for row in conn.execute(query)]


def set_handler_default(conn: Connection, row: Mapping[str, Any]) -> None:
    """Set (or replace) the default of one item or department."""
    table = HANDLER_DEFAULTS
    conn.execute(delete(table).where(table.c.scope == row["scope"], table.c.code == row["code"]))
    conn.execute(insert(table).values(**row))


def clear_handler_default(conn: Connection, scope: str, code: str) -> bool:
    """Remove a default; whether there was one."""
    table = HANDLER_DEFAULTS
    result = conn.execute(delete(table).where(table.c.scope == scope, table.c.code == code))
    return bool(result.rowcount)


def staff_directory(conn: Connection) -> dict[str, tuple[str, bool]]:
    """Every staff member's (name, active)."""
    return {
        row[0]: (row[1], bool(row[2]))
        for row in conn.execute(select(STAFF.c.staff_no, STAFF.c.name, STAFF.c.active))
    }


def published(conn: Connection, case_nos: Sequence[str] | None) -> dict[str, Published]:
    """What was last published per case: of ``case_nos``, or of every case still flagged."""
    table = CASE_TIMELINESS
    query = select(table.c.case_no, table.c.due_date, table.c.flag, table.c.paused, table.c.handler)
    if case_nos is None:
        query = query.where(table.c.flag.is_not(None))
    elif not case_nos:
        return {}
    else:
        query = query.where(is_in(conn, table.c.case_no, case_nos))
    return {row[0]: Published(row[1], row[2], bool(row[3]), row[4]) for row in conn.execute(query)}


def save_published(conn: Connection, rows: Sequence[Mapping[str, Any]], known: Collection[str]) -> None:
    """Insert or update what was published (``known``: the case numbers that have a row)."""
    table = CASE_TIMELINESS
    new = [dict(row) for row in rows if row["case_no"] not in known]
    if new:
        conn.execute(insert(table), new)
    for row in rows:
        if row["case_no"] in known:
            values = {k: v for k, v in row.items() if k != "case_no"}
            conn.execute(update(table).where(table.c.case_no == row["case_no"]).values(**values))


# ------------------------------------------------------------------ the hall's notifications


def existing_notification_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are in the outbox already."""
    if not keys:
        return set()
    query = select(NOTIFICATIONS.c.key).where(is_in(conn, NOTIFICATIONS.c.key, keys))
    return {row[0] for row in conn.execute(query)}


def insert_notifications(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue new notifications."""
    if rows:
        conn.execute(insert(NOTIFICATIONS), [dict(row) for row in rows])


def notifications(
    conn: Connection, statuses: Collection[str] | None = None, case_no: str | None = None
) -> list[dict[str, Any]]:
    """Notifications, oldest first (in ``statuses`` / of ``case_no`` when given)."""
    query = select(NOTIFICATIONS).order_by(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.key)
    if statuses is not None:
        query = query.where(NOTIFICATIONS.c.status.in_(sorted(statuses)))
    if case_no is not None:
        query = query.where(NOTIFICATIONS.c.case_no == case_no)
    return [dict(row._mapping) for row in conn.execute(query)]


def mark_notification(conn: Connection, key: str, values: Mapping[str, Any], attempt: bool = True) -> None:
    """Record the outcome of one delivery attempt."""
    table = NOTIFICATIONS
    changes = dict(values)
    if attempt:
        changes["attempts"] = table.c.attempts + 1
    conn.execute(update(table).where(table.c.key == key).values(**changes))
