"""Accepting cases (受理, 容缺受理, 不予受理): validation, decision and the write.

The decision is computed without touching the store (:meth:`AcceptanceService.decide`), so the
counter, batch acceptance and tests all run the same rules; :meth:`AcceptanceService.commit`
then writes any number of decisions in one transaction, with their audit events and outbox
operations, checking dedupe keys inside the write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.acceptance import accept_state, entry_problems, material_problems
from models.approval import ApprovalAct
from models.catalog import Acceptable, Catalog, Station
from models.enums import CaseState, MaterialStatus
from models.identity import (
    check_applicant_id,
    check_name,
    check_person_id,
    check_phone,
    normalize_id,
)
from models.identity_check import identity_problems
from models.problems import DomainError, Problem
from models.records import NewCase, NewMaterial
from offline_cache import Store, sync_repo
from offline_cache import repositories as repo
from window_client.services.acceptance_types import (
    FIELD_LIMIT,
    WRITTEN,
    AcceptanceRequest,
    Applicant,
    Decision,
    Outcome,
)
from window_client.services.acceptance_write import accept_payload, apply_dedupe, write_identities
from window_client.services.tolerance import (
    CLEAN_STANDING,
    ApplicantStanding,
    TolerancePolicy,
    Verdict,
    assess,
)
from window_client.services.workdays import DueDate, WorkdayCalendar

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from window_client.services.staff import StaffMember

# The request and decision types live in acceptance_types; callers import them from here.
__all__ = [
    "FIELD_LIMIT",
    "WRITTEN",
    "AcceptanceRequest",
    "AcceptanceService",
    "Applicant",
    "Decision",
    "Outcome",
    "require_entry",
]

VERDICT_CACHE = 4096  # distinct questions remembered (see AcceptanceService._assess)


@dataclass(frozen=True, slots=True)
class _Cached:
    """A remembered verdict, with what it was decided on (a new catalogue or policy asks anew)."""

    entry: Acceptable
    policy: TolerancePolicy
    verdict: Verdict


class AcceptanceService:
    """Acceptance at one station's window by one staff member."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        calendar: WorkdayCalendar,
        station: Station,
        clerk: str,
        window: str = "01",
        policy: TolerancePolicy | None = None,
        max_unsynced_days: int = 5,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.calendar = calendar
        self.station = station
        self.clerk = clerk
        self.window = window
        self.policy = policy or TolerancePolicy()
        self.max_unsynced_days = max_unsynced_days
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        # Verdicts by (item, materials presented, standing): a batch asks the same few
        # questions tens of thousands of times, and assess() is a pure function of them.
        self._verdicts: dict[
            tuple[str, frozenset[tuple[str, MaterialStatus]], ApplicantStanding], _Cached
        ] = {}

    # ------------------------------------------------------------ staleness (日结 rule)

    def staleness(self, conn: Connection | None = None) -> Problem | None:
        """Why new cases are refused, when the station has not synced for longer than policy
        allows (DESIGN.md §3 日结); None while it may accept.

        The baseline is the last successful sync, or the store's creation for a station that
        never synced. Existing data stays readable; only new cases wait for a sync.
        """
        if self.max_unsynced_days <= 0:
            return None
        if conn is None:
            with self.store.reading() as reading:
                return self.staleness(reading)
        last = sync_repo.parse_time(sync_repo.get_meta(conn, sync_repo.LAST_SUCCESS_KEY))
        baseline = last or sync_repo.parse_time(sync_repo.get_meta(conn, sync_repo.CREATED_KEY))
        if baseline is None:
            return None
        elapsed = self.clock() - baseline
        if elapsed <= dt.timedelta(days=self.max_unsynced_days):
            return None
        params = {
            "days": elapsed.days,
            "since": baseline.astimezone().strftime("%Y-%m-%d %H:%M"),
            "limit": self.max_unsynced_days,
        }
        return Problem("sync.stale" if last else "sync.stale_never", params)

    # ------------------------------------------------------------ validation

    def validate(self, request: AcceptanceRequest) -> tuple[Acceptable | None, list[Problem]]:
        """Find the item and check every field; all problems are returned, not just the first."""
        entry, problems = entry_problems(self.catalog, self.station, request.entry_code)
        a = request.applicant
        for name, value in (("applicant_id", a.id), ("phone", a.phone), ("agent_id", a.agent_id)):
            if len(value) > FIELD_LIMIT:
                problems.append(Problem("field.too_long", {"field": name, "limit": FIELD_LIMIT}))
        if len(a.id) <= FIELD_LIMIT:
            _, problem = check_applicant_id(a.type, a.id)
            if problem:
                problems.append(problem)
        name_problem = check_name(a.name, a.type)
        if name_problem:
            problems.append(name_problem)
        if len(a.phone) <= FIELD_LIMIT:
            phone_problem = check_phone(a.phone)
            if phone_problem:
                problems.append(phone_problem)
        if a.agent_name or a.agent_id:
            agent_name_problem = check_name(a.agent_name)
            if agent_name_problem:
                problems.append(agent_name_problem)
            if len(a.agent_id) <= FIELD_LIMIT:
                _, agent_problem = check_person_id(a.agent_id)
                if agent_problem:
                    problems.append(agent_problem)
        problems += identity_problems(request.identity, bool(a.agent_name or a.agent_id))
        if entry is not None:
            problems += material_problems(entry, request.presented)
        return entry, problems

    # ------------------------------------------------------------ decision

    def decide(
        self,
        request: AcceptanceRequest,
        today: dt.date,
        standing: ApplicantStanding = CLEAN_STANDING,
        approved_by: str | None = None,
        approver: StaffMember | None = None,
        validated: tuple[Acceptable | None, list[Problem]] | None = None,
    ) -> Decision:
        """Decide on a request without writing anything.

        A tolerance beyond policy needs a supervisor: ``approver`` (signed in on the spot; they
        sign the approval once the case has its number, in :meth:`commit`) or, for the local
        record only, ``approved_by`` (the hall refuses such a case without a signed approval).
        ``validated`` is what :meth:`validate` said of ``request``, when the caller asked first.
        """
        if approver is not None:
            approved_by = approver.staff_no
        entry, problems = validated if validated is not None else self.validate(request)
        if problems or entry is None:
            return Decision(Outcome.INVALID, problems, entry)
        verdict = self._assess(entry, request.presented, standing)
        state, more = accept_state(verdict, request.commitment, bool(approved_by))
        reasons = [*verdict.reasons, *more]
        if state is None:
            return Decision(Outcome.NEEDS_APPROVAL, reasons, entry, verdict)
        case, due, supplement_due = self._new_case(
            request, entry, verdict, state, reasons, today, approved_by
        )
        decision = Decision(Outcome(state.value), reasons, entry, verdict, case, due, supplement_due)
        if approver is not None and verdict.needs_supervisor and state is CaseState.ACCEPTED_TOLERATED:
            decision.approver = approver
        return decision

    def _assess(
        self, entry: Acceptable, presented: Mapping[str, MaterialStatus], standing: ApplicantStanding
    ) -> Verdict:
        """:func:`assess` under this window's policy, remembered for the same question."""
        key = (entry.code, frozenset(presented.items()), standing)
        hit = self._verdicts.get(key)
        if hit is not None and hit.entry is entry and hit.policy is self.policy:
            return hit.verdict
        verdict = assess(entry, presented, standing, self.policy)
        if len(self._verdicts) >= VERDICT_CACHE:
            self._verdicts.clear()
        self._verdicts[key] = _Cached(entry, self.policy, verdict)
        return verdict

    def _new_case(
        self,
        request: AcceptanceRequest,
        entry: Acceptable,
        verdict: Verdict,
        state: CaseState,
        reasons: Sequence[Problem],
        today: dt.date,
        approved_by: str | None,
    ) -> tuple[NewCase, DueDate | None, DueDate | None]:
        a = request.applicant
        applicant_id = normalize_id(a.id)
        due = supplement = None
        remaining = None
        material_due: dict[str, DueDate] = {}
        if state is CaseState.ACCEPTED:
            due = self.calendar.add(today, entry.promised)
        elif state is CaseState.ACCEPTED_TOLERATED:
            # The due-date clock waits for 补正; it starts with the whole promised limit.
            remaining = entry.promised.days
            for missing in verdict.missing_tolerable:
                assert missing.supplement is not None
                material_due[missing.code] = self.calendar.add(today, missing.supplement)
            supplement = min(material_due.values(), key=lambda d: d.date)
        materials = []
        for req, status in verdict.checklist:
            md = material_due.get(req.code)
            materials.append(
                # StrEnum members are str already: .value costs an enum descriptor call per
                # material, which adds up over a 50,000-row batch.
                NewMaterial(req.code, req.name, req.tolerance, status, md.date if md else None)
            )
        case = NewCase(
            station=self.station.code,
            window=self.window,
            clerk=self.clerk,
            channel=request.channel,
            item_code=entry.code,
            item_name=entry.name,
            is_package=entry.is_package,
            applicant_type=a.type,
            applicant_id=applicant_id,
            applicant_name=a.name.strip(),
            agent_name=a.agent_name.strip() or None,
            agent_id=normalize_id(a.agent_id) or None,
            phone=normalize_id(a.phone) or None,
            state=state,
            verdict=verdict.kind,
            reasons=repo.reasons_json((p.code, p.params) for p in reasons),
            commitment=request.commitment and state is CaseState.ACCEPTED_TOLERATED,
            approved_by=approved_by if state is CaseState.ACCEPTED_TOLERATED else None,
            accepted_on=today,
            due_date=due.date if due else None,
            due_provisional=bool(due and due.provisional)
            or any(d.provisional for d in material_due.values()),
            supplement_due=supplement.date if supplement else None,
            supplement_provisional=bool(supplement and supplement.provisional),
            remaining_days=remaining,
            limit_unit=entry.promised.unit,
            certificate_type=None if entry.is_package else entry.certificate_type,  # type: ignore[union-attr]
            dedupe_key=request.dedupe_key,
            content_hash=request.content_hash() if request.dedupe_key else None,
            materials=materials,
            identity=request.identity,
            assisted=request.assisted,
        )
        return case, due, supplement

    def standing_of(self, applicant_id: str) -> ApplicantStanding:
        """The applicant's record here combined with what other stations reported through
        the hall (一处失信，处处受限)."""
        key = normalize_id(applicant_id)
        return self.standings_of([key]).get(key, CLEAN_STANDING)

    def standings_of(self, applicant_ids: Sequence[str]) -> dict[str, ApplicantStanding]:
        """Records of many applicants at once (batch acceptance): this store's own record plus
        the other stations' standings pulled from the hall."""
        ids = list({normalize_id(i) for i in applicant_ids})
        with self.store.reading() as conn:
            local = repo.standings(conn, ids)
            remote = sync_repo.remote_standings(conn, ids, self.station.code)
        combined: dict[str, ApplicantStanding] = {}
        for key in local.keys() | remote.keys():
            dishonest, unfulfilled = local.get(key, (False, 0))
            other_dishonest, other_unfulfilled = remote.get(key, (False, 0))
            combined[key] = ApplicantStanding(dishonest or other_dishonest, unfulfilled + other_unfulfilled)
        return combined

    # ------------------------------------------------------------ writing

    def commit(
        self,
        decisions: Sequence[Decision],
        today: dt.date,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Write every decision that produces a case, in one transaction.

        Dedupe keys are checked inside the write lock: a key already used by an accepted case
        turns the decision into a duplicate; a key held by a 不予受理 case is released when the
        new row differs (a corrected resubmission), and is a duplicate when it is the same.
        ``before_commit``: see :meth:`offline_cache.Store.transaction`.
        """
        pending = [d for d in decisions if d.outcome in WRITTEN and d.case is not None]
        if not pending:
            return
        with self.store.transaction(self.clerk, before_commit) as unit:
            # Checked inside the write lock, with the same clock as the decision's write.
            stale = self.staleness(unit.conn)
            if stale is not None:
                raise DomainError(stale)
            keys = [d.case.dedupe_key for d in pending if d.case and d.case.dedupe_key]
            existing = repo.find_dedupe(unit.conn, keys) if keys else {}
            to_write, superseded = apply_dedupe(pending, existing, set())
            for hit_case_no, key in superseded:
                repo.release_dedupe(unit, hit_case_no)
                unit.audit("case.resubmitted", hit_case_no, {"dedupe_key": key})
            if not to_write:
                return
            numbers = repo.allocate_sequences(unit, self.station.code, today, len(to_write))
            cases = []
            tolerated = []
            for decision, number in zip(to_write, numbers, strict=True):
                case = decision.case
                assert case is not None
                case.case_no = repo.case_number(self.station.code, today, number)
                cases.append(case)
                unit.audit(
                    f"case.{case.state}",
                    case.case_no,
                    {
                        "item": case.item_code,
                        "verdict": case.verdict,
                        "approved_by": case.approved_by,
                    },
                )
                unit.enqueue("case.accept", case.case_no, self._accept_payload(decision, case))
                if case.state == CaseState.ACCEPTED_TOLERATED:
                    tolerated.append((case.applicant_id, case.applicant_type, case.applicant_name))
            repo.insert_cases(unit, cases)
            write_identities(unit, cases)
            repo.add_open_commitments(unit, tolerated)

    def _accept_payload(self, decision: Decision, case: NewCase) -> dict[str, object]:
        payload = accept_payload(case)
        if decision.approver is not None:
            assert case.case_no is not None
            approval = decision.approver.approve(ApprovalAct.TOLERATE, case.case_no, self.clock())
            payload["approval"] = approval.to_dict()
        return payload

    def preview_duplicates(self, decisions: Sequence[Decision], seen: set[str]) -> None:
        """Mark the decisions a real run would find to be duplicates (dry runs write nothing)."""
        pending = [d for d in decisions if d.outcome in WRITTEN and d.case is not None]
        keys = [d.case.dedupe_key for d in pending if d.case and d.case.dedupe_key]
        with self.store.reading() as conn:
            existing = repo.find_dedupe(conn, keys) if keys else {}
        apply_dedupe(pending, existing, seen)

    def accept(
        self,
        request: AcceptanceRequest,
        today: dt.date,
        approved_by: str | None = None,
        approver: StaffMember | None = None,
    ) -> Decision:
        """Decide and, where a case results, write it: the counter's single-case path."""
        standing = self.standing_of(request.applicant.id)
        decision = self.decide(request, today, standing, approved_by, approver)
        self.commit([decision], today)
        return decision


def require_entry(catalog: Catalog, code: str) -> Acceptable:
    """The item or package ``code``, or a :class:`DomainError`."""
    entry = catalog.get(code)
    if entry is None:
        raise DomainError.of("item.unknown", code=code)
    return entry
