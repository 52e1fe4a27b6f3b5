"""The sync side of the local store: outbox reads and acknowledgements, the pull cursor, the
server's case states, conflicts, other stations' applicant standings and cached documents.

The push path reads one batch of the outbox with one query and records the server's answers
with ``executemany``: a 20,000-operation backlog must not be slowed down by the store.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from offline_cache.store import UnitOfWork

CURSOR_KEY = "sync.cursor"
LAST_SUCCESS_KEY = "sync.last_success_at"
LAST_ATTEMPT_KEY = "sync.last_attempt_at"
CREATED_KEY = "store.created_at"
CATALOG_DOCUMENT = "catalog"

PENDING, ACKED, CONFLICT = "pending", "acked", "conflict"


# ---------------------------------------------------------------- meta


def get_meta(conn: Connection, key: str) -> str | None:
    """A value of the meta table, read on ``conn`` (inside a transaction or not)."""
    row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (key,)).first()
    return None if row is None else str(row[0])


def set_meta(unit: UnitOfWork, key: str, value: str) -> None:
    """Insert or replace a meta value inside ``unit``."""
    unit.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def cursor(conn: Connection) -> int:
    """The pull cursor: the last server change this store has applied (0 before the first)."""
    value = get_meta(conn, CURSOR_KEY)
    return int(value) if value else 0


def set_cursor(unit: UnitOfWork, value: int) -> None:
    """Store the pull cursor in the same transaction as the changes it covers."""
    set_meta(unit, CURSOR_KEY, str(value))


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO timestamp from the meta table as an aware datetime (UTC when naive)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------- outbox


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as pushed."""

    seq: int
    op_id: str
    kind: str
    case_no: str | None
    payload: str  # canonical JSON
    created_at: str


def pending_batch(conn: Connection, kinds: Sequence[str], limit: int) -> list[OutboxEntry]:
    """The oldest pending operations of the given kinds, in outbox order (one query)."""
    marks = ", ".join("?" * len(kinds))
    rows = conn.exec_driver_sql(
        "SELECT seq, op_id, kind, case_no, payload, created_at FROM outbox"
        f" WHERE status = 'pending' AND kind IN ({marks}) ORDER BY seq LIMIT ?",
        (*kinds, limit),
    )
    return [OutboxEntry(int(s), o, k, c, p, a) for s, o, k, c, p, a in rows]


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """The server's answer to one pushed operation, as the store records it."""

    op_id: str
    result: str  # applied | duplicate | refused
    code: str | None = None
    reason: str | None = None


def record_push_results(unit: UnitOfWork, outcomes: Sequence[PushOutcome]) -> None:
    """Mark answered operations: acknowledged, or kept as a conflict with the server's reason.

    Only rows still pending are touched, so recording the same answers twice is harmless.
    """
    acked = [(o.result, unit.now, o.op_id) for o in outcomes if o.result != "refused"]
    refused = [(o.result, o.code, o.reason, o.op_id) for o in outcomes if o.result == "refused"]
    unit.executemany(
        "UPDATE outbox SET status = 'acked', result = ?, acked_at = ?, attempts = attempts + 1"
        " WHERE op_id = ? AND status = 'pending'",
        acked,
    )
    unit.executemany(
        "UPDATE outbox SET status = 'conflict', result = ?, code = ?, reason = ?,"
        " attempts = attempts + 1 WHERE op_id = ? AND status = 'pending'",
        refused,
    )


def refresh_synced(unit: UnitOfWork, case_nos: Iterable[str]) -> None:
    """``synced`` = every operation of the case is acknowledged, or refused and reviewed."""
    unique = sorted(set(case_nos))
    unit.executemany(
        "UPDATE cases SET synced = NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.case_no = ?"
        " AND (status = 'pending' OR (status = 'conflict' AND reviewed_at IS NULL)))"
        " WHERE case_no = ?",
        [(c, c) for c in unique],
    )


def pending_cases(conn: Connection, case_nos: Sequence[str]) -> set[str]:
    """Those of ``case_nos`` that still have operations waiting to be pushed."""
    found: set[str] = set()
    for start in range(0, len(case_nos), 500):
        chunk = case_nos[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        found.update(
            str(r[0])
            for r in conn.exec_driver_sql(
                f"SELECT DISTINCT case_no FROM outbox WHERE status = 'pending' AND case_no IN ({marks})",
                tuple(chunk),
            )
        )
    return found


def count_outbox(conn: Connection) -> tuple[int, int]:
    """(pending operations, refused operations nobody has reviewed yet)."""
    # Two index ranges on ix_outbox_status: the status bar asks every few seconds, and a
    # scan of an outbox with 200,000 acknowledged operations costs ~0.1 s each time.
    row = conn.exec_driver_sql(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending'),"
        " (SELECT COUNT(*) FROM outbox WHERE status = 'conflict' AND reviewed_at IS NULL)"
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


@dataclass(frozen=True, slots=True)
class RefusedRow:
    """A refused operation with what is known about why."""

    seq: int
    op_id: str
    kind: str
    case_no: str | None
    payload: str
    created_at: str
    code: str | None
    reason: str | None
    winner: str | None
    reviewed_by: str | None
    reviewed_at: str | None


_REFUSED_SELECT = (
    "SELECT o.seq, o.op_id, o.kind, o.case_no, o.payload, o.created_at, o.code, o.reason, c.winner,"
    " o.reviewed_by, o.reviewed_at FROM outbox o LEFT JOIN sync_conflicts c ON c.op_id = o.op_id"
    " WHERE o.status = 'conflict'"
)


def refused_rows(conn: Connection, include_reviewed: bool = False) -> list[RefusedRow]:
    """Refused operations, oldest first; reviewed ones only when asked."""
    sql = _REFUSED_SELECT + ("" if include_reviewed else " AND o.reviewed_at IS NULL") + " ORDER BY o.seq"
    return [RefusedRow(*row) for row in conn.exec_driver_sql(sql)]


def refused_row(conn: Connection, op_id: str) -> RefusedRow | None:
    """One refused operation, or None."""
    row = conn.exec_driver_sql(_REFUSED_SELECT + " AND o.op_id = ?", (op_id,)).first()
    return None if row is None else RefusedRow(*row)


def mark_reviewed(unit: UnitOfWork, op_id: str, by: str) -> bool:
    """Record who reviewed a refused operation (the row is kept); False when already reviewed."""
    result = unit.execute(
        "UPDATE outbox SET reviewed_by = ?, reviewed_at = ? WHERE op_id = ? AND status = 'conflict'"
        " AND reviewed_at IS NULL",
        (by, unit.now, op_id),
    )
    return bool(result.rowcount == 1)


# ---------------------------------------------------------------- pulled changes


@dataclass(frozen=True, slots=True)
class LocalCase:
    """What the case-state applier needs to know about a local case."""

    case_no: str
    state: str
    applicant_id: str


def local_case(conn: Connection, case_no: str) -> LocalCase | None:
    """A local case's state, or None when this store does not have it."""
    row = conn.exec_driver_sql(
        "SELECT case_no, state, applicant_id FROM cases WHERE case_no = ?", (case_no,)
    ).first()
    return None if row is None else LocalCase(str(row[0]), str(row[1]), str(row[2]))


def set_case_state(
    unit: UnitOfWork,
    case_no: str,
    expected: str,
    state: str,
    closed_on: str | None = None,
    closed_by: str | None = None,
) -> bool:
    """Adopt the server's state of a case (no outbox operation: the server already has it)."""
    sets = "state = ?, updated_at = ?"
    params: list[Any] = [state, unit.now]
    if closed_on is not None:
        sets += ", closed_on = ?, closed_by = ?"
        params += [closed_on, closed_by]
    result = unit.execute(
        f"UPDATE cases SET {sets} WHERE case_no = ? AND state = ?", (*params, case_no, expected)
    )
    return bool(result.rowcount == 1)


def reopen_case(unit: UnitOfWork, case_no: str, expected: str, state: str) -> bool:
    """The hall undid a local closing step (e.g. a 终止 it refused): reopen the ledger entry."""
    result = unit.execute(
        "UPDATE cases SET state = ?, closed_on = NULL, closed_by = NULL, updated_at = ?"
        " WHERE case_no = ? AND state = ?",
        (state, unit.now, case_no, expected),
    )
    return bool(result.rowcount == 1)


def reopen_commitment(unit: UnitOfWork, applicant_id: str, was_broken: bool) -> None:
    """A commitment counted as ended is open again (the step that ended it did not stand)."""
    unit.execute(
        "UPDATE applicants SET open_commitments = open_commitments + 1,"
        " unfulfilled_commitments = MAX(unfulfilled_commitments - ?, 0), updated_at = ?"
        " WHERE applicant_id = ?",
        (1 if was_broken else 0, unit.now, applicant_id),
    )


def record_conflict(
    unit: UnitOfWork,
    op_id: str,
    case_no: str | None,
    code: str,
    reason: str,
    winner: str | None,
    change_seq: int | None,
    detail: dict[str, Any],
) -> bool:
    """Keep a lost conflict; False when it was recorded before (re-pulled change)."""
    result = unit.execute(
        "INSERT INTO sync_conflicts (op_id, case_no, code, reason, winner, change_seq, detail, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(op_id) DO NOTHING",
        (
            op_id,
            case_no,
            code,
            reason,
            winner,
            change_seq,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
            unit.now,
        ),
    )
    return bool(result.rowcount == 1)


def mark_op_conflict(unit: UnitOfWork, op_id: str, code: str, reason: str) -> bool:
    """An acknowledged operation later lost a conflict: show it with the refused ones."""
    result = unit.execute(
        "UPDATE outbox SET status = 'conflict', code = ?, reason = ? WHERE op_id = ? AND status = 'acked'",
        (code, reason, op_id),
    )
    return bool(result.rowcount == 1)


def upsert_remote_standing(
    unit: UnitOfWork,
    applicant_id: str,
    station: str,
    open_commitments: int,
    unfulfilled_commitments: int,
    dishonest: bool,
    change_seq: int,
) -> None:
    """Another station's commitments of an applicant (a newer change replaces an older one)."""
    unit.execute(
        "INSERT INTO remote_standings (applicant_id, station, open_commitments, unfulfilled_commitments,"
        " dishonest, change_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(applicant_id, station) DO UPDATE SET open_commitments = excluded.open_commitments,"
        " unfulfilled_commitments = excluded.unfulfilled_commitments, dishonest = excluded.dishonest,"
        " change_seq = excluded.change_seq, updated_at = excluded.updated_at"
        " WHERE excluded.change_seq >= remote_standings.change_seq",
        (applicant_id, station, open_commitments, unfulfilled_commitments, dishonest, change_seq, unit.now),
    )


def remote_standings(
    conn: Connection, ids: Sequence[str], exclude_station: str
) -> dict[str, tuple[bool, int]]:
    """(dishonest anywhere, unfulfilled commitments summed) over the other stations."""
    found: dict[str, tuple[bool, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for applicant_id, dishonest, unfulfilled in conn.exec_driver_sql(
            "SELECT applicant_id, MAX(dishonest), SUM(unfulfilled_commitments) FROM remote_standings"
            f" WHERE station != ? AND applicant_id IN ({marks}) GROUP BY applicant_id",
            (exclude_station, *chunk),
        ):
            found[str(applicant_id)] = (bool(dishonest), int(unfulfilled or 0))
    return found


def store_raw_change(
    unit: UnitOfWork, seq: int, kind: str, key: str, payload: dict[str, Any], at: str
) -> None:
    """Keep a change no applier consumes yet (public keys, certificates) for later use."""
    unit.execute(
        "INSERT INTO pulled_changes (seq, kind, key, payload, at, received_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(seq) DO NOTHING",
        (seq, kind, key, json.dumps(payload, ensure_ascii=False, sort_keys=True), at, unit.now),
    )


def raw_changes(conn: Connection, kinds: Sequence[str]) -> list[tuple[int, str, str, dict[str, Any], str]]:
    """Stored raw changes of the given kinds, oldest first: (seq, kind, key, payload, at)."""
    marks = ", ".join("?" * len(kinds))
    return [
        (int(s), str(k), str(key), json.loads(p), str(a))
        for s, k, key, p, a in conn.exec_driver_sql(
            f"SELECT seq, kind, key, payload, at FROM pulled_changes WHERE kind IN ({marks}) ORDER BY seq",
            tuple(kinds),
        )
    ]


def save_document(unit: UnitOfWork, name: str, version: str, body: str) -> None:
    """Cache a document fetched from the hall server (replaces the previous version)."""
    unit.execute(
        "INSERT INTO cached_documents (name, version, body, fetched_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(name) DO UPDATE SET version = excluded.version, body = excluded.body,"
        " fetched_at = excluded.fetched_at",
        (name, version, body, unit.now),
    )


def load_document(conn: Connection, name: str) -> tuple[str, str] | None:
    """(version, body) of a cached document, or None."""
    row = conn.exec_driver_sql("SELECT version, body FROM cached_documents WHERE name = ?", (name,)).first()
    return None if row is None else (str(row[0]), str(row[1]))


# ---------------------------------------------------------------- staff


def cache_online_sign_in(
    unit: UnitOfWork, staff_no: str, name: str, role: str, station: str, password_hash: str
) -> None:
    """The hall accepted a sign-in: keep its hash and role for offline sign-in later."""
    unit.execute(
        "INSERT INTO staff (staff_no, name, role, station, password_hash, last_online_login)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(staff_no) DO UPDATE SET name = excluded.name,"
        " role = excluded.role, station = excluded.station, password_hash = excluded.password_hash,"
        " failed_attempts = 0, locked_until = NULL, active = 1,"
        " last_online_login = excluded.last_online_login",
        (staff_no, name, role, station, password_hash, unit.now),
    )
