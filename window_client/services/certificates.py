"""统一出证: issue, seal, print, hand over, revoke and verify certificates — offline first.

Issuing is one local unit of work: the station's serial sequence, the sealed certificate, the
case's ``issue_certificate`` transition (state + audit + outbox operation carrying the sealed
body and the signing key's public record, so the hall can register the key and record the
certificate) commit together or not at all. Serials are station code + station sequence, so
an offline station never needs the server to stay unique.

Sealing needs a supervisor-approved key (:mod:`window_client.services.certificate_keys`): the
first issue, or a rotation, takes a supervisor's approval, kept with the key for the hall.
Revoking takes a supervisor of the issuing station (or an admin), whose signed approval is kept
with the revocation so that any later sync can prove it to the hall.

Verification trusts the keys in the local store: this station's own keys (old ones kept after
a rotation, so old certificates still verify) and the keys the hall publishes through the sync
feed, with the hall's revocation list, and what each station of the catalogue may issue. The
pure rules live in :mod:`models.seal`, shared with the hall server.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.approval import ApprovalAct
from models.catalog import Catalog, CertificateType, Station
from models.certificates import (
    CertificateBody,
    CertificateView,
    HandoverKind,
    HolderIdType,
    Identifier,
    KeyView,
    Verification,
    add_years,
    find_qr_text,
    looks_like_identifier,
    serial_for,
)
from models.enums import CaseState, Role
from models.identity import check_name, check_person_id, mask_id, normalize_id
from models.problems import DomainError
from models.records import CaseFilter, CaseView
from models.seal import (
    IssuingStation,
    TrustStore,
    check_published_key,
    issuing_stations,
    seal_certificate,
    verify_qr,
    verify_record,
)
from models.state_machine import STATE_ZH
from models.sync import ChangeKind
from models.text import clean_reason
from offline_cache import Store, UnitOfWork, own_key_repo
from offline_cache import certificate_repo as cert_repo
from offline_cache import repositories as repo
from window_client.services.cases import CaseService
from window_client.services.certificate_keys import StationKeys, approval_by
from window_client.services.key_vault import KeyVault
from window_client.services.staff import StaffMember
from window_client.services.state_machine import CaseEvent

DEFAULT_VALID_YEARS = 5
MAX_VALID_YEARS = 50
FEED_KINDS = (
    ChangeKind.KEY_PUBLISHED.value,
    ChangeKind.KEY_REVOKED.value,
    ChangeKind.CERTIFICATE.value,
    ChangeKind.CERTIFICATE_REVOKED.value,
)
_TRACKING = re.compile(r"^[0-9A-Z]{8,30}$")


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


@dataclass(frozen=True, slots=True)
class AwaitingIssue:
    """An approved case waiting at 统一出证, with the certificate types it results in."""

    case: CaseView
    types: tuple[CertificateType, ...]


class CertificateService:
    """Certificates of one station, acting as one staff member."""

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

    # ------------------------------------------------------------ keys

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

    # ------------------------------------------------------------ issuing

    def types_of(self, case: CaseView) -> tuple[CertificateType, ...]:
        """The certificate types a case results in (a package: those of its items)."""
        codes: list[str] = []
        if case.certificate_type:
            codes.append(case.certificate_type)
        package = self.catalog.packages.get(case.item_code)
        if package is not None:
            codes += [i.certificate_type for i in package.items if i.certificate_type]
        seen: dict[str, CertificateType] = {}
        for code in codes:
            kind = self.catalog.certificate_types.get(code)
            if kind is not None and code not in seen:
                seen[code] = kind
        return tuple(seen.values())

    def awaiting_issue(self, today: dt.date, limit: int = 200) -> list[AwaitingIssue]:
        """Approved cases of this station that result in a certificate, oldest first."""
        f = CaseFilter(state=CaseState.APPROVED.value, station=self.station.code)
        found = []
        for case in self.cases.list_cases(f, today, limit, order="id ASC"):
            types = self.types_of(case)
            if types:
                found.append(AwaitingIssue(case, types))
        return found

    def issue(
        self,
        case_nos: Sequence[str],
        day: dt.date,
        valid_years: int = DEFAULT_VALID_YEARS,
        approver: StaffMember | None = None,
    ) -> list[CertificateView]:
        """Issue the certificate(s) of approved case(s), sealed with this station's key.

        Several cases give one certificate per type when they share the applicant (e.g. a
        变更 and its 补证); a 一件事 case gives one certificate per type of its items. A case
        is issued once: a second attempt is refused, naming the certificate it already has.
        When the station has no approved key yet, ``approver`` (a supervisor who has just
        re-authenticated) approves the one made now; without one, ``cert.key_needs_approval``.
        """
        if not 0 <= valid_years <= MAX_VALID_YEARS:
            raise DomainError.of("cert.valid_years", limit=MAX_VALID_YEARS)
        numbers = [n.strip() for n in case_nos if n.strip()]
        if not numbers:
            raise DomainError.of("field.required", field="case_no")
        for n in numbers:
            if numbers.count(n) > 1:
                raise DomainError.of("cert.duplicate_case", case_no=n)
        issuer = self.station.issuer_uscc
        if not issuer:
            raise DomainError.of("cert.issuer_missing")
        issued: list[str] = []
        with self.store.transaction(self.actor) as unit:
            cases = [self._approved_case(unit, n, day) for n in numbers]
            if len({c.applicant_id for c in cases}) > 1:
                raise DomainError.of("cert.holders_differ")
            types = self.types_of(cases[0])
            if not types:
                raise DomainError.of("cert.no_type", item=cases[0].item_name)
            for other in cases[1:]:
                if self.types_of(other) != types:
                    names = "、".join(sorted({t.name for c in cases for t in self.types_of(c)}))
                    raise DomainError.of("cert.ambiguous_type", types=names)
            key = self.keys.signing_key(unit, approver)
            records = []
            for kind in types:
                body = self._body(unit, kind, cases, issuer, day, valid_years, key.key_id)
                seal, qr = seal_certificate(key, body)
                cert_repo.insert_certificate(unit, body, seal, qr, "local", self.actor)
                unit.audit(
                    "cert.issue",
                    body.identifier,
                    {"cases": list(body.case_nos), "type": kind.code, "key_id": key.key_id},
                )
                records.append({**body.to_dict(), "seal": seal, "qr": qr})
                issued.append(body.identifier)
            key_record = own_key_repo.own_key_record(unit.conn, key.key_id)
            for case in cases:
                self.cases._transition(  # the CaseService machinery: state, audit, outbox together
                    unit,
                    case,
                    CaseEvent.ISSUE_CERTIFICATE,
                    {"on": day.isoformat(), "certificates": records, "signing_key": key_record},
                )
        return [self.get(identifier) for identifier in issued]

    def _approved_case(self, unit: UnitOfWork, case_no: str, day: dt.date) -> CaseView:
        case = self.cases._locked(unit, case_no, day)
        already = cert_repo.identifiers_of_case(unit.conn, case_no)
        if already:
            raise DomainError.of("cert.already_issued", case_no=case_no, identifier=already[0])
        if case.state != CaseState.APPROVED:
            state = CaseState(case.state)
            raise DomainError.of(
                "cert.not_approved", case_no=case_no, state=STATE_ZH[state], state_code=state.value
            )
        return case

    def _body(
        self,
        unit: UnitOfWork,
        kind: CertificateType,
        cases: Sequence[CaseView],
        issuer: str,
        day: dt.date,
        valid_years: int,
        key_id: str,
    ) -> CertificateBody:
        sequence = cert_repo.allocate_certificate_sequence(unit, self.station.code)
        try:
            serial = serial_for(self.station.code, sequence)
        except ValueError:
            raise DomainError.of("cert.sequence_exhausted") from None
        holder = cases[0]
        return CertificateBody(
            identifier=str(Identifier.build(kind.type_code, issuer, serial)),
            certificate_type=kind.code,
            type_name=kind.name,
            holder_name=holder.applicant_name,
            holder_id=holder.applicant_id,
            holder_id_type=HolderIdType.of(holder.applicant_type),
            issuer_code=issuer,
            issuer_name=self.station.name,
            station=self.station.code,
            issued_on=day,
            valid_until=add_years(day, valid_years) if valid_years else None,
            case_nos=tuple(c.case_no for c in cases),
            key_id=key_id,
        )

    # ------------------------------------------------------------ reading

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
        """Every certificate a case resulted in."""
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

    # ------------------------------------------------------------ printing

    def printed(self, ref: str, form: str, path: str) -> CertificateView:
        """Record that the printable form was produced (audited; counted on the certificate)."""
        with self.store.transaction(self.actor) as unit:
            view = self._resolve(unit.conn, ref)
            cert_repo.mark_printed(unit, view.identifier)
            unit.audit("cert.print", view.identifier, {"form": form, "path": path})
        return self.get(view.identifier)

    # ------------------------------------------------------------ handover

    def handover(
        self,
        ref: str,
        day: dt.date,
        *,
        collector_id: str | None = None,
        collector_name: str | None = None,
        agent: bool = False,
        tracking_no: str | None = None,
    ) -> CertificateView:
        """领取 (the holder or an agent, ID checked) or 寄递 (tracking number) of a certificate.

        When every certificate of a case has left the window, the case is 已领取 (deliver).
        """
        mailed = bool(tracking_no and tracking_no.strip())
        collected = bool((collector_id or "").strip() or (collector_name or "").strip())
        if mailed == collected:
            raise DomainError.of("handover.how")
        with self.store.transaction(self.actor) as unit:
            view = self._resolve(unit.conn, ref)
            self._check_handover_allowed(view)
            name: str | None = None
            number: str | None = None
            tracking: str | None = None
            if mailed:
                tracking = normalize_id(tracking_no or "")
                if not _TRACKING.match(tracking):
                    raise DomainError.of("handover.tracking")
                kind = HandoverKind.MAIL
            else:
                kind, name, number = self._check_collector(
                    view, collector_id or "", collector_name or "", agent
                )
            cert_repo.insert_handover(unit, view.identifier, kind, name, number, tracking, day)
            detail = {
                "kind": kind.value,
                "collector_name": name,
                "collector_id_masked": mask_id(number) if number else None,
                "tracking_no": tracking,
            }
            unit.audit("cert.handover", view.identifier, detail)
            self._deliver_cases(unit, view.identifier, day, detail)
        return self.get(view.identifier)

    def _check_handover_allowed(self, view: CertificateView) -> None:
        if view.origin != "local":
            raise DomainError.of(
                "cert.remote", identifier=view.identifier, action="交付", action_en="hand it over"
            )
        if view.revocation is not None:
            raise DomainError.of(
                "cert.revoked", identifier=view.identifier, action="交付", action_en="hand it over"
            )
        if view.handover is not None:
            h = view.handover
            how = h.tracking_no or h.collector_name or ""
            raise DomainError.of(
                "handover.already",
                identifier=view.identifier,
                at=h.handed_over_on.isoformat(),
                how=how,
                how_en=f"{h.kind.value} {how}".strip(),
            )

    @staticmethod
    def _check_collector(
        view: CertificateView, raw_id: str, raw_name: str, agent: bool
    ) -> tuple[HandoverKind, str, str]:
        number, problem = check_person_id(raw_id)
        if problem is not None:
            raise DomainError(problem)
        name = raw_name.strip()
        name_problem = check_name(name)
        if name_problem is not None:
            raise DomainError(name_problem)
        body = view.body
        if body.holder_id_type is HolderIdType.USCC:
            if not agent:
                raise DomainError.of("handover.org_agent")
            return HandoverKind.AGENT, name, number
        if number == body.holder_id:
            return HandoverKind.HOLDER, name, number
        if not agent:
            raise DomainError.of("handover.not_holder")
        return HandoverKind.AGENT, name, number

    def _deliver_cases(self, unit: UnitOfWork, identifier: str, day: dt.date, detail: dict[str, Any]) -> None:
        for case_no in cert_repo.cases_of(unit.conn, identifier):
            if not repo.get_case_row(unit.conn, case_no):
                continue  # a case of another station: the hall moves it
            others = cert_repo.identifiers_of_case(unit.conn, case_no)
            pending = [
                i
                for i in others
                if (v := cert_repo.get_certificate(unit.conn, i)) is not None
                and v.handover is None
                and v.revocation is None
            ]
            case = self.cases._locked(unit, case_no, day)
            if pending or case.state != CaseState.CERTIFICATE_ISSUED:
                continue
            self.cases._transition(
                unit,
                case,
                CaseEvent.DELIVER,
                {"on": day.isoformat(), "certificates": others, "handover": detail},
            )

    # ------------------------------------------------------------ revocation

    def revoke(self, ref: str, reason: str, supervisor: StaffMember) -> CertificateView:
        """Revoke a certificate (a supervisor of the issuing station, or an admin): effective here
        at once, queued for the hall with the supervisor's signed approval."""
        if not supervisor.is_supervisor:
            raise DomainError.of("cert.not_supervisor")
        text = clean_reason(reason)
        with self.store.transaction(supervisor.staff_no) as unit:
            view = self._resolve(unit.conn, ref)
            if view.revocation is not None:
                raise DomainError.of(
                    "cert.already_revoked", identifier=view.identifier, at=view.revocation.revoked_at[:10]
                )
            parsed = Identifier.parse(view.identifier)
            own = parsed.station_sequence if parsed is not None else None
            issuer = own[0] if own is not None else "?"
            act = ApprovalAct.REVOKE_CERTIFICATE
            approval = approval_by(supervisor, act, view.identifier, issuer, unit.now)
            if approval is None and supervisor.role is not Role.ADMIN:
                if supervisor.station == issuer:  # signed in without a password: cannot sign
                    raise DomainError.of("cert.not_supervisor")
                raise DomainError.of("cert.revoke_other_station", identifier=view.identifier, station=issuer)
            # The hall learns it through `cert publish` (see :meth:`publish`), not the outbox: the
            # outbox carries case operations, which the hall folds per case.
            cert_repo.insert_revocation(
                unit, view.identifier, text, unit.now, supervisor.staff_no, "local",
                approval.to_dict() if approval is not None else None,
            )  # fmt: skip
            unit.audit("cert.revoke", view.identifier, {"reason": text, "station": issuer})
        self._trust = None
        return self.get(view.identifier)

    # ------------------------------------------------------------ verification

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
                self._trust = TrustStore(keys, revoked, self._type_names, self._issuing_stations())
                self._fingerprint = fingerprint
        return self._trust

    def _issuing_stations(self) -> dict[str, IssuingStation]:
        """What each station of the catalogue may issue (built once per service)."""
        if self._stations is None:
            self._stations = issuing_stations(self.catalog)
        return self._stations

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

    # ------------------------------------------------------------ publication to the hall

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

    # ------------------------------------------------------------ the hall's feed

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
