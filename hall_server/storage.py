"""Every SQL statement of the hall server, in bulk: one query per kind of row per batch.

Functions take an open :class:`~sqlalchemy.Connection` so that a push applies its whole batch in
one transaction (see :func:`hall_server.db.write_transaction`); :class:`Storage` wraps an engine
for callers that need a single statement in its own transaction.

Sequence numbers are assigned here from ``MAX(...) + 1`` inside the serialised write transaction,
so they are dense and follow the commit order on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from pydantic_core import to_json
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall_server.db import read_transaction, write_transaction
from hall_server.schema import (
    CaseRow,
    ChangeRow,
    DocumentRow,
    OperationRow,
    StaffApprovalKeyRow,
    StaffRow,
    StandingRow,
    StationRow,
    TokenRow,
)
from models.sync import ChangeKind

OPS: Table = OperationRow.__table__  # type: ignore[attr-defined]
CASES: Table = CaseRow.__table__  # type: ignore[attr-defined]
CHANGES: Table = ChangeRow.__table__  # type: ignore[attr-defined]
STANDINGS: Table = StandingRow.__table__  # type: ignore[attr-defined]
STAFF: Table = StaffRow.__table__  # type: ignore[attr-defined]
STATIONS: Table = StationRow.__table__  # type: ignore[attr-defined]
TOKENS: Table = TokenRow.__table__  # type: ignore[attr-defined]
DOCUMENTS: Table = DocumentRow.__table__  # type: ignore[attr-defined]
APPROVAL_KEYS: Table = StaffApprovalKeyRow.__table__  # type: ignore[attr-defined]

ALL_STATIONS = "*"


def iso(moment: dt.datetime) -> str:
    """The stored form of a server timestamp (UTC, ISO 8601, microseconds)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def dumps(value: Any) -> str:
    """Compact JSON for stored payloads (Chinese kept readable)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# For the change feed: NaN or Infinity would make a document no client can parse, so refuse them.
_strict_dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False
).encode
# A string as a JSON string literal (the C encoder json itself uses; ensure_ascii off).
json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def is_in(conn: Connection, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values`` with ONE bound parameter, whatever the number of values.

    A plain ``IN (?, ?, …)`` of a thousand values costs more to render and parse than the
    lookups themselves; SQLite reads a JSON array instead (``json_each``), PostgreSQL an array
    (``= ANY``).
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    members: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values))))
    )
    return column.in_(members)


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


class NewChange(NamedTuple):
    """A change to append to the feed (a named tuple: cheap to make by the thousand)."""

    kind: ChangeKind
    key: str
    payload: Mapping[str, Any]
    audience: str = ALL_STATIONS


# ------------------------------------------------------------------ sequences


def next_seq(conn: Connection, table: Table, column: str) -> int:
    """The next free sequence number of ``table.column`` (call inside a write transaction)."""
    value = conn.execute(select(func.max(table.c[column]))).scalar()
    return int(value or 0) + 1


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


def folded_operations(conn: Connection, case_nos: Sequence[str]) -> list[OpRecord]:
    """Every kept (not refused) operation of those cases, accept operations excluded."""
    rows: list[OpRecord] = []
    query = select(*_OP_COLUMNS).where(OPS.c.fold != "refused", OPS.c.kind != "case.accept")
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


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """One bulk INSERT of ``rows`` (executemany; a no-op for no rows)."""
    if rows:
        conn.execute(insert(table), list(rows))


def update_folds(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set ``fold``, ``winner_op_id`` and ``winner_event`` of stored operations by ``op_id``."""
    if rows:
        statement = (
            update(OPS)
            .where(OPS.c.op_id == bindparam("b_op_id"))
            .values(
                fold=bindparam("b_fold"),
                winner_op_id=bindparam("b_winner_op_id"),
                winner_event=bindparam("b_winner_event"),
            )
        )
        conn.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def update_cases(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set ``state``, ``version`` and ``updated_at`` of stored cases by ``case_no``."""
    if rows:
        statement = (
            update(CASES)
            .where(CASES.c.case_no == bindparam("b_case_no"))
            .values(
                state=bindparam("b_state"),
                version=bindparam("b_version"),
                updated_at=bindparam("b_updated_at"),
            )
        )
        conn.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


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


# ------------------------------------------------------------------ change feed


_CHANGE_KINDS = {kind: kind.value for kind in ChangeKind}  # plain strings for the rows
_SCALARS = frozenset({str, int, bool, type(None)})


def _payload_json(payload: Mapping[str, Any]) -> str:
    """A change's payload as JSON.

    Most changes (a case's new state, a standing) hold only strings, integers, booleans and
    nulls: pydantic-core writes those in one call. Anything else goes through the strict encoder,
    which refuses NaN and infinities (no client could parse them).
    """
    if type(payload) is dict and all(type(value) in _SCALARS for value in payload.values()):
        return to_json(payload).decode()
    return _strict_dumps(dict(payload))


def append_changes(conn: Connection, changes: Sequence[NewChange], at: dt.datetime) -> list[int]:
    """Append ``changes`` to the feed in order (inside a write transaction); returns their seqs."""
    if not changes:
        return []
    first = next_seq(conn, CHANGES, "seq")
    stamp = iso(at)
    rows: list[dict[str, Any]] = []
    for seq, change in enumerate(changes, start=first):
        payload = _payload_json(change.payload)
        kind, key = _CHANGE_KINDS[change.kind], json_string(change.key)
        rows.append(
            {
                "seq": seq,
                "kind": kind,
                "key": change.key,
                "payload": payload,
                "audience": change.audience,
                "at": stamp,
                "document": f'{{"seq":{seq},"kind":"{kind}","key":{key},"payload":{payload},"at":"{stamp}"}}',
            }
        )
    insert_rows(conn, CHANGES, rows)
    return list(range(first, first + len(rows)))


def _cursor(after: int) -> ColumnElement[int]:
    # A 64-bit parameter: PostgreSQL's feed column is 32-bit, and a cursor beyond its range must
    # find no changes rather than fail to convert.
    return bindparam("after", after, type_=BigInteger())


def changes_after(
    conn: Connection, station: str, after: int, limit: int
) -> list[tuple[int, str, str, str, str]]:
    """(seq, kind, key, payload JSON, at) of the changes for ``station`` after ``after``, oldest first."""
    query = (
        select(CHANGES.c.seq, CHANGES.c.kind, CHANGES.c.key, CHANGES.c.payload, CHANGES.c.at)
        .where(CHANGES.c.seq > _cursor(after), CHANGES.c.audience.in_([station, ALL_STATIONS]))
        .order_by(CHANGES.c.seq)
        .limit(limit)
    )
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in conn.execute(query)]


def change_documents_after(conn: Connection, station: str, after: int, limit: int) -> list[tuple[int, str]]:
    """(seq, the change as JSON) for ``station`` after ``after``, oldest first (see :func:`changes_after`)."""
    query = (
        select(CHANGES.c.seq, CHANGES.c.document)
        .where(CHANGES.c.seq > _cursor(after), CHANGES.c.audience.in_([station, ALL_STATIONS]))
        .order_by(CHANGES.c.seq)
        .limit(limit)
    )
    rows = conn.execute(query)
    return [(int(seq), document) for seq, document in rows]


# ------------------------------------------------------------------ staff, stations, tokens


def get_staff(conn: Connection, staff_no: str) -> StaffRow | None:
    """A staff account by number."""
    row = conn.execute(select(STAFF).where(STAFF.c.staff_no == staff_no)).mappings().first()
    return StaffRow.model_validate(dict(row)) if row else None


def station_exists(conn: Connection, code: str) -> bool:
    """Whether ``code`` is a known station."""
    return conn.execute(select(STATIONS.c.code).where(STATIONS.c.code == code)).first() is not None


def list_stations(conn: Connection) -> list[StationRow]:
    """Every station, by code."""
    rows = conn.execute(select(STATIONS).order_by(STATIONS.c.code)).mappings()
    return [StationRow.model_validate(dict(row)) for row in rows]


def upsert_station(conn: Connection, code: str, name: str, kind: str) -> None:
    """Create or rename a station."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(STATIONS).values(code=code, name=name, kind=kind)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["code"], set_={"name": statement.excluded.name, "kind": statement.excluded.kind}
        )
    )


def upsert_staff(conn: Connection, row: StaffRow) -> None:
    """Create or replace a staff account."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = row.model_dump()
    statement = dialect_insert(STAFF).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["staff_no"],
            set_={key: statement.excluded[key] for key in values if key != "staff_no"},
        )
    )


def has_approval_key_for(conn: Connection, staff_no: str, password_hash: str) -> bool:
    """Whether the approval key of this account's current password is recorded."""
    query = select(APPROVAL_KEYS.c.key_id).where(
        APPROVAL_KEYS.c.staff_no == staff_no, APPROVAL_KEYS.c.password_hash == password_hash
    )
    return conn.execute(query.limit(1)).first() is not None


def record_approval_key(
    conn: Connection, staff_no: str, key_id: str, public_hex: str, password_hash: str, now: dt.datetime
) -> None:
    """Keep a staff member's approval public key (once; keys are never deleted)."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(APPROVAL_KEYS).values(
        key_id=key_id,
        staff_no=staff_no,
        public_key=public_hex,
        password_hash=password_hash,
        recorded_at=iso(now),
    )
    conn.execute(statement.on_conflict_do_nothing(index_elements=["key_id"]))


def approval_keys_of(conn: Connection, staff_no: str) -> list[str]:
    """Every approval public key (hex) recorded for ``staff_no``, oldest first."""
    query = select(APPROVAL_KEYS.c.public_key).where(APPROVAL_KEYS.c.staff_no == staff_no)
    return [row.public_key for row in conn.execute(query.order_by(APPROVAL_KEYS.c.recorded_at))]


def insert_token(conn: Connection, row: TokenRow) -> None:
    """Record an issued token (by its hash)."""
    conn.execute(insert(TOKENS).values(**row.model_dump()))


def find_token(conn: Connection, token_hash: str) -> TokenRow | None:
    """A token by its hash."""
    row = conn.execute(select(TOKENS).where(TOKENS.c.token_hash == token_hash)).mappings().first()
    return TokenRow.model_validate(dict(row)) if row else None


def delete_expired_tokens(conn: Connection, now: dt.datetime) -> int:
    """Forget tokens that expired before ``now``; returns how many."""
    result = conn.execute(delete(TOKENS).where(TOKENS.c.expires_at < iso(now)))
    return int(result.rowcount or 0)


# ------------------------------------------------------------------ documents


def latest_document(conn: Connection, kind: str, key: str) -> DocumentRow | None:
    """The newest published version of a document, or None."""
    query = (
        select(DOCUMENTS)
        .where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key)
        .order_by(DOCUMENTS.c.version.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return DocumentRow.model_validate(dict(row)) if row else None


def latest_documents(conn: Connection, kind: str) -> list[str]:
    """The content of every key's newest published version of ``kind``, by key."""
    query = select(DOCUMENTS.c.key, DOCUMENTS.c.content).where(DOCUMENTS.c.kind == kind)
    newest: dict[str, str] = {}
    for key, content in conn.execute(query.order_by(DOCUMENTS.c.key, DOCUMENTS.c.version)):
        newest[key] = content
    return list(newest.values())


def insert_document(conn: Connection, kind: str, key: str, content: str, at: dt.datetime) -> int:
    """Publish a new version of a document; returns the version number."""
    query = select(func.max(DOCUMENTS.c.version)).where(DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key)
    version = int(conn.execute(query).scalar() or 0) + 1
    conn.execute(
        insert(DOCUMENTS).values(kind=kind, key=key, version=version, content=content, published_at=iso(at))
    )
    return version


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


class Storage:
    """The engine plus single-statement conveniences for callers outside a push."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append_change(
        self,
        kind: ChangeKind,
        key: str,
        payload: Mapping[str, Any],
        audience: str = ALL_STATIONS,
        at: dt.datetime | None = None,
    ) -> int:
        """Append one change to the feed in its own transaction; returns its seq.

        ``audience`` is a station code, or ``*`` for every station. Routers of other areas (keys,
        certificates) reuse this, or :func:`append_changes` inside their own transaction.
        """
        with write_transaction(self.engine) as conn:
            return append_changes(
                conn, [NewChange(kind, key, payload, audience)], at or dt.datetime.now(dt.UTC)
            )[0]

    def reading(self) -> AbstractContextManager[Connection]:
        """A read transaction (context manager yielding a connection)."""
        return read_transaction(self.engine)

    def writing(self) -> AbstractContextManager[Connection]:
        """A serialised write transaction (context manager yielding a connection)."""
        return write_transaction(self.engine)


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
