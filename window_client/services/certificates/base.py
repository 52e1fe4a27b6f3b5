"""The certificate service's state and what every part of it reads: the store, the catalogue,
the station and its keys; certificates by identifier, case or state; the printed record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.catalog import Catalog, Station
from models.certificates import (
    CertificateView,
    KeyView,
    looks_like_identifier,
)
from models.problems import DomainError
from models.seal import (
    IssuingStation,
    TrustStore,
)
from offline_cache import Store
from offline_cache import certificate_repo as cert_repo
from window_client.services.cases import CaseService
from window_client.services.certificate_keys import StationKeys
from window_client.services.key_vault import KeyVault
from window_client.services.staff import StaffMember


class CertificateBase:
    """Certificates of one station, acting as one staff member: state and reading."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        station: Station,
        cases: CaseService,
        actor: str,
        vault: KeyVault,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.station = station
        self.cases = cases
        self.actor = actor
        self.vault = vault
        self._trust: TrustStore | None = None
        self._fingerprint: tuple[int, ...] = ()
        self._type_names = {t.type_code: t.name for t in catalog.certificate_types.values()}
        self._stations: dict[str, IssuingStation] | None = None
        self.keys = StationKeys(store, station.code, vault)

    def ingest_pulled(self) -> dict[str, int]:
        """Take in the hall's pulled key and certificate changes (see ``HallFeed``)."""
        return {}

    def needs_key_approval(self) -> bool:
        """Whether the next issue needs a supervisor (this station has no approved key yet)."""
        return self.keys.needs_approval()

    def rotate_key(self, approver: StaffMember) -> KeyView:
        """Retire the signing key and start a new one approved by ``approver`` (a supervisor of
        this station or an admin); retired keys keep verifying."""
        with self.store.transaction(self.actor) as unit:
            key_id = self.keys.rotate(unit, approver)
        self._trust = None
        return next(k for k in self.list_keys() if k.key_id == key_id)

    def list_keys(self) -> list[KeyView]:
        """Every key the store knows (own and published)."""
        return self.keys.list()

    def get(self, ref: str) -> CertificateView:
        """A certificate by identifier, or the only certificate of a case number."""
        with self.store.reading() as conn:
            return self._resolve(conn, ref)

    def _resolve(self, conn: Any, ref: str) -> CertificateView:
        ref = ref.strip()
        if looks_like_identifier(ref):
            view = cert_repo.get_certificate(conn, ref)
            if view is None:
                raise DomainError.of("cert.unknown", ref=ref[:80])
            return view
        identifiers = cert_repo.identifiers_of_case(conn, ref)
        if not identifiers:
            raise DomainError.of("cert.unknown", ref=ref[:80])
        if len(identifiers) > 1:
            raise DomainError.of("cert.several", case_no=ref, identifiers=", ".join(identifiers))
        view = cert_repo.get_certificate(conn, identifiers[0])
        assert view is not None  # linked in the same transaction that stored it
        return view

    def of_case(self, case_no: str) -> list[CertificateView]:
        """Every certificate a case resulted in (issued here, or pulled from the hall)."""
        self.ingest_pulled()
        with self.store.reading() as conn:
            found = [cert_repo.get_certificate(conn, i) for i in cert_repo.identifiers_of_case(conn, case_no)]
        return [v for v in found if v is not None]

    def list_issued(self, waiting: bool = False, limit: int = 200, offset: int = 0) -> list[CertificateView]:
        """Certificates issued at this station, newest first (``waiting``: to be handed out)."""
        with self.store.reading() as conn:
            return cert_repo.list_certificates(conn, self.station.code, waiting, limit, offset)

    def day_counts(self, day: dt.date) -> dict[str, int]:
        """For the day close: issued and handed over on ``day``, and how many still wait."""
        with self.store.reading() as conn:
            return cert_repo.day_counts(conn, self.station.code, day)

    def sealed_record(self, ref: str) -> dict[str, Any]:
        """The full sealed record (holder ID unmasked: audited as an ID view)."""
        with self.store.transaction(self.actor) as unit:
            view = self._resolve(unit.conn, ref)
            unit.audit("id.view", view.identifier, {"reason": "cert.record"})
        return view.sealed_record()

    def printed(self, ref: str, form: str, path: str) -> CertificateView:
        """Record that the printable form was produced (audited; counted on the certificate)."""
        with self.store.transaction(self.actor) as unit:
            view = self._resolve(unit.conn, ref)
            cert_repo.mark_printed(unit, view.identifier)
            unit.audit("cert.print", view.identifier, {"form": form, "path": path})
        return self.get(view.identifier)
