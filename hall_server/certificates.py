"""统一出证 on the hall server: station signing keys, the revocation list, and verification.

- ``POST /certificates/keys`` — a station registers the public half of its SM2 key (the key's
  id must be derived from it and its proof of possession must verify), approved by a supervisor
  of that station or an admin: their token, or their signed approval (``approval``, act
  ``key.register``, subject the key id). A clerk's token alone is refused (``cert.key_unapproved``):
  the counter asks a supervisor when it creates the key and keeps the approval with it, so the
  clerk's next sync sends it. The key is published to every station (``key.published``).
- ``GET /certificates/keys`` — every registered key, revoked ones marked (public).
- ``POST /certificates/keys/{key_id}/revoke`` — a supervisor of the key's station or an admin (or
  their signed approval, act ``key.revoke``) revokes a key (``key.revoked``): nothing it sealed
  verifies as valid any more.
- ``POST /certificates/revocations`` — a supervisor of the issuing station (the serial's station)
  or an admin revokes a certificate (``certificate.revoked``), by token or by a signed approval
  (act ``cert.revoke``, subject the identifier) made offline and pushed by anyone's sync. The
  revoker is the one the proof names, never the body's ``revoked_by`` (ignored). A station may
  revoke only what the hall has seen issued (a pushed ``issue_certificate`` operation); only the
  back office may revoke in advance.
- ``GET /certificates/revocations`` — the revocation list (public).
- ``GET /certificates/verify?qr=...`` — the same answer ``window-client verify`` gives offline:
  valid / altered / unknown_key / revoked / expired / malformed, from
  :func:`models.seal.verify_qr` — one rule for both sides, with what each station may issue taken
  from the catalogue in force (:mod:`hall_server.certificate_trust`).

Revocation reaches every client on its next pull. Keys are never deleted, so certificates sealed
before a rotation keep verifying.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, Index, Table, inspect, select, text, update
from sqlmodel import Field as SQLField
from starlette.concurrency import run_in_threadpool

from hall_server import storage
from hall_server.auth import Principal
from hall_server.certificate_trust import Proof, StationRights, prove, record_proof
from hall_server.db import read_transaction, write_transaction
from hall_server.errors import ApiError, error_responses
from hall_server.reference import SHIPPED_CATALOG, load_catalog
from hall_server.routers.deps import HallDep, PrincipalDep
from hall_server.schema import HallModel
from hall_server.storage import OPS, NewChange
from models.approval import ApprovalAct
from models.certificates import Identifier, Verification
from models.seal import PublicKey, Revocation, TrustStore, check_published_key, verify_qr
from models.sync import ChangeKind

REASON_LIMIT = 200
MAX_QR_CHARS = 4000


# ------------------------------------------------------------------ tables (schema version 2)


class CertificateKeyRow(HallModel, table=True):
    """A station's registered public signing key."""

    __tablename__ = "certificate_keys"

    key_id: str = SQLField(primary_key=True, max_length=64)
    station: str = SQLField(index=True, max_length=32)
    public_key: str
    proof: str
    created_at: str  # the station's clock, verbatim
    registered_at: str
    registered_by: str
    revoked_at: str | None = None
    revoked_reason: str | None = None
    revoked_by: str | None = None


class CertificateRevocationRow(HallModel, table=True):
    """A revoked certificate (the revocation list)."""

    __tablename__ = "certificate_revocations"

    identifier: str = SQLField(primary_key=True, max_length=128)
    reason: str
    revoked_at: str
    revoked_by: str
    station: str  # where the revocation was made (or "back-office")
    received_at: str


class VerificationLogRow(HallModel, table=True):
    """Online verifications answered by the hall, counted (schema versions 3 and 10): audited
    like every verification on a station, without the holder's data.

    The endpoint is public, so the log is bounded: a QR text whose seal verified (valid, revoked,
    expired; as many as certificates were issued) keeps its own row per day with its
    certificate, key and the text's SHA-256; any other text (made up by the sender, in any
    number) is only counted per day and outcome (``identifier``/``key_id`` empty, ``qr_sha256``
    ``""``). ``at`` is the first verification of the row, ``last_at`` the latest, ``times`` how
    many. (Rows written before version 9 are one verification each.)
    """

    __tablename__ = "certificate_verifications"
    __table_args__ = (Index("ix_certificate_verifications_key", "qr_sha256", "day", "status"),)

    id: int | None = SQLField(default=None, primary_key=True)
    at: str
    status: str
    identifier: str | None = SQLField(default=None, max_length=128)
    key_id: str | None = SQLField(default=None, max_length=64)
    qr_sha256: str = SQLField(max_length=64)
    day: str = SQLField(default="", max_length=10)
    times: int = 1
    last_at: str | None = None


KEYS: Table = CertificateKeyRow.__table__  # type: ignore[attr-defined]
REVOCATIONS: Table = CertificateRevocationRow.__table__  # type: ignore[attr-defined]
TABLES_V2 = [KEYS, REVOCATIONS]
VERIFICATIONS: Table = VerificationLogRow.__table__  # type: ignore[attr-defined]
TABLES_V3 = [VERIFICATIONS]


# ------------------------------------------------------------------ request / answer models


class KeyRegistration(BaseModel):
    """A station's public key, as ``window-client`` publishes it."""

    key_id: str = Field(min_length=3, max_length=64)
    station: str = Field(min_length=1, max_length=32)
    public_key: str = Field(min_length=128, max_length=128)
    proof: str = Field(min_length=128, max_length=128)
    created_at: str = Field(default="", max_length=64)
    approval: dict[str, Any] | None = None  # a supervisor's signed approval (models.approval)


class KeyAnswer(BaseModel):
    """The outcome of a registration or revocation: ``registered``, ``known`` or ``revoked``."""

    key_id: str
    status: str


class PublishedKey(BaseModel):
    """A registered key as the hall publishes it."""

    key_id: str
    station: str
    public_key: str
    proof: str
    created_at: str
    revoked_at: str | None = None
    revoked_reason: str | None = None


class KeyList(BaseModel):
    """Every registered key."""

    keys: list[PublishedKey]


class RevocationRequest(BaseModel):
    """Revoke a certificate (or, for a key, ``reason`` and ``approval`` are read).

    ``revoked_by`` and ``revoked_at`` are accepted from older stations and ignored: who revoked
    and when come from the proof (the caller's token, or the signed ``approval``).
    """

    identifier: str = Field(default="", max_length=128)
    reason: str = Field(min_length=1, max_length=REASON_LIMIT)
    revoked_at: str | None = Field(default=None, max_length=64)
    revoked_by: str | None = Field(default=None, max_length=32)
    approval: dict[str, Any] | None = None  # a supervisor's signed approval (models.approval)


class RevocationAnswer(BaseModel):
    """The outcome of a revocation: ``revoked`` now, or ``known`` (revoked before)."""

    identifier: str
    status: str
    revoked_at: str


class RevocationEntry(BaseModel):
    """One entry of the revocation list."""

    identifier: str
    reason: str
    revoked_at: str
    revoked_by: str


class RevocationList(BaseModel):
    """The revocation list."""

    revocations: list[RevocationEntry]


# ------------------------------------------------------------------ the service


class _RevokedLookup(Mapping[str, Revocation]):
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


def _seen_issued(conn: Connection, identifier: str, station: str | None) -> bool:
    """Whether ``station`` (any, for ``None``) pushed an ``issue_certificate`` carrying ``identifier``."""
    query = select(OPS.c.op_id).where(
        OPS.c.event == "issue_certificate", OPS.c.payload.contains(f'"{identifier}"')
    )
    if station is not None:
        query = query.where(OPS.c.station == station)
    return conn.execute(query.limit(1)).first() is not None


def _clean_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text or any(ord(ch) < 32 for ch in reason if ch not in "\t\n\r"):
        raise ApiError(422, "request.invalid", detail="reason: empty or control characters")
    return text


class CertificateAuthority:
    """Keys, revocations and verification on one hall database (used by the API and the CLI)."""

    def __init__(self, engine: Engine, clock: Any = None, catalog: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._trusted: dict[str, PublicKey] = {}  # key objects cached by (id, revoked_at)
        # The catalogue file the server started with (before any is published), else the shipped one.
        self.rights = StationRights(lambda: catalog or load_catalog(SHIPPED_CATALOG))

    # ------------------------------------------------------------ keys

    def register_key(self, principal: Principal, key: KeyRegistration) -> KeyAnswer:
        """Register and publish a station's key; ``known`` when it already is."""
        if not principal.back_office and key.station != principal.station:
            raise ApiError(
                403,
                "auth.forbidden",
                why=f"令牌属于站点{principal.station}，不能登记站点{key.station}的密钥",
                why_en=f"the token is for station {principal.station}, not {key.station}",
            )
        public = check_published_key(key.key_id, key.station, key.public_key, key.proof)
        if public is None:
            raise ApiError(422, "cert.key_invalid", key_id=key.key_id)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            proof = prove(conn, principal, ApprovalAct.REGISTER_KEY, key.key_id, key.station, key.approval)
            if proof is None:
                raise ApiError(403, "cert.key_unapproved")
            known = conn.execute(select(KEYS.c.key_id).where(KEYS.c.key_id == key.key_id)).first()
            if known is not None:
                return KeyAnswer(key_id=key.key_id, status="known")
            storage.insert_rows(
                conn,
                KEYS,
                [
                    {
                        "key_id": key.key_id,
                        "station": key.station,
                        "public_key": key.public_key,
                        "proof": key.proof,
                        "created_at": key.created_at,
                        "registered_at": storage.iso(now),
                        "registered_by": principal.staff_no,
                        "revoked_at": None,
                        "revoked_reason": None,
                        "revoked_by": None,
                    }
                ],
            )
            record_proof(conn, ApprovalAct.REGISTER_KEY, key.key_id, key.station, proof, principal, now)
            payload = {**key.model_dump(exclude={"approval"}), "approved_by": proof.by}
            storage.append_changes(conn, [NewChange(ChangeKind.KEY_PUBLISHED, key.key_id, payload)], now)
        return KeyAnswer(key_id=key.key_id, status="registered")

    def revoke_key(
        self, principal: Principal, key_id: str, reason: str, approval: object = None
    ) -> KeyAnswer:
        """Revoke a key (supervisor of its station, an admin, the back office, or their approval)."""
        text = _clean_reason(reason)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(KEYS).where(KEYS.c.key_id == key_id)).first()
            if row is None:
                raise ApiError(404, "cert.key_unknown", key_id=key_id[:64])
            proof = self._proof(conn, principal, ApprovalAct.REVOKE_KEY, key_id, row.station, approval)
            if row.revoked_at is not None:
                return KeyAnswer(key_id=key_id, status="known")
            at = storage.iso(now)
            conn.execute(
                update(KEYS)
                .where(KEYS.c.key_id == key_id)
                .values(revoked_at=at, revoked_reason=text, revoked_by=proof.by)
            )
            record_proof(conn, ApprovalAct.REVOKE_KEY, key_id, row.station, proof, principal, now)
            payload = {"key_id": key_id, "station": row.station, "revoked_at": at, "reason": text}
            storage.append_changes(conn, [NewChange(ChangeKind.KEY_REVOKED, key_id, payload)], now)
        return KeyAnswer(key_id=key_id, status="revoked")

    def keys(self) -> list[PublishedKey]:
        """Every registered key, oldest first."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(KEYS).order_by(KEYS.c.registered_at, KEYS.c.key_id)).all()
        return [
            PublishedKey(
                key_id=r.key_id,
                station=r.station,
                public_key=r.public_key,
                proof=r.proof,
                created_at=r.created_at,
                revoked_at=r.revoked_at,
                revoked_reason=r.revoked_reason,
            )
            for r in rows
        ]

    # ------------------------------------------------------------ revocations

    @staticmethod
    def _proof(
        conn: Connection, principal: Principal, act: str, subject: str, station: str, approval: object
    ) -> Proof:
        proof = prove(conn, principal, act, subject, station, approval)
        if proof is None:
            where = station or "?"
            raise ApiError(
                403,
                "auth.forbidden",
                why=f"须由站点{where}的值班长或管理员批准（或附其签名批准）",
                why_en=f"it needs a supervisor of station {where} or an admin (or their signed approval)",
            )
        return proof

    def revoke_certificate(self, principal: Principal, request: RevocationRequest) -> RevocationAnswer:
        """Put a certificate on the revocation list and publish it (``certificate.revoked``)."""
        identifier = request.identifier.strip()
        parsed = Identifier.parse(identifier)
        if parsed is None:
            raise ApiError(422, "cert.identifier_invalid", identifier=identifier[:128])
        own = parsed.station_sequence
        station = own[0] if own is not None else ""  # issued elsewhere: an admin's or the back office's
        text = _clean_reason(request.reason)
        now = self.clock()
        with write_transaction(self.engine) as conn:
            act = ApprovalAct.REVOKE_CERTIFICATE
            proof = self._proof(conn, principal, act, identifier, station, request.approval)
            known = conn.execute(
                select(REVOCATIONS.c.revoked_at).where(REVOCATIONS.c.identifier == identifier)
            ).first()
            if known is not None:
                return RevocationAnswer(identifier=identifier, status="known", revoked_at=known.revoked_at)
            if not principal.back_office and not _seen_issued(conn, identifier, station):
                raise ApiError(409, "cert.not_issued_yet", identifier=identifier)
            at = proof.signed_at or storage.iso(now)
            row = {
                "identifier": identifier,
                "reason": text,
                "revoked_at": at,
                "revoked_by": proof.by,
                "station": principal.station,
                "received_at": storage.iso(now),
            }
            storage.insert_rows(conn, REVOCATIONS, [row])
            record_proof(conn, act, identifier, station, proof, principal, now)
            payload = {"identifier": identifier, "reason": text, "revoked_at": at, "revoked_by": proof.by}
            storage.append_changes(
                conn, [NewChange(ChangeKind.CERTIFICATE_REVOKED, identifier, payload)], now
            )
        return RevocationAnswer(identifier=identifier, status="revoked", revoked_at=at)

    def revocations(self) -> list[RevocationEntry]:
        """The revocation list, oldest first."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(REVOCATIONS).order_by(REVOCATIONS.c.received_at)).all()
        return [
            RevocationEntry(
                identifier=r.identifier, reason=r.reason, revoked_at=r.revoked_at, revoked_by=r.revoked_by
            )
            for r in rows
        ]

    def seen_in_operations(self, identifier: str) -> bool:
        """Whether a pushed ``issue_certificate`` operation carried this identifier."""
        with read_transaction(self.engine) as conn:
            return _seen_issued(conn, identifier, None)

    # ------------------------------------------------------------ verification

    def _trust(self, conn: Connection) -> TrustStore:
        keys: dict[str, PublicKey] = {}
        for r in conn.execute(
            select(KEYS.c.key_id, KEYS.c.station, KEYS.c.public_key, KEYS.c.revoked_at, KEYS.c.revoked_reason)
        ):
            cached = self._trusted.get(r.key_id)
            if cached is None or cached.revoked_at != r.revoked_at:
                cached = PublicKey(r.key_id, r.station, r.public_key, r.revoked_at, r.revoked_reason)
                self._trusted[r.key_id] = cached
            keys[r.key_id] = cached
        return TrustStore(keys, _RevokedLookup(conn), {}, self.rights.of(conn))

    def verify(self, qr: str, today: dt.date | None = None) -> Verification:
        """The same verdict as the client's offline ``verify`` (counted in the log)."""
        now = self.clock()
        day = today or now.astimezone(HALL_TIME).date()
        with read_transaction(self.engine) as conn:
            verdict = verify_qr(qr[: MAX_QR_CHARS + 1], self._trust(conn), day)
        with write_transaction(self.engine) as conn:
            _count_verification(conn, verdict.to_dict(), qr, now)
        return verdict

    def verifications(self) -> list[dict[str, Any]]:
        """The hall's verification log (counted rows, see :class:`VerificationLogRow`), oldest first."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(VERIFICATIONS).order_by(VERIFICATIONS.c.id))
            return [dict(row._mapping) for row in rows]


HALL_TIME = dt.timezone(dt.timedelta(hours=8))
SEALED = frozenset({"valid", "revoked", "expired"})  # outcomes of a QR whose seal verified


def _count_verification(conn: Connection, answer: Mapping[str, Any], qr: str, now: dt.datetime) -> None:
    """Add one verification to its log row, or start the row (inside a serialised write)."""
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


def count_verifications(conn: Connection) -> None:
    """Migration 10: the verification log gets its day and counters (see :class:`VerificationLogRow`)."""
    found = {column["name"] for column in inspect(conn).get_columns("certificate_verifications")}
    if "times" not in found:
        for ddl in (
            "ADD COLUMN day VARCHAR(10) NOT NULL DEFAULT ''",
            "ADD COLUMN times INTEGER NOT NULL DEFAULT 1",
            "ADD COLUMN last_at VARCHAR",
        ):
            conn.execute(text(f"ALTER TABLE certificate_verifications {ddl}"))
        conn.execute(text("UPDATE certificate_verifications SET day = substr(at, 1, 10), last_at = at"))
    for index in VERIFICATIONS.indexes:
        index.create(conn, checkfirst=True)


# ------------------------------------------------------------------ the API


router = APIRouter(prefix="/certificates", tags=["certificates"])


def authority(service: HallDep) -> CertificateAuthority:
    """The app's certificate authority (built once, beside the :class:`Hall`)."""
    found: CertificateAuthority | None = getattr(service, "_certificate_authority", None)
    if found is None:
        found = CertificateAuthority(service.engine, service.clock, service.catalog_file)
        service._certificate_authority = found  # type: ignore[attr-defined]
    return found


@router.post("/keys", response_model=KeyAnswer, responses=error_responses(401, 403, 422, 500))
async def register_key(key: KeyRegistration, service: HallDep, caller: PrincipalDep) -> KeyAnswer:
    """Register a station's public signing key (supervisor-approved); published to every station."""
    return await run_in_threadpool(authority(service).register_key, caller, key)


@router.get("/keys", response_model=KeyList, responses=error_responses(500))
def list_keys(service: HallDep) -> KeyList:
    """Every registered key, revoked ones marked."""
    return KeyList(keys=authority(service).keys())


@router.post(
    "/keys/{key_id}/revoke", response_model=KeyAnswer, responses=error_responses(401, 403, 404, 422, 500)
)
async def revoke_key(
    key_id: str, body: RevocationRequest, service: HallDep, caller: PrincipalDep
) -> KeyAnswer:
    """Revoke a signing key (its station's supervisor or an admin, or their signed approval)."""
    return await run_in_threadpool(authority(service).revoke_key, caller, key_id, body.reason, body.approval)


@router.post(
    "/revocations", response_model=RevocationAnswer, responses=error_responses(401, 403, 409, 422, 500)
)
async def revoke_certificate(
    body: RevocationRequest, service: HallDep, caller: PrincipalDep
) -> RevocationAnswer:
    """Revoke a certificate (the issuing station's supervisor or an admin, or their signed
    approval); reaches every station on its next pull."""
    return await run_in_threadpool(authority(service).revoke_certificate, caller, body)


@router.get("/revocations", response_model=RevocationList, responses=error_responses(500))
def list_revocations(service: HallDep) -> RevocationList:
    """The revocation list."""
    return RevocationList(revocations=authority(service).revocations())


@router.get("/verify", responses=error_responses(422, 500))
def verify(
    service: HallDep,
    qr: Annotated[str, Query(max_length=MAX_QR_CHARS, description="the QR text (ZZ1:...)")],
    today: Annotated[dt.date | None, Query(description="judge expiry as of this date")] = None,
) -> dict[str, Any]:
    """Is this certificate valid? ``{"status": valid|altered|unknown_key|revoked|expired|malformed, ...}``."""
    return authority(service).verify(qr, today).to_dict()
