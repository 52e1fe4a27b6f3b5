"""Writes of the local store's cases, applicants and holiday arrangements. SQL lives in
``offline_cache`` and nowhere above it.

Bulk writes go through the driver's ``executemany`` with positional tuples: batch acceptance
writes hundreds of thousands of rows and per-row ORM objects would cost several times the
insert itself. Reading cases and counting them is in :mod:`offline_cache.case_queries`, the
day close's figures in :mod:`offline_cache.dayclose_queries`; the case readers are re-exported
here so the services' ``repo.list_case_rows`` (and the like) keep working.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from models.acceptance import case_number as case_number  # the number format the hall checks
from models.records import CASE_COLUMNS, CaseFilter, NewCase
from offline_cache.case_queries import (
    CASE_VIEW_COLUMNS,
    count_by_state,
    count_cases,
    flag_counts,
    get_case_row,
    history_of,
    list_case_rows,
    materials_of,
    overdue_tolerated,
    state_counts,
)
from offline_cache.store import UnitOfWork

__all__ = [  # the writers below, and the case readers of case_queries re-exported
    "CASE_VIEW_COLUMNS",
    "CaseFilter",
    "DedupeHit",
    "add_open_commitments",
    "allocate_sequences",
    "case_number",
    "close_commitment",
    "count_by_state",
    "count_cases",
    "find_dedupe",
    "flag_counts",
    "get_case_row",
    "history_of",
    "insert_cases",
    "list_case_rows",
    "load_arrangements",
    "mark_materials_received",
    "materials_of",
    "overdue_tolerated",
    "reasons_json",
    "release_dedupe",
    "save_arrangement",
    "set_dishonest",
    "standings",
    "state_counts",
    "update_case",
]

_CASE_INSERT = f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"
_MATERIAL_INSERT = (
    "INSERT INTO case_materials (case_no, code, name, tolerance, status, supplement_due)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


# ---------------------------------------------------------------- case numbers


def allocate_sequences(unit: UnitOfWork, station: str, day: dt.date, count: int) -> range:
    """Reserve ``count`` consecutive sequence numbers of ``station`` on ``day``."""
    key = day.strftime("%Y%m%d")
    row = unit.execute(
        "INSERT INTO case_sequences (station, day, last) VALUES (?, ?, ?)"
        " ON CONFLICT(station, day) DO UPDATE SET last = last + excluded.last RETURNING last",
        (station, key, count),
    ).one()
    last = int(row[0])
    return range(last - count + 1, last + 1)


# ---------------------------------------------------------------- writing cases


def insert_cases(unit: UnitOfWork, cases: Sequence[NewCase]) -> None:
    """Insert new cases (with ``case_no`` set) and their checklists."""
    now = unit.now
    case_rows = []
    material_rows = []
    for c in cases:
        case_rows.append(
            (
                c.case_no, c.station, c.window, c.clerk, c.channel, c.item_code, c.item_name,
                c.is_package, c.applicant_type, c.applicant_id, c.applicant_name, c.agent_name,
                c.agent_id, c.phone, c.state, c.verdict, c.reasons, c.commitment, c.approved_by,
                c.accepted_on.isoformat(), _iso(c.due_date), c.due_provisional,
                _iso(c.supplement_due), c.supplement_provisional, c.remaining_days,
                c.limit_unit, c.certificate_type, c.dedupe_key, c.content_hash, now, now,
            )
        )  # fmt: skip
        for m in c.materials:
            material_rows.append((c.case_no, m.code, m.name, m.tolerance, m.status, _iso(m.supplement_due)))
    unit.executemany(_CASE_INSERT, case_rows)
    unit.executemany(_MATERIAL_INSERT, material_rows)


def add_open_commitments(unit: UnitOfWork, applicants: Iterable[tuple[str, str, str]]) -> None:
    """Count a new open tolerance commitment for each (id, type, name)."""
    now = unit.now
    unit.executemany(
        "INSERT INTO applicants (applicant_id, applicant_type, name, open_commitments, updated_at)"
        " VALUES (?, ?, ?, 1, ?) ON CONFLICT(applicant_id) DO UPDATE SET"
        " open_commitments = open_commitments + 1, updated_at = excluded.updated_at",
        [(a, t, n, now) for a, t, n in applicants],
    )


def close_commitment(unit: UnitOfWork, applicant_id: str, fulfilled: bool) -> None:
    """A commitment ends: fulfilled (supplemented) or broken (overdue, terminated)."""
    unit.execute(
        "UPDATE applicants SET open_commitments = MAX(open_commitments - 1, 0),"
        " unfulfilled_commitments = unfulfilled_commitments + ?, updated_at = ?"
        " WHERE applicant_id = ?",
        (0 if fulfilled else 1, unit.now, applicant_id),
    )


def set_dishonest(unit: UnitOfWork, applicant_id: str, applicant_type: str, name: str, flag: bool) -> None:
    """Record or clear a 失信 mark for an applicant."""
    unit.execute(
        "INSERT INTO applicants (applicant_id, applicant_type, name, dishonest, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(applicant_id) DO UPDATE SET"
        " dishonest = excluded.dishonest, updated_at = excluded.updated_at",
        (applicant_id, applicant_type, name, flag, unit.now),
    )


@dataclass(frozen=True, slots=True)
class DedupeHit:
    """A case already written under a dedupe key."""

    case_no: str
    state: str
    content_hash: str | None


def find_dedupe(conn: Connection, keys: Sequence[str]) -> dict[str, DedupeHit]:
    """Cases already holding any of ``keys``."""
    found: dict[str, DedupeHit] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for key, case_no, state, content in conn.exec_driver_sql(
            f"SELECT dedupe_key, case_no, state, content_hash FROM cases WHERE dedupe_key IN ({marks})",
            tuple(chunk),
        ):
            found[key] = DedupeHit(case_no, state, content)
    return found


def release_dedupe(unit: UnitOfWork, case_no: str) -> None:
    """Free the dedupe key of a 不予受理 case so that a corrected row can be accepted."""
    unit.execute(
        "UPDATE cases SET dedupe_key = dedupe_key || '#superseded:' || case_no, updated_at = ?"
        " WHERE case_no = ?",
        (unit.now, case_no),
    )


def standings(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[bool, int]]:
    """(dishonest, unfulfilled commitments) of the applicants in ``ids`` that have a record."""
    found: dict[str, tuple[bool, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for applicant_id, dishonest, unfulfilled in conn.exec_driver_sql(
            "SELECT applicant_id, dishonest, unfulfilled_commitments FROM applicants"
            f" WHERE applicant_id IN ({marks})",
            tuple(chunk),
        ):
            found[applicant_id] = (bool(dishonest), int(unfulfilled))
    return found


# ---------------------------------------------------------------- state changes


def update_case(unit: UnitOfWork, case_no: str, expected_state: str, **fields: Any) -> None:
    """Change a case only if it is still in ``expected_state`` (no silent overwrite)."""
    sets = ", ".join(f"{name} = ?" for name in fields)
    values = [_iso(v) if isinstance(v, dt.date) else v for v in fields.values()]
    result = unit.execute(
        f"UPDATE cases SET {sets}, updated_at = ?, synced = 0 WHERE case_no = ? AND state = ?",
        (*values, unit.now, case_no, expected_state),
    )
    if result.rowcount != 1:
        raise RuntimeError(f"case {case_no} changed underneath (expected state {expected_state})")


def mark_materials_received(unit: UnitOfWork, case_no: str, codes: Sequence[str], day: dt.date) -> None:
    """Record the 补正 of missing materials."""
    unit.executemany(
        "UPDATE case_materials SET status = 'presented', received_on = ? WHERE case_no = ? AND code = ?",
        [(day.isoformat(), case_no, code) for code in codes],
    )


# ---------------------------------------------------------------- holiday arrangements


def save_arrangement(
    unit: UnitOfWork, year: int, source: str, days: Iterable[tuple[dt.date, str, str]]
) -> None:
    """Replace the stored arrangement of ``year`` with (day, kind, name) rows."""
    unit.execute("DELETE FROM holiday_days WHERE year = ?", (year,))
    unit.executemany(
        "INSERT INTO holiday_days (day, year, kind, name) VALUES (?, ?, ?, ?)",
        [(d.isoformat(), year, kind, name) for d, kind, name in days],
    )
    unit.execute(
        "INSERT INTO holiday_years (year, source, imported_at) VALUES (?, ?, ?)"
        " ON CONFLICT(year) DO UPDATE SET source = excluded.source,"
        " imported_at = excluded.imported_at",
        (year, source, unit.now),
    )


def load_arrangements(conn: Connection) -> dict[int, tuple[str, list[tuple[dt.date, str, str]]]]:
    """Stored arrangements: year -> (source, [(day, kind, name)])."""
    years: dict[int, tuple[str, list[tuple[dt.date, str, str]]]] = {
        int(y): (str(s), []) for y, s in conn.exec_driver_sql("SELECT year, source FROM holiday_years")
    }
    for day, year, kind, name in conn.exec_driver_sql("SELECT day, year, kind, name FROM holiday_days"):
        if int(year) in years:
            years[int(year)][1].append((dt.date.fromisoformat(day), str(kind), str(name)))
    return years


def reasons_json(reasons: Iterable[tuple[str, dict[str, Any]]]) -> str:
    """Problems as stored on a case: [{"code", "params"}]."""
    reasons = list(reasons)
    if not reasons:
        return "[]"
    return _REASONS_JSON.encode([{"code": c, "params": p} for c, p in reasons])


_REASONS_JSON = json.JSONEncoder(ensure_ascii=False)  # built once: batches store one per case
