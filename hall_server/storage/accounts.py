"""Staff accounts, stations, bearer tokens and the supervisors' approval keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall_server.storage.schema import APPROVAL_KEYS, STAFF, STATIONS, TOKENS, StaffRow, StationRow, TokenRow
from hall_server.storage.sql import iso


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
