"""Queries and writes of the local store. SQL lives here and nowhere above it.

Bulk writes go through the driver's ``executemany`` with positional tuples: batch acceptance
writes hundreds of thousands of rows and per-row ORM objects would cost several times the
insert itself. Reads map rows to the plain records of ``models.records``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from models.acceptance import case_number as case_number  # the number format the hall checks
from models.records import CASE_COLUMNS, CaseFilter, HistoryEntry, MaterialView, NewCase
from offline_cache.store import UnitOfWork

_CASE_INSERT = f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"
_MATERIAL_INSERT = (
    "INSERT INTO case_materials (case_no, code, name, tolerance, status, supplement_due)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


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


# ---------------------------------------------------------------- reading cases

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


_OPEN_DEADLINES = (
    # (states, deadline column): 补正 deadlines of tolerated cases, due dates of open ones.
    # Each pair is an index (ix_cases_state_due, ix_cases_state_due_date), so every count
    # below is an index range, whatever the number of closed cases in the store.
    (("accepted_tolerated",), "supplement_due"),
    (("accepted", "supplemented"), "due_date"),
)


def _deadline_ranges(column: str) -> dict[str, str]:
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
    for states, column in _OPEN_DEADLINES:
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        params = {"today": today.isoformat(), "yellow": yellow_until.isoformat()}
        params.update({f"s{i}": state for i, state in enumerate(states)})
        for flag, condition in _deadline_ranges(column).items():
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


# ---------------------------------------------------------------- day close (日结), per window
#
# Each query reads one day's cases (ix_cases_accepted_on), the open cases (state index
# ranges), the day's certificates (ix_certificates_issued, ix_certificate_handovers_on) or the
# outbox operations not yet pushed (ix_outbox_status): never every case of the store.

_DAY_WINDOW_NONE = ""  # operations and certificates that belong to no case of this station


def day_acceptance_by_window(conn: Connection, station: str, day: dt.date) -> dict[str, tuple[int, int, int]]:
    """window -> (accepted normally, accepted with tolerance, not accepted) on ``day``, by the
    decision taken at the counter (a case accepted and finished the same day still counts)."""
    rows = conn.exec_driver_sql(
        "SELECT window,"
        " SUM(CASE WHEN state != 'not_accepted' AND verdict = 'complete' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN state != 'not_accepted' AND verdict = 'tolerable' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN state = 'not_accepted' THEN 1 ELSE 0 END)"
        " FROM cases WHERE accepted_on = ? AND station = ? GROUP BY window",
        (day.isoformat(), station),
    )
    return {str(w): (int(a or 0), int(t or 0), int(n or 0)) for w, a, t, n in rows}


def certificates_by_window(conn: Connection, station: str, day: dt.date) -> dict[str, tuple[int, int]]:
    """window -> (certificates issued on ``day``, certificates handed over on ``day``); a
    certificate of several cases (一件事) counts once for each window it came from."""
    issued = conn.exec_driver_sql(
        "SELECT COALESCE(c.window, ''), COUNT(DISTINCT cert.identifier) FROM certificates cert"
        " LEFT JOIN certificate_cases cc ON cc.identifier = cert.identifier"
        " LEFT JOIN cases c ON c.case_no = cc.case_no"
        " WHERE cert.station = ? AND cert.issued_on = ? GROUP BY 1",
        (station, day.isoformat()),
    )
    found: dict[str, list[int]] = {}
    for window, n in issued:
        found.setdefault(str(window), [0, 0])[0] = int(n)
    handed = conn.exec_driver_sql(
        "SELECT COALESCE(c.window, ''), COUNT(DISTINCT h.identifier) FROM certificate_handovers h"
        " JOIN certificates cert ON cert.identifier = h.identifier"
        " LEFT JOIN certificate_cases cc ON cc.identifier = h.identifier"
        " LEFT JOIN cases c ON c.case_no = cc.case_no"
        " WHERE h.handed_over_on = ? AND cert.station = ? GROUP BY 1",
        (day.isoformat(), station),
    )
    for window, n in handed:
        found.setdefault(str(window), [0, 0])[1] = int(n)
    return {w: (v[0], v[1]) for w, v in found.items()}


def certificate_totals(conn: Connection, station: str, day: dt.date) -> tuple[int, int]:
    """(certificates issued on ``day``, handed over on ``day``) at ``station``, each once."""
    issued = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificates WHERE station = ? AND issued_on = ?", (station, day.isoformat())
    ).scalar_one()
    handed = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificate_handovers h JOIN certificates cert"
        " ON cert.identifier = h.identifier WHERE h.handed_over_on = ? AND cert.station = ?",
        (day.isoformat(), station),
    ).scalar_one()
    return int(issued), int(handed)


def waiting_by_window(conn: Connection, station: str, states: Sequence[str]) -> dict[str, int]:
    """window -> cases of ``station`` now in one of ``states`` (e.g. results awaiting 领取)."""
    marks = ", ".join("?" * len(states))
    rows = conn.exec_driver_sql(
        f"SELECT window, COUNT(*) FROM cases WHERE state IN ({marks}) AND station = ? GROUP BY window",
        (*states, station),
    )
    return {str(w): int(n) for w, n in rows}


def open_flags_by_window(
    conn: Connection, station: str, today: dt.date, yellow_until: dt.date
) -> dict[str, tuple[int, int, int]]:
    """window -> (red, yellow, green) over the open deadlines of ``station`` (see
    :func:`flag_counts`)."""
    found: dict[str, list[int]] = {}
    for states, column in _OPEN_DEADLINES:
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        params: dict[str, Any] = {"today": today.isoformat(), "yellow": yellow_until.isoformat()}
        params.update({f"s{i}": state for i, state in enumerate(states)})
        params["station"] = station
        ranges = _deadline_ranges(column)
        rows = conn.exec_driver_sql(
            f"SELECT window, SUM(CASE WHEN {ranges['red']} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {ranges['yellow']} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {ranges['green']} THEN 1 ELSE 0 END)"
            f" FROM cases WHERE state IN ({marks}) AND station = :station AND {column} IS NOT NULL"
            " GROUP BY window",
            params,
        )
        for window, red, yellow, green in rows:
            counts = found.setdefault(str(window), [0, 0, 0])
            counts[0] += int(red or 0)
            counts[1] += int(yellow or 0)
            counts[2] += int(green or 0)
    return {w: (v[0], v[1], v[2]) for w, v in found.items()}


def unsynced_by_window(conn: Connection, station: str) -> dict[str, int]:
    """window -> outbox operations not yet pushed (pending), by the window of their case;
    operations of no case of this station (e.g. a calendar import) under ``""``."""
    rows = conn.exec_driver_sql(
        # INDEXED BY: with mostly acknowledged operations, ANALYZE's statistics (two statuses)
        # lead the planner to scan all of ix_outbox_case instead of the pending range.
        "SELECT CASE WHEN c.station = ? THEN c.window ELSE '' END, COUNT(*)"
        " FROM outbox o INDEXED BY ix_outbox_status"
        " LEFT JOIN cases c ON c.case_no = o.case_no WHERE o.status = 'pending' GROUP BY 1",
        (station,),
    )
    return {str(w or _DAY_WINDOW_NONE): int(n) for w, n in rows}
