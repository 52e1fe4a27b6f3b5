"""Issuing: approved cases waiting at 统一出证, and one unit of work a certificate (the station's
serial sequence, the sealed body, the case's ``issue_certificate`` transition together)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from models.catalog import CertificateType
from models.certificates import (
    CertificateBody,
    CertificateView,
    HolderIdType,
    Identifier,
    add_years,
    serial_for,
)
from models.enums import CaseState
from models.problems import DomainError
from models.records import CaseFilter, CaseView
from models.seal import (
    seal_certificate,
)
from models.state_machine import STATE_ZH
from offline_cache import UnitOfWork, own_key_repo
from offline_cache import certificate_repo as cert_repo
from window_client.services.certificates.base import CertificateBase
from window_client.services.staff import StaffMember
from window_client.services.state_machine import CaseEvent

DEFAULT_VALID_YEARS = 5
MAX_VALID_YEARS = 50


@dataclass(frozen=True, slots=True)
class AwaitingIssue:
    """An approved case waiting at 统一出证, with the certificate types it results in."""

    case: CaseView
    types: tuple[CertificateType, ...]


class Issuing(CertificateBase):
    """Issuing certificates for approved cases."""

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

    def _owner(self, item_code: str) -> str | None:
        """The partner hall that issues the result of an item accepted here (跨区通办), if any."""
        item = self.catalog.items.get(item_code)
        link = item.owner if item is not None else None
        return link.partner if link is not None else None

    def awaiting_issue(self, today: dt.date, limit: int = 200) -> list[AwaitingIssue]:
        """Approved cases of this station that result in a certificate, oldest first."""
        f = CaseFilter(state=CaseState.APPROVED.value, station=self.station.code)
        found = []
        for case in self.cases.list_cases(f, today, limit, order="id ASC"):
            types = self.types_of(case)
            if types and self._owner(case.item_code) is None:
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
        owner = self._owner(case.item_code)
        if owner is not None:
            raise DomainError.of("cert.partner_issues", case_no=case_no, partner=owner)
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
