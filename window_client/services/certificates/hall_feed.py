"""The station's keys and revocations sent to the hall, and the hall's feed of published keys,
revocations and certificates taken into the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.certificates import (
    CertificateBody,
    Identifier,
)
from models.seal import (
    check_published_key,
)
from models.sync import ChangeKind
from offline_cache import UnitOfWork, own_key_repo
from offline_cache import certificate_repo as cert_repo
from window_client.services.certificates.base import CertificateBase

FEED_KINDS = (
    ChangeKind.KEY_PUBLISHED.value,
    ChangeKind.KEY_REVOKED.value,
    ChangeKind.CERTIFICATE.value,
    ChangeKind.CERTIFICATE_REVOKED.value,
)


class HallCertificates(Protocol):
    """The hall's certificate endpoints, as :meth:`CertificateService.publish` needs them.

    Each call returns ``None`` when the hall accepted (or already had) the item, or the hall's
    reason for refusing it; an unreachable hall raises (the run stops, nothing is marked).
    """

    def register_key(self, key: dict[str, Any]) -> str | None:
        """``POST /certificates/keys``."""

    def revoke(self, revocation: dict[str, Any]) -> str | None:
        """``POST /certificates/revocations``."""


@dataclass(slots=True)
class PublishReport:
    """What ``cert publish`` sent."""

    keys: int = 0
    revocations: int = 0
    refused: list[str] = field(default_factory=list)


class HallFeed(CertificateBase):
    """Publication to the hall and the hall's feed."""

    def unpublished(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(own keys, local revocations) the hall does not have yet."""
        with self.store.reading() as conn:
            return own_key_repo.unpublished_keys(conn), own_key_repo.unpublished_revocations(conn)

    def publish(self, hall: HallCertificates) -> PublishReport:
        """Register this station's keys and send its revocations to the hall.

        Each item is marked published only once the hall has answered for it, so a failure
        half-way loses nothing: the next run sends what is left. A refusal is reported and
        the item kept for a later run.
        """
        keys, revocations = self.unpublished()
        report = PublishReport()
        for key in keys:
            refusal = hall.register_key(key)
            if refusal is not None:
                report.refused.append(f"key {key['key_id']}: {refusal}")
                continue
            with self.store.transaction(self.actor) as unit:
                own_key_repo.mark_key_published(unit, key["key_id"])
                unit.audit("key.publish", key["key_id"], {"station": key["station"]})
            report.keys += 1
        for revocation in revocations:
            refusal = hall.revoke(revocation)
            if refusal is not None:
                report.refused.append(f"revocation {revocation['identifier']}: {refusal}")
                continue
            with self.store.transaction(self.actor) as unit:
                own_key_repo.mark_revocation_published(unit, revocation["identifier"])
                unit.audit("cert.revoke_publish", revocation["identifier"], {})
            report.revocations += 1
        return report

    def ingest_pulled(self) -> dict[str, int]:
        """Apply pulled key/certificate changes the sync engine stored raw; returns counts."""
        with self.store.reading() as conn:
            if not cert_repo.has_pulled_changes_table(conn):
                return {}
            rows = cert_repo.unconsumed_changes(conn, FEED_KINDS)
        if not rows:
            return {}
        counts: dict[str, int] = {}
        with self.store.transaction(self.actor) as unit:
            for _seq, kind, key, payload, at in rows:
                try:
                    data = json.loads(payload)
                    applied = isinstance(data, dict) and self._apply_change(unit, kind, key, data, at)
                except (ValueError, KeyError, TypeError):
                    applied = False
                outcome = kind if applied else f"{kind}:skipped"
                counts[outcome] = counts.get(outcome, 0) + 1
                if not applied:
                    unit.audit("cert.feed_skipped", key[:120], {"kind": kind})
            cert_repo.mark_consumed(unit, [r[0] for r in rows])
            unit.audit("cert.feed", "-", counts)
        self._trust = None
        return counts

    def _apply_change(self, unit: UnitOfWork, kind: str, key: str, data: dict[str, Any], at: str) -> bool:
        if kind == ChangeKind.KEY_PUBLISHED:
            public = check_published_key(
                str(data["key_id"]), str(data["station"]), str(data["public_key"]), str(data["proof"])
            )
            if public is None:
                return False  # an id that does not match its key, or no proof of possession
            cert_repo.upsert_published_key(
                unit, public.key_id, public.station, public.public_hex, str(data["proof"]),
                str(data.get("created_at") or at),
            )  # fmt: skip
            if data.get("partner") == public.station:  # a partner hall's key (跨区通办)
                types = data.get("type_codes")
                codes = [str(t) for t in types] if isinstance(types, list) else []
                cert_repo.upsert_partner_issuer(
                    unit, public.station, str(data.get("issuer_code") or ""), codes
                )
            return True
        if kind == ChangeKind.KEY_REVOKED:
            key_id = str(data.get("key_id") or key)
            cert_repo.revoke_key(
                unit, key_id, str(data.get("revoked_at") or at), str(data.get("reason") or "")
            )
            return True
        if kind == ChangeKind.CERTIFICATE:
            body = CertificateBody.from_dict(data["certificate"])
            identifier = Identifier.parse(body.identifier)
            if identifier is None:  # issued elsewhere: stored verbatim, but it must have the shape
                return False
            cert_repo.insert_certificate(
                unit, body, str(data.get("seal", "")), str(data.get("qr", "")), "remote",
                str(data.get("issued_by") or "hall"),
            )  # fmt: skip
            own = identifier.station_sequence
            if own is not None and own[0] == body.station:
                cert_repo.raise_certificate_sequence(unit, own[0], own[1])
            return True
        if kind == ChangeKind.CERTIFICATE_REVOKED:
            identifier_text = str(data.get("identifier") or key)
            cert_repo.insert_revocation(
                unit, identifier_text, str(data.get("reason") or ""), str(data.get("revoked_at") or at),
                str(data.get("revoked_by") or "hall"), "hall",
            )  # fmt: skip
            return True
        return False
