"""Verification against the keys, revocations and station rights in the local store, audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from models.certificates import (
    Verification,
    find_qr_text,
)
from models.seal import (
    IssuingStation,
    TrustStore,
    issuing_stations,
    verify_qr,
    verify_record,
)
from offline_cache import certificate_repo as cert_repo
from window_client.services.certificates.hall_feed import HallFeed


class Verifying(HallFeed):
    """Offline verification (the trust store takes the hall's feed in first)."""

    def trust_store(self) -> TrustStore:
        """Keys and revocations from the store, pulled changes applied first.

        Cached, and re-read when the store's keys or revocations changed (another process may
        have revoked, rotated or pulled meanwhile): one small query per call.
        """
        self.ingest_pulled()
        with self.store.reading() as conn:
            fingerprint = cert_repo.trust_fingerprint(conn)
            if self._trust is None or fingerprint != self._fingerprint:
                keys = {k.key_id: k for k in cert_repo.public_keys(conn)}
                revoked = {r.identifier: r for r in cert_repo.revocations(conn)}
                stations = {**self._partner_issuers(conn), **self._issuing_stations()}
                self._trust = TrustStore(keys, revoked, self._type_names, stations)
                self._fingerprint = fingerprint
        return self._trust

    def _issuing_stations(self) -> dict[str, IssuingStation]:
        """What each station of the catalogue may issue (built once per service)."""
        if self._stations is None:
            self._stations = issuing_stations(self.catalog)
        return self._stations

    @staticmethod
    def _partner_issuers(conn: Any) -> dict[str, IssuingStation]:
        """What each partner hall published by this station's hall may issue (跨区通办: the
        certificates of cases accepted here and handled there); a station of the catalogue
        with the same code keeps its own rights."""
        return {
            name: IssuingStation(name, issuer_code, frozenset(types))
            for name, issuer_code, types in cert_repo.partner_issuers(conn)
        }

    def check(
        self, text: str, today: dt.date, document: bool = False, trust: TrustStore | None = None
    ) -> Verification:
        """Verify without auditing: a QR text as given, or (``document``) whatever a file holds —
        a QR text anywhere in it (a saved page) or a sealed record (JSON)."""
        trust = trust or self.trust_store()
        if document:
            found = find_qr_text(text)
            if found is not None:
                return verify_qr(found, trust, today)
            stripped = text.strip()
            if stripped.startswith("{"):
                try:
                    record = json.loads(stripped)
                except ValueError:
                    record = None
                return verify_record(record, trust, today)
        return verify_qr(text, trust, today)

    def verify(self, text: str, today: dt.date, document: bool = False, source: str = "text") -> Verification:
        """Verify and audit the verification (who checked what, and the answer)."""
        return self.verify_many([text], today, document, source)[0]

    def verify_many(
        self, texts: Iterable[str], today: dt.date, document: bool = False, source: str = "text"
    ) -> list[Verification]:
        """Verify many (an integrator's batch); audited in one transaction."""
        trust = self.trust_store()
        results = [self.check(t, today, document, trust) for t in texts]
        self.record_verifications(results, source)
        return results

    def record_verifications(self, results: Sequence[Verification], source: str) -> None:
        """Audit verifications (who checked what, and the answer) in one transaction."""
        with self.store.transaction(self.actor) as unit:
            for result in results:
                subject = result.payload.identifier if result.payload else "-"
                unit.audit(
                    "cert.verify",
                    subject,
                    {"status": result.status.value, "code": result.problem.code, "source": source},
                )
