"""Checking a pushed ``case.accept`` with the counter's own rules (:func:`models.acceptance.check_accept`).

The hall judges every new case against its own reference data, never the station's word: the
catalogue in force (:func:`hall_server.domain.reference.catalog_in_force`), its holiday arrangements,
and the applicant's standing at every station (一处失信，处处受限). A case tolerated beyond policy
needs a supervisor's signed approval of ``case.tolerate`` on that case number
(:func:`hall_server.domain.approvals.approver_of`); a bare ``approved_by`` proves nothing.

Per batch the checker reads the catalogue, the holiday documents and the standings of every
applicant named once, and only when the batch holds an accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, func, select

from hall_server import storage
from hall_server.domain import reference
from hall_server.domain.approvals import approver_of
from hall_server.domain.auth import Principal
from hall_server.domain.operations import Incoming
from hall_server.domain.rules import Refusal
from hall_server.storage import STANDINGS
from models.acceptance import AcceptCheck, check_accept
from models.approval import ApprovalAct
from models.catalog import Catalog
from models.problems import Problem
from models.sync import OperationKind
from models.tolerance import CLEAN_STANDING, ApplicantStanding
from models.workdays import WorkdayCalendar


def standings_by_applicant(conn: Connection, applicant_ids: Sequence[str]) -> dict[str, ApplicantStanding]:
    """Each applicant's record summed over every station (what a counter combines locally)."""
    if not applicant_ids:
        return {}
    query = (
        select(
            STANDINGS.c.applicant_id,
            func.sum(STANDINGS.c.unfulfilled_commitments),
            func.max(STANDINGS.c.dishonest.cast(Integer)),
        )
        .where(storage.is_in(conn, STANDINGS.c.applicant_id, sorted(set(applicant_ids))))
        .group_by(STANDINGS.c.applicant_id)
    )
    return {
        row[0]: ApplicantStanding(dishonest=bool(row[2]), unfulfilled_commitments=int(row[1] or 0))
        for row in conn.execute(query)
    }


class AcceptChecker:
    """Checks the accepts of one batch (reference data read once, on the first accept)."""

    def __init__(self, conn: Connection, principal: Principal, fallback: Catalog) -> None:
        self.conn = conn
        self.principal = principal
        self.fallback = fallback
        self._loaded: tuple[Catalog, WorkdayCalendar] | None = None
        self._standings: dict[str, ApplicantStanding] = {}
        # Decisions that passed, per combination of item, materials, standing and dates: valid
        # for this batch's catalogue and calendar (models.acceptance.check_accept).
        self._memo: dict[tuple[object, ...], AcceptCheck] = {}

    def prefetch(self, operations: Sequence[Incoming]) -> None:
        """Read the standings of every applicant the batch's accepts name (one query)."""
        ids = [
            applicant
            for op in operations
            if op.kind == OperationKind.CASE_ACCEPT
            and isinstance(applicant := op.payload.get("applicant_id"), str)
        ]
        if ids:
            self._standings = standings_by_applicant(self.conn, ids)

    def check(self, payload: Mapping[str, Any], case_no: str) -> None:
        """Raise :class:`Refusal` unless the counter's rules would have produced this accept."""
        if self._loaded is None:
            self._loaded = (
                reference.catalog_in_force(self.conn, self.fallback),
                reference.calendar_in_force(self.conn),
            )
        catalog, calendar = self._loaded
        owner = None if self.principal.back_office else self.principal.station
        standing = self._standings.get(str(payload["applicant_id"]), CLEAN_STANDING)
        found = check_accept(payload, case_no, owner, catalog, calendar, standing, self._memo)
        if found.problem is not None:
            raise Refusal(found.problem.code, **found.problem.params)
        if found.approval_needed:
            self._check_approval(payload, case_no, found.approval_needed)

    def _check_approval(self, payload: Mapping[str, Any], case_no: str, reasons: Sequence[Problem]) -> None:
        """A tolerance beyond policy: a supervisor of the case's station signed it (and is the
        one ``approved_by`` names, when it names one)."""
        station = str(payload["station"])
        approver = approver_of(self.conn, payload.get("approval"), ApprovalAct.TOLERATE, case_no, station)
        named = payload.get("approved_by")
        if approver is None or (named is not None and named != approver):
            raise Refusal(
                "accept.needs_approval",
                case_no=case_no,
                why="；".join(p.zh() for p in reasons),
                why_en="; ".join(p.en() for p in reasons),
            )
