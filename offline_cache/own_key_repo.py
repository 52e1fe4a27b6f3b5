"""This station's own signing keys, and what the station still has to send the hall.

Own keys keep their private half and, once a supervisor approved them, the signed approval the
hall needs to register them (``approval``, JSON). Local revocations keep theirs the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from offline_cache.store import UnitOfWork

# ---------------------------------------------------------------- own keys


def active_own_key(conn: Connection, station: str) -> tuple[str, str, str, bool] | None:
    """(key_id, private, public, approved) of the station's key that signs now, if any.

    ``approved``: it carries a supervisor's approval, or the hall has registered it already.
    """
    row = conn.exec_driver_sql(
        "SELECT key_id, private_key, public_key, approval IS NOT NULL OR published_at IS NOT NULL"
        " FROM signing_keys WHERE station = ? AND origin = 'own' AND retired_at IS NULL"
        " AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1",
        (station,),
    ).first()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]), bool(row[3]))


def _key_record(row: Sequence[Any]) -> dict[str, Any]:
    record: dict[str, Any] = dict(
        zip(("key_id", "station", "public_key", "proof", "created_at"), map(str, row[:5]), strict=True)
    )
    if row[5]:
        record["approval"] = json.loads(row[5])
    return record


_KEY_RECORD = "SELECT key_id, station, public_key, proof, created_at, approval FROM signing_keys"


def own_key_record(conn: Connection, key_id: str) -> dict[str, Any] | None:
    """The publishable record of an own key (what the hall registers, with its approval)."""
    row = conn.exec_driver_sql(f"{_KEY_RECORD} WHERE key_id = ? AND origin = 'own'", (key_id,)).first()
    return None if row is None else _key_record(tuple(row))


def insert_own_key(
    unit: UnitOfWork, key_id: str, station: str, private: str, public: str, proof: str
) -> None:
    """Store a new key pair of this station (``private``: its sealed private half; not approved
    yet: see :func:`set_key_approval`)."""
    unit.execute(
        "INSERT INTO signing_keys (key_id, station, public_key, private_key, proof, origin, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'own', ?)",
        (key_id, station, public, private, proof, unit.now),
    )


def unapproved_own_keys(conn: Connection, station: str) -> list[str]:
    """Own keys of ``station`` that neither carry an approval nor are registered at the hall."""
    rows = conn.exec_driver_sql(
        "SELECT key_id FROM signing_keys WHERE station = ? AND origin = 'own' AND approval IS NULL"
        " AND published_at IS NULL AND revoked_at IS NULL ORDER BY created_at",
        (station,),
    )
    return [str(r[0]) for r in rows]


def set_key_approval(unit: UnitOfWork, key_id: str, approval: dict[str, str]) -> None:
    """Keep a supervisor's signed approval with an own key (sent when the key is published)."""
    unit.execute(
        "UPDATE signing_keys SET approval = ? WHERE key_id = ? AND origin = 'own'",
        (json.dumps(approval, sort_keys=True), key_id),
    )


def any_sealed_own_key(conn: Connection, prefix: str) -> tuple[str, str, str, str] | None:
    """(key_id, station, public, stored private) of one own key sealed with ``prefix``."""
    row = conn.exec_driver_sql(
        "SELECT key_id, station, public_key, private_key FROM signing_keys WHERE origin = 'own'"
        " AND substr(private_key, 1, ?) = ? ORDER BY created_at DESC LIMIT 1",
        (len(prefix), prefix),
    ).first()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]))


def plaintext_own_keys(conn: Connection, sealed_prefix: str) -> list[tuple[str, str, str, str]]:
    """(key_id, station, public, private hex) of own keys still stored in the clear."""
    rows = conn.exec_driver_sql(
        "SELECT key_id, station, public_key, private_key FROM signing_keys WHERE origin = 'own'"
        " AND private_key IS NOT NULL AND substr(private_key, 1, ?) <> ? ORDER BY created_at",
        (len(sealed_prefix), sealed_prefix),
    )
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def replace_private_key(unit: UnitOfWork, key_id: str, stored: str) -> None:
    """Store an own key's private half in another form (sealed)."""
    unit.execute("UPDATE signing_keys SET private_key = ? WHERE key_id = ?", (stored, key_id))


def retire_own_keys(unit: UnitOfWork, station: str) -> list[str]:
    """Retire the station's signing keys (they keep verifying); returns their ids."""
    rows = unit.execute(
        "UPDATE signing_keys SET retired_at = ? WHERE station = ? AND origin = 'own'"
        " AND retired_at IS NULL RETURNING key_id",
        (unit.now, station),
    ).all()
    return [str(r[0]) for r in rows]


# ---------------------------------------------------------------- publication to the hall


def unpublished_keys(conn: Connection) -> list[dict[str, Any]]:
    """This station's own keys the hall has not registered yet, with their approvals (what
    ``cert publish`` sends). A key no supervisor approved yet (made to seal audit heads before
    the first issue) waits: the hall would refuse it."""
    rows = conn.exec_driver_sql(
        f"{_KEY_RECORD} WHERE origin = 'own' AND published_at IS NULL AND approval IS NOT NULL"
        " ORDER BY created_at"
    )
    return [_key_record(tuple(r)) for r in rows]


def unpublished_revocations(conn: Connection) -> list[dict[str, Any]]:
    """Revocations made here that the hall has not received yet, with their approvals."""
    rows = conn.exec_driver_sql(
        "SELECT identifier, reason, revoked_at, revoked_by, approval FROM certificate_revocations"
        " WHERE source = 'local' AND published_at IS NULL ORDER BY revoked_at"
    )
    found: list[dict[str, Any]] = []
    for identifier, reason, revoked_at, revoked_by, approval in rows:
        item: dict[str, Any] = {
            "identifier": identifier, "reason": reason, "revoked_at": revoked_at, "revoked_by": revoked_by,
        }  # fmt: skip
        if approval:
            item["approval"] = json.loads(approval)
        found.append(item)
    return found


def mark_key_published(unit: UnitOfWork, key_id: str) -> None:
    """The hall has registered this key."""
    unit.execute("UPDATE signing_keys SET published_at = ? WHERE key_id = ?", (unit.now, key_id))


def mark_revocation_published(unit: UnitOfWork, identifier: str) -> None:
    """The hall has this revocation."""
    unit.execute(
        "UPDATE certificate_revocations SET published_at = ? WHERE identifier = ?", (unit.now, identifier)
    )
