"""Handing a certificate over (领取 by the holder or an agent, 寄递) and revoking it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from models.approval import ApprovalAct
from models.certificates import (
    CertificateView,
    HandoverKind,
    HolderIdType,
    Identifier,
)
from models.enums import CaseState, Role
from models.identity import check_name, check_person_id, mask_id, normalize_id
from models.problems import DomainError
from models.text import clean_reason
from offline_cache import UnitOfWork
from offline_cache import certificate_repo as cert_repo
from offline_cache import repositories as repo
from window_client.services.certificate_keys import approval_by
from window_client.services.certificates.base import CertificateBase
from window_client.services.staff import StaffMember
from window_client.services.state_machine import CaseEvent

_TRACKING = re.compile(r"^[0-9A-Z]{8,30}$")


class Handover(CertificateBase):
    """领取, 寄递 and revocation."""

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
        self.ingest_pulled()  # a certificate issued at a partner hall arrives with the sync
        with self.store.transaction(self.actor) as unit:
            view = self._resolve(unit.conn, ref)
            self._check_handover_allowed(unit, view)
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

    def _check_handover_allowed(self, unit: UnitOfWork, view: CertificateView) -> None:
        # A certificate issued elsewhere is handed over here only for a case accepted here
        # (跨区通办: the partner hall issued it, this window delivers it).
        accepted_here = any(repo.get_case_row(unit.conn, n) for n in view.body.case_nos)
        if view.origin != "local" and not accepted_here:
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
