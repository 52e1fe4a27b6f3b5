"""Queries and writes of certificates, signing keys, handovers and revocations.

SQL for the 统一出证 tables lives here and nowhere above it; reads map rows to the read models
of :mod:`models.certificates`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from models.certificates import (
    CertificateBody,
    CertificateView,
    HandoverKind,
    HandoverView,
    Identifier,
    KeyView,
    RevocationView,
)
from models.identity import mask_id
from models.seal import PublicKey, Revocation
from offline_cache.store import UnitOfWork

_CERT_COLUMNS = (
    "c.body, c.seal, c.qr, c.origin, c.issued_by, c.printed, c.created_at,"
    " h.kind, h.collector_name, h.collector_id, h.tracking_no, h.handed_over_on, h.handed_over_by, h.at,"
    " r.reason, r.revoked_at, r.revoked_by, r.source"
)
_CERT_FROM = (
    "certificates c LEFT JOIN certificate_handovers h ON h.identifier = c.identifier"
    " LEFT JOIN certificate_revocations r ON r.identifier = c.identifier"
)


# ---------------------------------------------------------------- sequences


def allocate_certificate_sequence(unit: UnitOfWork, station: str) -> int:
    """The station's next certificate sequence number (inside the issuing transaction)."""
    row = unit.execute(
        "INSERT INTO certificate_sequences (station, last) VALUES (?, 1)"
        " ON CONFLICT(station) DO UPDATE SET last = last + 1 RETURNING last",
        (station,),
    ).one()
    return int(row[0])


def raise_certificate_sequence(unit: UnitOfWork, station: str, at_least: int) -> None:
    """Never hand out a sequence the hall has already seen from this station (reinstalls)."""
    unit.execute(
        "INSERT INTO certificate_sequences (station, last) VALUES (?, ?)"
        " ON CONFLICT(station) DO UPDATE SET last = MAX(last, excluded.last)",
        (station, at_least),
    )


# ---------------------------------------------------------------- keys


def upsert_published_key(
    unit: UnitOfWork, key_id: str, station: str, public: str, proof: str, at: str
) -> bool:
    """Record a key the hall published; an own key with the same id is left alone."""
    result = unit.execute(
        "INSERT INTO signing_keys (key_id, station, public_key, proof, origin, created_at)"
        " VALUES (?, ?, ?, ?, 'published', ?) ON CONFLICT(key_id) DO NOTHING",
        (key_id, station, public, proof, at),
    )
    return bool(result.rowcount)


def upsert_partner_issuer(
    unit: UnitOfWork, station: str, issuer_code: str, type_codes: Sequence[str]
) -> None:
    """What a partner hall may issue (its latest publication wins)."""
    unit.execute(
        "INSERT INTO partner_issuers (station, issuer_code, type_codes, recorded_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(station) DO UPDATE SET issuer_code = excluded.issuer_code,"
        " type_codes = excluded.type_codes, recorded_at = excluded.recorded_at",
        (station, issuer_code, json.dumps(sorted(type_codes)), unit.now),
    )


def partner_issuers(conn: Connection) -> list[tuple[str, str, list[str]]]:
    """(hall name, issuer code, type codes) of every partner hall this station knows."""
    return [
        (str(station), str(issuer), [str(t) for t in json.loads(types)])
        for station, issuer, types in conn.exec_driver_sql(
            "SELECT station, issuer_code, type_codes FROM partner_issuers ORDER BY station"
        )
    ]


def revoke_key(unit: UnitOfWork, key_id: str, at: str, reason: str) -> None:
    """Mark a key revoked (nothing it sealed verifies as valid any more)."""
    unit.execute(
        "UPDATE signing_keys SET revoked_at = COALESCE(revoked_at, ?),"
        " revoked_reason = COALESCE(revoked_reason, ?) WHERE key_id = ?",
        (at, reason, key_id),
    )


def list_keys(conn: Connection) -> list[KeyView]:
    """Every key this store knows, own keys first, newest first."""
    rows = conn.exec_driver_sql(
        "SELECT key_id, station, origin, created_at, retired_at, revoked_at, revoked_reason, public_key"
        " FROM signing_keys ORDER BY origin = 'own' DESC, created_at DESC"
    )
    return [
        KeyView(key_id, station, origin, created_at, retired_at, revoked_at, reason, public_key)
        for key_id, station, origin, created_at, retired_at, revoked_at, reason, public_key in rows
    ]


def public_keys(conn: Connection) -> list[PublicKey]:
    """Every verification key (own and published), with revocations."""
    return [
        PublicKey(key_id, station, public, revoked_at, reason)
        for key_id, station, public, revoked_at, reason in conn.exec_driver_sql(
            "SELECT key_id, station, public_key, revoked_at, revoked_reason FROM signing_keys"
        )
    ]


# ---------------------------------------------------------------- certificates


def insert_certificate(
    unit: UnitOfWork, body: CertificateBody, seal: str, qr: str, origin: str, issued_by: str
) -> bool:
    """Store a certificate and link its cases; ``False`` when the identifier is already stored."""
    identifier = Identifier.parse(body.identifier)
    type_code = identifier.type_code if identifier else ""
    result = unit.execute(
        "INSERT INTO certificates (identifier, certificate_type, type_code, type_name, holder_name,"
        " holder_id, holder_id_type, issuer_code, issuer_name, station, issued_on, valid_until, key_id,"
        " body, seal, qr, origin, issued_by, created_at)"
        f" VALUES ({', '.join('?' * 19)}) ON CONFLICT(identifier) DO NOTHING",
        (
            body.identifier, body.certificate_type, type_code, body.type_name, body.holder_name,
            body.holder_id, body.holder_id_type.value, body.issuer_code, body.issuer_name, body.station,
            body.issued_on.isoformat(), body.valid_until.isoformat() if body.valid_until else None,
            body.key_id, body.canonical_bytes().decode("utf-8"), seal, qr, origin, issued_by, unit.now,
        ),
    )  # fmt: skip
    if not result.rowcount:
        return False
    unit.executemany(
        "INSERT OR IGNORE INTO certificate_cases (case_no, identifier) VALUES (?, ?)",
        [(case_no, body.identifier) for case_no in body.case_nos],
    )
    return True


def _view(row: Sequence[Any]) -> CertificateView:
    (
        body, seal, qr, origin, issued_by, printed, created_at,
        h_kind, h_name, h_id, h_tracking, h_on, h_by, h_at,
        r_reason, r_at, r_by, r_source,
    ) = row  # fmt: skip
    handover = None
    if h_kind is not None:
        handover = HandoverView(
            HandoverKind(h_kind), h_name, mask_id(h_id) if h_id else None, h_tracking,
            dt.date.fromisoformat(h_on), h_by, h_at,
        )  # fmt: skip
    revocation = None if r_reason is None else RevocationView(r_reason, r_at, r_by, r_source)
    return CertificateView(
        body=CertificateBody.from_dict(json.loads(body)),
        seal=seal,
        qr=qr,
        origin=origin,
        issued_by=issued_by,
        printed=int(printed),
        created_at=created_at,
        handover=handover,
        revocation=revocation,
    )


def get_certificate(conn: Connection, identifier: str) -> CertificateView | None:
    """One certificate with its handover and revocation, or ``None``."""
    row = conn.exec_driver_sql(
        f"SELECT {_CERT_COLUMNS} FROM {_CERT_FROM} WHERE c.identifier = ?", (identifier,)
    ).first()
    return None if row is None else _view(tuple(row))


def identifiers_of_case(conn: Connection, case_no: str) -> list[str]:
    """The certificates a case resulted in."""
    return [
        str(r[0])
        for r in conn.exec_driver_sql(
            "SELECT identifier FROM certificate_cases WHERE case_no = ? ORDER BY identifier", (case_no,)
        )
    ]


def cases_of(conn: Connection, identifier: str) -> list[str]:
    """The cases a certificate results from."""
    return [
        str(r[0])
        for r in conn.exec_driver_sql(
            "SELECT case_no FROM certificate_cases WHERE identifier = ? ORDER BY case_no", (identifier,)
        )
    ]


def list_certificates(
    conn: Connection,
    station: str | None = None,
    waiting: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> list[CertificateView]:
    """Certificates issued here, newest first; ``waiting``: not yet handed over nor revoked."""
    clauses = ["c.origin = 'local'"]
    params: list[Any] = []
    if station:
        clauses.append("c.station = ?")
        params.append(station)
    if waiting:
        clauses.append("h.identifier IS NULL AND r.identifier IS NULL")
    sql = (
        f"SELECT {_CERT_COLUMNS} FROM {_CERT_FROM} WHERE {' AND '.join(clauses)}"
        " ORDER BY c.created_at DESC, c.identifier DESC LIMIT ? OFFSET ?"
    )
    return [_view(tuple(r)) for r in conn.exec_driver_sql(sql, (*params, limit, offset))]


def mark_printed(unit: UnitOfWork, identifier: str) -> None:
    """Count one more print of a certificate."""
    unit.execute("UPDATE certificates SET printed = printed + 1 WHERE identifier = ?", (identifier,))


# ---------------------------------------------------------------- handovers and revocations


def insert_handover(
    unit: UnitOfWork,
    identifier: str,
    kind: HandoverKind,
    collector_name: str | None,
    collector_id: str | None,
    tracking_no: str | None,
    day: dt.date,
) -> None:
    """Record 领取 / 寄递 (the primary key refuses a second handover)."""
    unit.execute(
        "INSERT INTO certificate_handovers (identifier, kind, collector_name, collector_id, tracking_no,"
        " handed_over_on, handed_over_by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            identifier,
            kind.value,
            collector_name,
            collector_id,
            tracking_no,
            day.isoformat(),
            unit.actor,
            unit.now,
        ),
    )


def insert_revocation(
    unit: UnitOfWork,
    identifier: str,
    reason: str,
    revoked_at: str,
    revoked_by: str,
    source: str,
    approval: dict[str, str] | None = None,
) -> bool:
    """Record a revocation (a local one with its supervisor's signed approval); ``False`` when
    the certificate was already revoked."""
    result = unit.execute(
        "INSERT INTO certificate_revocations (identifier, reason, revoked_at, revoked_by, source, approval)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(identifier) DO NOTHING",
        (
            identifier, reason, revoked_at, revoked_by, source,
            json.dumps(approval, sort_keys=True) if approval else None,
        ),
    )  # fmt: skip
    return bool(result.rowcount)


def revocations(conn: Connection) -> list[Revocation]:
    """Every revoked certificate."""
    return [
        Revocation(identifier, revoked_at, reason, revoked_by)
        for identifier, reason, revoked_at, revoked_by in conn.exec_driver_sql(
            "SELECT identifier, reason, revoked_at, revoked_by FROM certificate_revocations"
        )
    ]


# ---------------------------------------------------------------- counts


def day_counts(conn: Connection, station: str, day: dt.date) -> dict[str, int]:
    """Certificates issued and handed over on ``day`` at ``station``, and all still waiting."""
    iso = day.isoformat()
    issued = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificates WHERE origin = 'local' AND station = ? AND issued_on = ?",
        (station, iso),
    ).scalar_one()
    handed = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificate_handovers h JOIN certificates c ON c.identifier = h.identifier"
        " WHERE c.station = ? AND h.handed_over_on = ?",
        (station, iso),
    ).scalar_one()
    waiting = conn.exec_driver_sql(
        "SELECT COUNT(*) FROM certificates c WHERE c.origin = 'local' AND c.station = ?"
        " AND NOT EXISTS (SELECT 1 FROM certificate_handovers h WHERE h.identifier = c.identifier)"
        " AND NOT EXISTS (SELECT 1 FROM certificate_revocations r WHERE r.identifier = c.identifier)",
        (station,),
    ).scalar_one()
    return {"issued": int(issued), "handed_over": int(handed), "waiting": int(waiting)}


# ---------------------------------------------------------------- pulled changes


def has_pulled_changes_table(conn: Connection) -> bool:
    """Whether the sync engine's raw change table exists in this store."""
    row = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pulled_changes'"
    ).first()
    return row is not None


def unconsumed_changes(conn: Connection, kinds: Iterable[str]) -> list[tuple[int, str, str, str, str]]:
    """(seq, kind, key, payload, at) of pulled changes of ``kinds`` not yet applied, in order."""
    wanted = tuple(kinds)
    marks = ", ".join("?" * len(wanted))
    return [
        (int(seq), str(kind), str(key), str(payload), str(at))
        for seq, kind, key, payload, at in conn.exec_driver_sql(
            f"SELECT seq, kind, key, payload, at FROM pulled_changes WHERE consumed_at IS NULL"
            f" AND kind IN ({marks}) ORDER BY seq",
            wanted,
        )
    ]


def mark_consumed(unit: UnitOfWork, seqs: Sequence[int]) -> None:
    """Mark pulled changes as applied."""
    unit.executemany(
        "UPDATE pulled_changes SET consumed_at = ? WHERE seq = ?", [(unit.now, seq) for seq in seqs]
    )


def trust_fingerprint(conn: Connection) -> tuple[int, ...]:
    """Changes whenever a key is added, retired or revoked, a certificate revoked, or what a
    partner hall may issue changed."""
    row = conn.exec_driver_sql(
        "SELECT (SELECT COUNT(*) FROM certificate_revocations), (SELECT COUNT(*) FROM signing_keys),"
        " (SELECT COUNT(*) FROM signing_keys WHERE revoked_at IS NOT NULL),"
        " (SELECT COUNT(*) || COALESCE(MAX(recorded_at), '') FROM partner_issuers)"
    ).one()
    # The last value (partner issuers: their number and latest change) is text: hashed.
    return tuple(hash(v) if isinstance(v, str) else int(v) for v in row)
