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
  from the catalogue in force (:mod:`hall_server.domain.certificate_trust`).

Revocation reaches every client on its next pull. Keys are never deleted, so certificates sealed
before a rotation keep verifying.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine

from hall_server import storage
from hall_server.domain.auth import Principal
from hall_server.domain.certificate_trust import Proof, StationRights, prove, record_proof
from hall_server.domain.reference import SHIPPED_CATALOG, load_catalog
from hall_server.errors import ApiError
from hall_server.services.certificate_models import (
    MAX_QR_CHARS,
    KeyAnswer,
    KeyRegistration,
    PublishedKey,
    RevocationAnswer,
    RevocationEntry,
    RevocationRequest,
)
from hall_server.storage import NewChange, read_transaction, write_transaction
from hall_server.storage import certificates as rows
from models.approval import ApprovalAct
from models.certificates import Identifier, Verification
from models.problems import DomainError
from models.seal import PublicKey, TrustStore, check_published_key, verify_qr
from models.sync import ChangeKind
from models.text import clean_reason


def _clean_reason(reason: str) -> str:
    """The station's rule for a reason (:func:`models.text.clean_reason`), answered as a 422."""
    try:
        return clean_reason(reason)
    except DomainError as exc:
        raise ApiError(422, "request.invalid", detail=f"reason: {exc.problem.en()}") from None


def _key_row(key: KeyRegistration, principal: Principal, now: dt.datetime) -> dict[str, Any]:
    return {
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
            if rows.key_row(conn, key.key_id) is not None:
                return KeyAnswer(key_id=key.key_id, status="known")
            rows.insert_key(conn, _key_row(key, principal, now))
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
            row = rows.key_row(conn, key_id)
            if row is None:
                raise ApiError(404, "cert.key_unknown", key_id=key_id[:64])
            proof = self._proof(conn, principal, ApprovalAct.REVOKE_KEY, key_id, row.station, approval)
            if row.revoked_at is not None:
                return KeyAnswer(key_id=key_id, status="known")
            at = storage.iso(now)
            rows.mark_key_revoked(conn, key_id, at, text, proof.by)
            record_proof(conn, ApprovalAct.REVOKE_KEY, key_id, row.station, proof, principal, now)
            payload = {"key_id": key_id, "station": row.station, "revoked_at": at, "reason": text}
            storage.append_changes(conn, [NewChange(ChangeKind.KEY_REVOKED, key_id, payload)], now)
        return KeyAnswer(key_id=key_id, status="revoked")

    def keys(self) -> list[PublishedKey]:
        """Every registered key, oldest first."""
        with read_transaction(self.engine) as conn:
            found = rows.key_rows(conn)
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
            for r in found
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
            known = rows.revoked_at(conn, identifier)
            if known is not None:
                return RevocationAnswer(identifier=identifier, status="known", revoked_at=known)
            if not principal.back_office and not rows.seen_issued(conn, identifier, station):
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
            rows.insert_revocation(conn, row)
            record_proof(conn, act, identifier, station, proof, principal, now)
            payload = {"identifier": identifier, "reason": text, "revoked_at": at, "revoked_by": proof.by}
            storage.append_changes(
                conn, [NewChange(ChangeKind.CERTIFICATE_REVOKED, identifier, payload)], now
            )
        return RevocationAnswer(identifier=identifier, status="revoked", revoked_at=at)

    def revocations(self) -> list[RevocationEntry]:
        """The revocation list, oldest first."""
        with read_transaction(self.engine) as conn:
            found = rows.revocation_rows(conn)
        return [
            RevocationEntry(
                identifier=r.identifier, reason=r.reason, revoked_at=r.revoked_at, revoked_by=r.revoked_by
            )
            for r in found
        ]

    def seen_in_operations(self, identifier: str) -> bool:
        """Whether a pushed ``issue_certificate`` operation carried this identifier."""
        with read_transaction(self.engine) as conn:
            return rows.seen_issued(conn, identifier, None)

    # ------------------------------------------------------------ verification

    def _trust(self, conn: Connection) -> TrustStore:
        keys: dict[str, PublicKey] = {}
        for r in rows.trusted_key_rows(conn):
            cached = self._trusted.get(r.key_id)
            if cached is None or cached.revoked_at != r.revoked_at:
                cached = PublicKey(r.key_id, r.station, r.public_key, r.revoked_at, r.revoked_reason)
                self._trusted[r.key_id] = cached
            keys[r.key_id] = cached
        return TrustStore(keys, rows.RevokedLookup(conn), {}, self.rights.of(conn))

    def verify(self, qr: str, today: dt.date | None = None) -> Verification:
        """The same verdict as the client's offline ``verify`` (counted in the log)."""
        now = self.clock()
        day = today or now.astimezone(rows.HALL_TIME).date()
        with read_transaction(self.engine) as conn:
            verdict = verify_qr(qr[: MAX_QR_CHARS + 1], self._trust(conn), day)
        with write_transaction(self.engine) as conn:
            rows.count_verification(conn, verdict.to_dict(), qr, now)
        return verdict

    def verifications(self) -> list[dict[str, Any]]:
        """The hall's verification log (counted rows, see
        :class:`~hall_server.storage.schema.VerificationLogRow`), oldest first."""
        with read_transaction(self.engine) as conn:
            return rows.verification_rows(conn)
