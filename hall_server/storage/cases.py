"""Cases, their operations and the applicants' standings, read and written in bulk.

A push makes a fixed number of round trips whatever its size: one query per kind of row per
batch (:mod:`hall_server.services.batch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall_server.storage.schema import CASES, CHANGES, OPERATION_APPROVALS, OPS, STANDINGS
from hall_server.storage.sql import insert_rows, is_in

# ------------------------------------------------------------------ records


@dataclass(slots=True)
class CaseRecord:
    """The part of a case row the push needs."""

    case_no: str
    station: str
    applicant_id: str
    accept_state: str
    state: str
    version: int


@dataclass(slots=True)
class OpRecord:
    """A stored operation as the fold and the back office see it."""

    server_seq: int
    op_id: str
    station: str
    staff_no: str
    origin: str
    kind: str
    case_no: str | None
    event: str | None
    from_state: str | None
    to_state: str | None
    payload: str
    fold: str
    winner_op_id: str | None
    winner_event: str | None
    status: str
    code: str | None
    reason: str | None
    created_at: str
    received_at: str


@dataclass(slots=True)
class Answer:
    """The first answer given to an operation (returned again for a repeat) and its body."""

    op_id: str
    kind: str
    case_no: str | None
    payload: str
    status: str
    code: str | None
    reason: str | None
    server_seq: int
    answer_state: str | None


# ------------------------------------------------------------------ operations and cases


_OP_COLUMNS = (
    OPS.c.server_seq, OPS.c.op_id, OPS.c.station, OPS.c.staff_no, OPS.c.origin, OPS.c.kind,
    OPS.c.case_no, OPS.c.event, OPS.c.from_state, OPS.c.to_state, OPS.c.payload, OPS.c.fold,
    OPS.c.winner_op_id, OPS.c.winner_event, OPS.c.status, OPS.c.code, OPS.c.reason,
    OPS.c.created_at, OPS.c.received_at,
)  # fmt: skip


def answers_by_op_id(conn: Connection, op_ids: Sequence[str]) -> dict[str, Answer]:
    """The stored first answers of those ``op_ids`` that the server has seen."""
    found: dict[str, Answer] = {}
    query = select(
        OPS.c.op_id, OPS.c.kind, OPS.c.case_no, OPS.c.payload, OPS.c.status, OPS.c.code, OPS.c.reason,
        OPS.c.server_seq,
        OPS.c.answer_state,
    )  # fmt: skip
    if op_ids:
        for row in conn.execute(query.where(is_in(conn, OPS.c.op_id, op_ids))):
            found[row[0]] = Answer(*row)
    return found


def cases_by_no(conn: Connection, case_nos: Sequence[str]) -> dict[str, CaseRecord]:
    """The stored cases among ``case_nos``."""
    found: dict[str, CaseRecord] = {}
    query = select(
        CASES.c.case_no, CASES.c.station, CASES.c.applicant_id, CASES.c.accept_state, CASES.c.state,
        CASES.c.version,
    )  # fmt: skip
    if case_nos:
        for row in conn.execute(query.where(is_in(conn, CASES.c.case_no, case_nos))):
            found[row[0]] = CaseRecord(*row)
    return found


# The kinds the fold decides (an accept starts it; ratings are kept beside the case, unfolded).
FOLDED_KINDS = ("case.transition", "case.partial_supplement")


def folded_operations(conn: Connection, case_nos: Sequence[str]) -> list[OpRecord]:
    """Every kept (not refused) operation of those cases that the fold decides."""
    rows: list[OpRecord] = []
    query = select(*_OP_COLUMNS).where(OPS.c.fold != "refused", OPS.c.kind.in_(FOLDED_KINDS))
    if case_nos:
        rows.extend(
            OpRecord(*cast(tuple[Any, ...], row))
            for row in conn.execute(query.where(is_in(conn, OPS.c.case_no, case_nos)))
        )
    return rows


def cases_with_lost_operations(conn: Connection, case_nos: Sequence[str]) -> set[str]:
    """Those of ``case_nos`` with a kept operation that lost the fold (it may win later)."""
    if not case_nos:
        return set()
    query = select(OPS.c.case_no).where(OPS.c.fold == "lost", is_in(conn, OPS.c.case_no, case_nos))
    return {row[0] for row in conn.execute(query.distinct())}


def operations_of_case(conn: Connection, case_no: str) -> list[OpRecord]:
    """Every operation received for a case (refused ones too), in server order."""
    query = select(*_OP_COLUMNS).where(OPS.c.case_no == case_no).order_by(OPS.c.server_seq)
    return [OpRecord(*cast(tuple[Any, ...], row)) for row in conn.execute(query)]


def _bulk_update(
    conn: Connection, table: Table, key: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """One executemany UPDATE of ``columns`` by ``key`` (bound as ``b_<name>``: SQLAlchemy keeps
    a column's own name for its SET clause)."""
    if rows:
        statement = (
            update(table)
            .where(table.c[key] == bindparam(f"b_{key}"))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
        conn.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def update_folds(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set ``fold``, ``winner_op_id`` and ``winner_event`` of stored operations by ``op_id``."""
    _bulk_update(conn, OPS, "op_id", ("fold", "winner_op_id", "winner_event"), rows)


def update_cases(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set ``state``, ``version`` and ``updated_at`` of stored cases by ``case_no``."""
    _bulk_update(conn, CASES, "case_no", ("state", "version", "updated_at"), rows)


# ------------------------------------------------------------------ standings


def standings_of(
    conn: Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int, bool]]:
    """Stored (open, unfulfilled, dishonest) of the (applicant_id, station) pairs."""
    wanted = set(pairs)
    applicants = sorted({applicant for applicant, _ in wanted})
    found: dict[tuple[str, str], tuple[int, int, bool]] = {}
    query = select(
        STANDINGS.c.applicant_id, STANDINGS.c.station, STANDINGS.c.open_commitments,
        STANDINGS.c.unfulfilled_commitments, STANDINGS.c.dishonest,
    )  # fmt: skip
    if applicants:
        for row in conn.execute(query.where(is_in(conn, STANDINGS.c.applicant_id, applicants))):
            key = (row[0], row[1])
            if key in wanted:
                found[key] = (int(row[2]), int(row[3]), bool(row[4]))
    return found


def upsert_standings(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace standings rows (keyed by applicant_id and station)."""
    if not rows:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(STANDINGS)
    statement = statement.on_conflict_do_update(
        index_elements=["applicant_id", "station"],
        set_={
            "open_commitments": statement.excluded.open_commitments,
            "unfulfilled_commitments": statement.excluded.unfulfilled_commitments,
            "updated_at": statement.excluded.updated_at,
        },
    )
    conn.execute(statement, list(rows))


# ------------------------------------------------------------------ back office


def list_cases(conn: Connection, station: str | None, state: str | None) -> list[dict[str, Any]]:
    """Cases (newest first) with their lost operations, optionally of one station or state."""
    query = select(CASES).order_by(CASES.c.received_at.desc(), CASES.c.case_no)
    if station:
        query = query.where(CASES.c.station == station)
    if state:
        query = query.where(CASES.c.state == state)
    cases = [dict(row) for row in conn.execute(query).mappings()]
    lost: dict[str, list[dict[str, Any]]] = {}
    lost_query = select(
        OPS.c.case_no, OPS.c.op_id, OPS.c.event, OPS.c.station, OPS.c.winner_op_id, OPS.c.winner_event
    ).where(OPS.c.fold == "lost")
    if station:
        lost_query = lost_query.where(
            OPS.c.case_no.in_(select(CASES.c.case_no).where(CASES.c.station == station))
        )
    for row in conn.execute(lost_query.order_by(OPS.c.server_seq)):
        lost.setdefault(row[0], []).append(
            {
                "op_id": row[1],
                "event": row[2],
                "station": row[3],
                "winner_op_id": row[4],
                "winner_event": row[5],
            }
        )
    for case in cases:
        case["conflicts"] = lost.get(case["case_no"], [])
    return cases


def get_case(conn: Connection, case_no: str) -> dict[str, Any] | None:
    """A case row as a dict, or None."""
    row = conn.execute(select(CASES).where(CASES.c.case_no == case_no)).mappings().first()
    return dict(row) if row else None


def write_rows(
    conn: Connection,
    *,
    operations: Sequence[Mapping[str, Any]] = (),
    cases: Sequence[Mapping[str, Any]] = (),
    changes: Sequence[Mapping[str, Any]] = (),
    standings: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Bulk-insert finished rows as they are, without any rule (restores and the sync benchmark)."""
    insert_rows(conn, OPS, operations)
    insert_rows(conn, CASES, cases)
    insert_rows(conn, CHANGES, changes)
    insert_rows(conn, STANDINGS, standings)


# ------------------------------------------------------------------ verified approvers


def insert_approvals(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record verified approvers of operations (``operation_approvals``)."""
    insert_rows(conn, OPERATION_APPROVALS, rows)


def approvers_of(conn: Connection, op_ids: Sequence[str]) -> dict[str, str]:
    """The verified approver of each of ``op_ids`` that has one."""
    if not op_ids:
        return {}
    table = OPERATION_APPROVALS
    query = select(table.c.op_id, table.c.approved_by).where(is_in(conn, table.c.op_id, op_ids))
    return {row[0]: row[1] for row in conn.execute(query)}


# ------------------------------------------------------------------ facts a termination is checked against


def accept_facts(conn: Connection, case_nos: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(case_no, item_code, accepted_on, the accept operation's payload) of the stored cases."""
    query = (
        select(CASES.c.case_no, CASES.c.item_code, CASES.c.accepted_on, OPS.c.payload)
        .join(OPS, OPS.c.op_id == CASES.c.accept_op_id)
        .where(is_in(conn, CASES.c.case_no, case_nos))
    )
    return [(row[0], row[1], row[2], row[3]) for row in conn.execute(query)]


def supplement_operations(
    conn: Connection, case_nos: Sequence[str], partial_kind: str, supplement_event: str
) -> list[tuple[str, str, str | None, str]]:
    """(case_no, kind, event, payload) of the kept 补正 operations (partial and full) of ``case_nos``."""
    query = select(OPS.c.case_no, OPS.c.kind, OPS.c.event, OPS.c.payload).where(
        OPS.c.fold != "refused",
        (OPS.c.kind == partial_kind) | (OPS.c.event == supplement_event),
        is_in(conn, OPS.c.case_no, case_nos),
    )
    return [(row[0], row[1], row[2], row[3]) for row in conn.execute(query)]
