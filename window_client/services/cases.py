"""Reading cases and moving them through the state machine (补正, 终止, 办结, 撤回, …)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.approval import Approval, ApprovalAct
from models.enums import CaseState, Flag, MaterialStatus, TimeUnit
from models.identity import mask_id, mask_phone
from models.identity_check import CaseIdentity
from models.problems import DomainError, Problem
from models.records import CaseFilter, CaseView, HistoryEntry, MaterialView
from models.supplement import Outstanding, SupplementOutcome, SupplementStep, supplement_outcome
from models.timelimits import TimeLimit
from models.workdays import deadline_flag
from offline_cache import Store, identity_repo
from offline_cache import repositories as repo
from window_client.services.dayclose import DayClose, read_day_close
from window_client.services.state_machine import CaseEvent, next_state
from window_client.services.workdays import WorkdayCalendar

OPEN_FOR_DUE = frozenset({CaseState.ACCEPTED.value, CaseState.SUPPLEMENTED.value})


def compute_flag(
    state: str,
    due_date: dt.date | None,
    supplement_due: dt.date | None,
    today: dt.date,
    calendar: WorkdayCalendar,
    warning_workdays: int,
) -> Flag | None:
    """红黄绿: red when overdue, yellow when due within the warning window, else green.

    Tolerated cases are judged on their 补正 deadline, open cases on their due date; closed
    cases carry no flag.
    """
    if state == CaseState.ACCEPTED_TOLERATED:
        deadline = supplement_due
    elif state in OPEN_FOR_DUE:
        deadline = due_date
    else:
        return None
    if deadline is None:
        return None
    return deadline_flag(deadline, today, calendar, warning_workdays)


def _d(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """A case with its checklist and history."""

    case: CaseView
    materials: list[MaterialView]
    history: list[HistoryEntry]
    identity: CaseIdentity | None = None  # how the applicant was identified (None: not recorded)


class CaseService:
    """Case queries and transitions for one staff member."""

    def __init__(
        self, store: Store, calendar: WorkdayCalendar, actor: str, warning_workdays: int = 1
    ) -> None:
        self.store = store
        self.calendar = calendar
        self.actor = actor
        self.warning_workdays = warning_workdays

    # ------------------------------------------------------------ reading

    def _view(self, row: Sequence[Any], today: dt.date) -> CaseView:
        (
            case_no, item_code, item_name, station, clerk, channel, applicant_type, applicant_id,
            applicant_name, agent_name, phone, state, verdict, reasons, accepted_on, due_date,
            due_provisional, supplement_due, supplement_provisional, remaining_days, limit_unit,
            certificate_type, commitment, approved_by, synced, closed_on, closed_by,
        ) = row  # fmt: skip
        due = _d(due_date)
        sup = _d(supplement_due)
        flag = compute_flag(state, due, sup, today, self.calendar, self.warning_workdays)
        return CaseView(
            case_no=case_no,
            item_code=item_code,
            item_name=item_name,
            station=station,
            clerk=clerk,
            channel=channel,
            applicant_type=applicant_type,
            applicant_id=applicant_id,
            applicant_id_masked=mask_id(applicant_id),
            applicant_name=applicant_name,
            agent_name=agent_name,
            phone_masked=mask_phone(phone) if phone else None,
            state=state,
            verdict=verdict,
            reasons=json.loads(reasons),
            accepted_on=dt.date.fromisoformat(accepted_on),
            due_date=due,
            due_provisional=bool(due_provisional),
            supplement_due=sup,
            supplement_provisional=bool(supplement_provisional),
            remaining_days=remaining_days,
            limit_unit=limit_unit,
            certificate_type=certificate_type,
            commitment=bool(commitment),
            approved_by=approved_by,
            flag=flag.value if flag else None,
            synced=bool(synced),
            closed_on=_d(closed_on),
            closed_by=closed_by,
        )

    def view(self, row: Sequence[Any], today: dt.date) -> CaseView:
        """The read model of a raw row in ``CASE_VIEW_COLUMNS`` order (flag as of ``today``)."""
        return self._view(row, today)

    def list_cases(
        self,
        f: CaseFilter,
        today: dt.date,
        limit: int = 100,
        offset: int = 0,
        order: str = "id DESC",
    ) -> list[CaseView]:
        """One page of cases, newest first unless ``order`` says otherwise."""
        with self.store.reading() as conn:
            rows = repo.list_case_rows(conn, f, limit, offset, order)
        return [self._view(r, today) for r in rows]

    def count(self, f: CaseFilter) -> int:
        """How many cases match ``f``."""
        with self.store.reading() as conn:
            return repo.count_cases(conn, f)

    def flag_counts(self, today: dt.date) -> dict[str, int]:
        """红黄绿 counts of every open deadline."""
        yellow_until = self.calendar.add(today, TimeLimit(self.warning_workdays, TimeUnit.WORKDAY)).date
        with self.store.reading() as conn:
            return repo.flag_counts(conn, today, yellow_until)

    def state_counts(self, station: str | None = None, day: dt.date | None = None) -> dict[str, int]:
        """Cases per state (for the workbench queue and the day close)."""
        with self.store.reading() as conn:
            return repo.state_counts(conn, station, day)

    def count_in_states(self, states: Sequence[str]) -> dict[str, int]:
        """How many cases are in each of ``states`` (index ranges: cheap on a large store)."""
        with self.store.reading() as conn:
            return repo.count_by_state(conn, states)

    def day_close(self, station: str, day: dt.date, today: dt.date) -> DayClose:
        """The supervisor's 日结 of ``day`` at ``station`` (see :func:`read_day_close`)."""
        return read_day_close(self.store, self.calendar, self.warning_workdays, station, day, today)

    def get(self, case_no: str, today: dt.date) -> CaseView:
        """One case, or a :class:`DomainError`."""
        with self.store.reading() as conn:
            row = repo.get_case_row(conn, case_no)
        if row is None:
            raise DomainError.of("case.unknown", case_no=case_no)
        return self._view(row, today)

    def detail(self, case_no: str, today: dt.date) -> CaseDetail:
        """A case with its materials and history."""
        case = self.get(case_no, today)
        with self.store.reading() as conn:
            return CaseDetail(
                case,
                repo.materials_of(conn, case_no),
                repo.history_of(conn, case_no),
                identity_repo.identity_of(conn, case_no),
            )

    def reveal_id(self, case_no: str, reason: str) -> str:
        """The unmasked applicant ID; every view is audited."""
        with self.store.transaction(self.actor) as unit:
            row = repo.get_case_row(unit.conn, case_no)
            if row is None:
                raise DomainError.of("case.unknown", case_no=case_no)
            unit.audit("id.view", case_no, {"reason": reason})
            return str(row[7])

    # ------------------------------------------------------------ transitions

    def _transition(
        self,
        unit: Any,
        case: CaseView,
        event: CaseEvent,
        detail: dict[str, Any],
        **fields: Any,
    ) -> CaseState:
        new = next_state(case.case_no, CaseState(case.state), event)
        repo.update_case(unit, case.case_no, case.state, state=new.value, **fields)
        # "by" lets the hall check the actor's role against the event (e.g. 终止 needs a
        # supervisor); the older keys stay for readers of earlier payloads.
        payload = {
            "case_no": case.case_no,
            "event": event.value,
            "from": case.state,
            "to": new.value,
            "by": self.actor,
            **detail,
        }
        unit.audit(f"case.{event.value}", case.case_no, detail)
        unit.enqueue("case.transition", case.case_no, payload)
        return new

    def transition(self, case_no: str, event: CaseEvent, day: dt.date, **detail: Any) -> CaseView:
        """Apply a plain event (approve, refuse, withdraw, deliver, issue_certificate)."""
        with self.store.transaction(self.actor) as unit:
            case = self._locked(unit, case_no, day)
            if event is CaseEvent.WITHDRAW and case.state == CaseState.ACCEPTED_TOLERATED:
                # A withdrawn 容缺 case owes nothing more: its commitment closes as fulfilled, the
                # same way the hall counts it, and its ledger entry is closed (销号).
                self._transition(
                    unit, case, event, {"on": day.isoformat(), **detail}, closed_on=day, closed_by=self.actor
                )
                repo.close_commitment(unit, case.applicant_id, fulfilled=True)
            else:
                self._transition(unit, case, event, {"on": day.isoformat(), **detail})
        return self.get(case_no, day)

    def _locked(self, unit: Any, case_no: str, today: dt.date) -> CaseView:
        row = repo.get_case_row(unit.conn, case_no)
        if row is None:
            raise DomainError.of("case.unknown", case_no=case_no)
        return self._view(row, today)

    def supplement(
        self,
        case_no: str,
        received: Sequence[str],
        day: dt.date,
        conforming: bool = True,
        approval: Approval | None = None,
    ) -> tuple[CaseView, Problem | None]:
        """Receive 补正 materials.

        Late or non-conforming materials terminate the case (终止) and count as a broken
        commitment. Judging materials non-conforming is a supervisor's call: the hall applies
        that termination only with their signed ``approval`` (a late one it checks itself).
        When the last missing material arrives the case is 补齐: the tolerance entry is closed
        (销号) and the due-date clock resumes with the limit it had left.
        """
        with self.store.transaction(self.actor) as unit:
            case = self._locked(unit, case_no, day)
            outstanding = [
                Outstanding(m.code, m.name, m.supplement_due)
                for m in repo.materials_of(unit.conn, case_no)
                if m.status == MaterialStatus.MISSING and m.supplement_due
            ]
            tolerated = case.state == CaseState.ACCEPTED_TOLERATED
            outcome = supplement_outcome(tolerated, outstanding, received, day, conforming)
            if outcome.step is SupplementStep.TERMINATE:
                self._terminate_on_supplement(unit, case, day, outcome, approval)
            elif outcome.step is SupplementStep.COMPLETE:
                self._complete_supplement(unit, case, day, outcome)
            elif outcome.step is SupplementStep.PARTIAL:
                self._partial_supplement(unit, case_no, case.state, day, outcome)
            else:
                next_state(case_no, CaseState(case.state), CaseEvent.SUPPLEMENT)  # raises
            return self._locked(unit, case_no, day), outcome.problem

    def _terminate_on_supplement(
        self, unit: Any, case: CaseView, day: dt.date, outcome: SupplementOutcome, approval: Approval | None
    ) -> None:
        """Late or non-conforming 补正: 终止, the commitment broken."""
        assert outcome.problem is not None
        detail: dict[str, Any] = {"on": day.isoformat(), "reason": outcome.problem.code}
        if approval is not None and outcome.problem.code != "supplement.late":
            detail["approved_by"] = approval.by
            detail["approval"] = approval.to_dict()
        self._transition(
            unit, case, CaseEvent.TERMINATE, detail, closed_on=day, closed_by=self.actor,
        )  # fmt: skip
        repo.close_commitment(unit, case.applicant_id, fulfilled=False)

    def _complete_supplement(
        self, unit: Any, case: CaseView, day: dt.date, outcome: SupplementOutcome
    ) -> None:
        """补齐: the tolerance entry closed (销号), the clock resumes with the limit it had left."""
        codes = list(outcome.received)
        repo.mark_materials_received(unit, case.case_no, codes, day)
        due = self.calendar.add(day, TimeLimit(case.remaining_days or 0, TimeUnit(case.limit_unit)))
        self._transition(
            unit, case, CaseEvent.SUPPLEMENT, {"on": day.isoformat(), "received": codes},
            due_date=due.date, due_provisional=due.provisional, remaining_days=None,
            closed_on=day, closed_by=self.actor,
        )  # fmt: skip
        repo.close_commitment(unit, case.applicant_id, fulfilled=True)

    def _partial_supplement(
        self, unit: Any, case_no: str, state: str, day: dt.date, outcome: SupplementOutcome
    ) -> None:
        """Partial 补正: record what came; the ledger now watches the next deadline."""
        codes = list(outcome.received)
        repo.mark_materials_received(unit, case_no, codes, day)
        repo.update_case(unit, case_no, state, supplement_due=outcome.next_due)
        unit.audit("case.partial_supplement", case_no, {"on": day.isoformat(), "received": codes})
        unit.enqueue(
            "case.partial_supplement",
            case_no,
            {"case_no": case_no, "received": codes, "on": day.isoformat(), "by": self.actor},
        )

    def terminate(
        self,
        case_no: str,
        day: dt.date,
        reason: str,
        approved_by: str | None = None,
        approval: Approval | None = None,
    ) -> CaseView:
        """Terminate a tolerated case: the commitment counts as broken.

        A termination the 容缺 rules do not decide needs a supervisor's ``approval``, signed at
        the counter (:meth:`StaffMember.approve`): the hall checks the signature and ignores any
        name. ``approved_by`` (default: the approval's signer, else the actor) is the name kept on
        the local case. A late 补正 (``supplement.late``) needs no approval: the hall checks it.
        """
        if approval is not None and (approval.act, approval.subject) != (ApprovalAct.TERMINATE, case_no):
            raise ValueError(
                f"the approval is for {approval.act} on {approval.subject}, not this termination"
            )
        approver = approved_by or (approval.by if approval else self.actor)
        detail: dict[str, Any] = {"on": day.isoformat(), "reason": reason, "approved_by": approver}
        if approval is not None:
            detail["approval"] = approval.to_dict()
        with self.store.transaction(self.actor) as unit:
            case = self._locked(unit, case_no, day)
            self._transition(
                unit, case, CaseEvent.TERMINATE, detail, closed_on=day, closed_by=approver,
            )  # fmt: skip
            repo.close_commitment(unit, case.applicant_id, fulfilled=False)
        return self.get(case_no, day)

    def terminate_overdue(self, today: dt.date) -> list[str]:
        """Terminate every tolerated case whose 补正 deadline has passed; returns their numbers."""
        with self.store.reading() as conn:
            overdue = repo.overdue_tolerated(conn, today)
        done = []
        for case_no, _ in overdue:
            try:
                self.terminate(case_no, today, "supplement.late")
            except DomainError:
                continue  # changed meanwhile (e.g. supplemented): nothing to terminate
            done.append(case_no)
        return done
