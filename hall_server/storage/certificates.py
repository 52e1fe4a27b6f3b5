"""统一出证 rows: registered station keys, the revocation list and the verification log."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, select, update

from hall_server.storage.schema import KEYS, OPS, REVOCATIONS, VERIFICATIONS
from hall_server.storage.sql import insert_rows
from models.seal import Revocation

HALL_TIME = dt.timezone(dt.timedelta(hours=8))
SEALED = frozenset({"valid", "revoked", "expired"})  # outcomes of a QR whose seal verified


# ------------------------------------------------------------------ keys


def key_row(conn: Connection, key_id: str) -> Row[Any] | None:
    """A registered key's row, or None."""
    return conn.execute(select(KEYS).where(KEYS.c.key_id == key_id)).first()


def insert_key(conn: Connection, row: Mapping[str, Any]) -> None:
    """Register a key (the caller checked it is new)."""
    insert_rows(conn, KEYS, [row])


def mark_key_revoked(conn: Connection, key_id: str, at: str, reason: str, by: str) -> None:
    """Record a key's revocation."""
    conn.execute(
        update(KEYS)
        .where(KEYS.c.key_id == key_id)
        .values(revoked_at=at, revoked_reason=reason, revoked_by=by)
    )


def key_rows(conn: Connection) -> Sequence[Row[Any]]:
    """Every registered key, oldest first."""
    return conn.execute(select(KEYS).order_by(KEYS.c.registered_at, KEYS.c.key_id)).all()


def trusted_key_rows(conn: Connection) -> Sequence[Any]:
    """(key_id, station, public_key, revoked_at, revoked_reason) of every registered key."""
    query = select(KEYS.c.key_id, KEYS.c.station, KEYS.c.public_key, KEYS.c.revoked_at, KEYS.c.revoked_reason)
    return conn.execute(query).all()


# ------------------------------------------------------------------ revocations


class RevokedLookup(Mapping[str, Revocation]):
    """The revocation list read one identifier at a time (a verification needs one row)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __getitem__(self, identifier: str) -> Revocation:
        row = self.conn.execute(
            select(REVOCATIONS.c.reason, REVOCATIONS.c.revoked_at, REVOCATIONS.c.revoked_by).where(
                REVOCATIONS.c.identifier == identifier
            )
        ).first()
        if row is None:
            raise KeyError(identifier)
        return Revocation(identifier, row.revoked_at, row.reason, row.revoked_by)

    def __iter__(self) -> Iterator[str]:
        return iter(())  # never listed: verification only looks one identifier up

    def __len__(self) -> int:
        return 0


def revoked_at(conn: Connection, identifier: str) -> str | None:
    """When a certificate was revoked, or None."""
    query = select(REVOCATIONS.c.revoked_at).where(REVOCATIONS.c.identifier == identifier)
    row = conn.execute(query).first()
    return None if row is None else str(row.revoked_at)


def insert_revocation(conn: Connection, row: Mapping[str, Any]) -> None:
    """Put a certificate on the revocation list."""
    insert_rows(conn, REVOCATIONS, [row])


def revocation_rows(conn: Connection) -> Sequence[Row[Any]]:
    """The revocation list, oldest first."""
    return conn.execute(select(REVOCATIONS).order_by(REVOCATIONS.c.received_at)).all()


def seen_issued(conn: Connection, identifier: str, station: str | None) -> bool:
    """Whether ``station`` (any, for ``None``) pushed an ``issue_certificate`` carrying ``identifier``."""
    query = select(OPS.c.op_id).where(
        OPS.c.event == "issue_certificate", OPS.c.payload.contains(f'"{identifier}"')
    )
    if station is not None:
        query = query.where(OPS.c.station == station)
    return conn.execute(query.limit(1)).first() is not None


# ------------------------------------------------------------------ the verification log


def count_verification(conn: Connection, answer: Mapping[str, Any], qr: str, now: dt.datetime) -> None:
    """Add one verification to its log row, or start the row (inside a serialised write).

    The endpoint is public, so the log is bounded: a QR whose seal verified keeps its own row
    per day; any other text is only counted per day and outcome.
    """
    status = answer["status"]
    sealed = status in SEALED
    at = now.isoformat()
    key = {
        "qr_sha256": hashlib.sha256(qr.encode("utf-8", "replace")).hexdigest() if sealed else "",
        "day": now.astimezone(HALL_TIME).date().isoformat(),
        "status": status,
    }
    counted = conn.execute(
        update(VERIFICATIONS)
        .where(*(VERIFICATIONS.c[name] == value for name, value in key.items()))
        .values(times=VERIFICATIONS.c.times + 1, last_at=at)
    )
    if counted.rowcount == 0:
        conn.execute(
            VERIFICATIONS.insert().values(
                **key,
                at=at,
                last_at=at,
                times=1,
                identifier=answer.get("identifier") if sealed else None,
                key_id=answer.get("key_id") if sealed else None,
            )
        )


def verification_rows(conn: Connection) -> list[dict[str, Any]]:
    """The verification log (counted rows), oldest first."""
    rows = conn.execute(select(VERIFICATIONS).order_by(VERIFICATIONS.c.id))
    return [dict(row._mapping) for row in rows]
