"""The station's notification outbox (提醒记录) and the hall's timeliness of its cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from offline_cache.store import UnitOfWork

_COLUMNS = (
    "key, rule, case_no, recipient, recipient_kind, text, due_on, status, attempts, last_error, sender,"
    " receipt, created_at, sent_at"
)
_NAMES = tuple(name.strip() for name in _COLUMNS.split(","))


def supplement_due(conn: Connection, first: dt.date, last: dt.date) -> list[tuple[Any, ...]]:
    """(case_no, item_name, applicant_name, phone, supplement_due) of the 容缺 cases whose 补正
    deadline falls from ``first`` to ``last`` and whose applicant left a phone."""
    rows = conn.exec_driver_sql(
        "SELECT case_no, item_name, applicant_name, phone, supplement_due FROM cases"
        " WHERE state = 'accepted_tolerated' AND supplement_due BETWEEN ? AND ?"
        " AND phone IS NOT NULL AND phone != '' ORDER BY supplement_due, case_no",
        (first.isoformat(), last.isoformat()),
    )
    return [tuple(row) for row in rows]


def missing_due(conn: Connection, case_nos: Sequence[str]) -> dict[tuple[str, str], list[str]]:
    """The names of the missing materials per (case, 补正 deadline)."""
    found: dict[tuple[str, str], list[str]] = {}
    for case_no in case_nos:
        rows = conn.exec_driver_sql(
            "SELECT name, supplement_due FROM case_materials WHERE case_no = ? AND status = 'missing'"
            " AND supplement_due IS NOT NULL ORDER BY code",
            (case_no,),
        )
        for name, due in rows:
            found.setdefault((case_no, str(due)), []).append(name)
    return found


def awaiting_pickup(conn: Connection) -> list[tuple[Any, ...]]:
    """(case_no, item_name, applicant_name, phone, issued_on) of the cases whose certificate is
    issued and not handed over, with a phone."""
    rows = conn.exec_driver_sql(
        "SELECT c.case_no, c.item_name, c.applicant_name, c.phone, MAX(cert.issued_on)"
        " FROM cases c JOIN certificate_cases cc ON cc.case_no = c.case_no"
        " JOIN certificates cert ON cert.identifier = cc.identifier"
        " WHERE c.state = 'certificate_issued' AND c.phone IS NOT NULL AND c.phone != ''"
        " GROUP BY c.case_no ORDER BY c.case_no"
    )
    return [tuple(row) for row in rows]


def existing_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are queued already (in any status)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.exec_driver_sql(f"SELECT key FROM notifications WHERE key IN ({marks})", tuple(chunk))
        found.update(row[0] for row in rows)
    return found


def insert(unit: UnitOfWork, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue notifications (``INSERT OR IGNORE``: a key queued meanwhile stays as it is)."""
    unit.executemany(
        "INSERT OR IGNORE INTO notifications (key, rule, case_no, recipient, recipient_kind, text, due_on,"
        " status, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
        [
            (r["key"], r["rule"], r["case_no"], r["recipient"], r["recipient_kind"], r["text"], r["due_on"],
             r["created_at"])
            for r in rows
        ],
    )  # fmt: skip


def listing(
    conn: Connection, statuses: Collection[str] | None = None, case_no: str | None = None
) -> list[dict[str, Any]]:
    """Notifications (oldest first), in ``statuses`` / of ``case_no`` when given."""
    where, params = [], []
    if statuses is not None:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params += sorted(statuses)
    if case_no is not None:
        where.append("case_no = ?")
        params.append(case_no)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = conn.exec_driver_sql(
        f"SELECT {_COLUMNS} FROM notifications{clause} ORDER BY created_at, key", tuple(params)
    )
    return [dict(zip(_NAMES, row, strict=True)) for row in rows]


def mark(
    unit: UnitOfWork, key: str, status: str, sender: str, receipt: str | None, error: str | None
) -> None:
    """Record one delivery attempt's outcome."""
    unit.execute(
        "UPDATE notifications SET status = ?, attempts = attempts + 1, sender = ?,"
        " receipt = COALESCE(?, receipt), last_error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE key = ?",
        (status, sender, receipt, error, status, unit.now, key),
    )


# ------------------------------------------------------------------ the hall's timeliness


def save_hall_timeliness(unit: UnitOfWork, seq: int, values: Mapping[str, Any]) -> bool:
    """Keep the hall's timeliness of a case unless a newer change is kept already; whether kept."""
    row = unit.execute(
        "SELECT change_seq FROM hall_timeliness WHERE case_no = ?", (values["case_no"],)
    ).first()
    if row is not None and int(row[0]) >= seq:
        return False
    unit.execute(
        "INSERT OR REPLACE INTO hall_timeliness (case_no, due_date, days_left, flag, paused, handler,"
        " handler_name, as_of, change_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (values["case_no"], values["due_date"], values["days_left"], values["flag"], values["paused"],
         values["handler"], values["handler_name"], values["as_of"], seq),
    )  # fmt: skip
    return True


def hall_timeliness(conn: Connection, case_nos: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The hall's timeliness of each of ``case_nos`` that has one."""
    names = ("case_no", "due_date", "days_left", "flag", "paused", "handler", "handler_name", "as_of")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(case_nos), 500):
        chunk = case_nos[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT {', '.join(names)} FROM hall_timeliness WHERE case_no IN ({marks})"
        rows = conn.exec_driver_sql(query, tuple(chunk))
        for row in rows:
            entry = dict(zip(names, row, strict=True))
            entry["paused"] = bool(entry["paused"])
            found[entry["case_no"]] = entry
    return found
