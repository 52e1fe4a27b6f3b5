"""What a station must prove before the hall believes its termination or decision (issue 10).

A station's operation is a claim. For the claims that hurt someone else when they are false,
the hall checks what it can instead of believing them:

- **终止 (terminate)** makes the applicant's 容缺 commitment count as unfulfilled at every
  station (一处失信，处处受限), so it is applied only when

  - the payload carries a signed supervisor approval (:class:`models.approval.Approval` of
    :attr:`~models.approval.ApprovalAct.TERMINATE` on the case, at the case's station) that
    :func:`hall_server.domain.approvals.approver_of` accepts. The name in ``approved_by`` proves nothing
    and is ignored; the verified approver is recorded (``operation_approvals``). A supervisor's
    own *token* is not enough: the outbox a supervisor's sync pushes may hold operations a clerk
    made offline, so the token says who synced, not who decided; or
  - the reason is ``supplement.late`` and the hall's own facts show the 补正 was late: the case
    was accepted 容缺, no full 补正 is on record, some material the accept listed as missing
    has not come in a partial 补正, the termination's date is not after the hall's date
    (China time), and it is after the deadline. The deadline is the later of the one the accept
    claimed and one the hall derives from its catalogue and holiday arrangements (the earliest
    deadline any station's calendar could give: :meth:`models.workdays.WorkdayCalendar.due_range`),
    so a station that backdates the deadline gains nothing. ``supplement.nonconforming`` is a
    judgement of the materials, so it needs the signature like any other termination.

- **办结 (approve / refuse)** of a 承诺件 is the back office's decision; a station may finish
  only a 即办件 (per the catalogue in force) at the counter.

The back office (the hall's own CLI) is trusted and not vetted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy import Connection

from hall_server import storage
from hall_server.domain import reference
from hall_server.domain.approvals import approver_of
from hall_server.domain.auth import Principal
from hall_server.domain.fold import FoldOp
from hall_server.domain.operations import Incoming
from hall_server.domain.rules import Refusal
from hall_server.storage import CaseRecord
from models.approval import Approval, ApprovalAct
from models.catalog import Catalog
from models.enums import CaseState, ItemKind
from models.state_machine import EVENT_ZH, CaseEvent
from models.sync import OperationKind
from models.workdays import WorkdayCalendar

LATE = "supplement.late"
CHINA = dt.timezone(dt.timedelta(hours=8))  # stations date their operations in China time
_TERMINATE, _SUPPLEMENT = CaseEvent.TERMINATE.value, CaseEvent.SUPPLEMENT.value
DECISIONS = frozenset({CaseEvent.APPROVE.value, CaseEvent.REFUSE.value})
VETTED = DECISIONS | {_TERMINATE}
_PARTIAL = OperationKind.CASE_PARTIAL_SUPPLEMENT.value
_TRANSITION = OperationKind.CASE_TRANSITION


@dataclass(slots=True)
class CaseFacts:
    """What the hall knows of a case that a termination or decision is checked against."""

    item_code: str
    accepted_on: str
    accept_payload: str  # the accept operation's payload (JSON), read only for a termination
    received: set[str] = field(default_factory=set)  # materials a kept partial 补正 brought
    supplemented: bool = False  # a kept full 补正 (the case left 容缺受理 the rules' way)

    def accept(self) -> Mapping[str, Any]:
        """The accept operation's payload."""
        loaded = json.loads(self.accept_payload)
        return loaded if isinstance(loaded, dict) else {}


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class Vetting:
    """The checks of one batch from a station (see the module text); a no-op for the back office."""

    def __init__(self, conn: Connection, principal: Principal, now: dt.datetime, catalog: Catalog) -> None:
        self.conn = conn
        self.principal = principal
        self.today = now.astimezone(CHINA).date()
        self._catalog_file = catalog
        self._catalog: Catalog | None = None
        self._calendar: WorkdayCalendar | None = None
        self.facts: dict[str, CaseFacts] = {}
        self.approved_by: dict[str, str] = {}  # op id -> the verified approver
        self.rows: list[dict[str, Any]] = []  # operation_approvals to insert

    @property
    def catalog(self) -> Catalog:
        """The catalogue in force (read once per batch, when a check needs it)."""
        if self._catalog is None:
            self._catalog = reference.catalog_in_force(self.conn, self._catalog_file)
        return self._catalog

    @property
    def calendar(self) -> WorkdayCalendar:
        """The hall's holiday arrangements in force (read once per batch, when needed)."""
        if self._calendar is None:
            self._calendar = reference.calendar_in_force(self.conn)
        return self._calendar

    # ------------------------------------------------------------ facts

    def load(self, operations: Sequence[Incoming], stored: Iterable[str]) -> None:
        """Read the facts of the stored cases this batch's vetted operations are about."""
        if self.principal.back_office:
            return
        events: dict[str, set[Any]] = {}
        for op in operations:
            name = op.case_no or op.payload.get("case_no")
            if op.kind is _TRANSITION and isinstance(name, str):
                events.setdefault(name, set()).add(op.payload.get("event"))
        names = sorted(name for name in set(stored) & set(events) if events[name] & VETTED)
        if names:
            self.facts.update(case_facts(self.conn, names))
            # What came in 补正 matters only to a termination.
            ending = [name for name in names if _TERMINATE in events[name]]
            if ending:
                supplements_on_record(self.conn, self.facts, ending)

    def accepted(self, case_no: str, case: Mapping[str, Any], op: Incoming) -> None:
        """A case accepted earlier in this batch."""
        self.facts[case_no] = CaseFacts(case["item_code"], case["accepted_on"], op.payload_json)

    def kept(self, case_no: str, op: Incoming, fold_op: FoldOp) -> None:
        """A kept operation of this batch: a 补正 changes what a later termination may claim."""
        facts = self.facts.get(case_no)
        if facts is None:
            return
        if op.kind.value == _PARTIAL:
            facts.received.update(code for code in op.payload.get("received") or () if isinstance(code, str))
        elif fold_op.event == _SUPPLEMENT:
            facts.supplemented = True

    def approver(self, op_id: str, event: str | None, new: bool) -> str | None:
        """The verified approver of a termination of this batch (``new``) or a stored one."""
        if new or event != _TERMINATE:
            return self.approved_by.get(op_id)
        return storage.approvers_of(self.conn, [op_id]).get(op_id)

    # ------------------------------------------------------------ checks

    def check(self, op: Incoming, case: CaseRecord, event: str | None) -> None:
        """Raise :class:`Refusal` unless a station may do ``event`` to ``case`` as ``op`` says."""
        if self.principal.back_office:
            return
        if event == _TERMINATE:
            self._termination(op, case)
        elif event in DECISIONS:
            self._decision(case, event)

    def _decision(self, case: CaseRecord, event: str) -> None:
        facts = self.facts.get(case.case_no)
        entry = self.catalog.get(facts.item_code) if facts else None
        if entry is None or entry.kind is not ItemKind.INSTANT:
            raise Refusal(
                "case.back_office_only",
                case_no=case.case_no,
                event=EVENT_ZH[CaseEvent(event)],
                event_code=event,
            )

    def _termination(self, op: Incoming, case: CaseRecord) -> None:
        payload = op.payload
        data = payload.get("approval")
        if data is not None:
            staff_no = approver_of(self.conn, data, ApprovalAct.TERMINATE, case.case_no, case.station)
            approval = Approval.from_dict(data)
            if staff_no is not None and approval is not None:
                self._record(op.op_id, staff_no, approval)
                return
        if payload.get("reason") == LATE:
            self._late(op, case)
            return
        raise Refusal("case.needs_supervisor", case_no=case.case_no)

    def _record(self, op_id: str, staff_no: str, approval: Approval) -> None:
        self.approved_by[op_id] = staff_no
        self.rows.append(
            {
                "op_id": op_id,
                "approved_by": staff_no,
                "act": approval.act,
                "key_id": approval.key_id,
                "signed_at": approval.at,
            }
        )

    def _late(self, op: Incoming, case: CaseRecord) -> None:
        """A termination the 容缺 rules decide: the hall must see for itself that 补正 is late."""
        on = _date(op.payload.get("on"))
        if on is None:
            raise Refusal("op.invalid", field="on")
        facts = self.facts.get(case.case_no)
        if case.accept_state != CaseState.ACCEPTED_TOLERATED or facts is None:
            _not_overdue(case, "该办件不是容缺受理件", "the case was not accepted with tolerance")
        if on > self.today:
            _not_overdue(
                case,
                f"终止日期{on}晚于大厅当前日期{self.today}",
                f"the termination is dated {on}, after the hall's date {self.today}",
            )
        if facts.supplemented:
            _not_overdue(case, "大厅已有该办件的补正记录", "the hall has a 补正 on record")
        due = self._deadline(case, facts)
        if on <= due:
            _not_overdue(
                case,
                f"补正期限{due}尚未届满（终止日期{on}）",
                f"the 补正 deadline {due} had not passed on {on}",
            )

    def _deadline(self, case: CaseRecord, facts: CaseFacts) -> dt.date:
        """The earliest date the outstanding materials can be late after (see the module text)."""
        entry = self.catalog.get(facts.item_code)
        if entry is None:
            _not_overdue(
                case,
                f"大厅目录中没有事项{facts.item_code}，无法核对补正期限",
                f"item {facts.item_code} is not in the hall's catalogue",
            )
        accept = facts.accept()
        missing = {
            pair[0]
            for pair in accept.get("materials") or ()
            if isinstance(pair, list) and len(pair) == 2 and pair[1] == "missing"
        }
        accepted_on = _date(facts.accepted_on)
        limits = [
            m.supplement.capped(entry.promised)
            for m in entry.materials
            if m.code in missing and m.code not in facts.received and m.supplement is not None
        ]
        if not limits or accepted_on is None:
            _not_overdue(case, "没有待补正的容缺材料", "no tolerated material is outstanding")
        derived = min(self.calendar.due_range(accepted_on, limit)[0] for limit in limits)
        claimed = _date(accept.get("supplement_due"))
        return max(derived, claimed) if claimed else derived


def _not_overdue(case: CaseRecord, why: str, why_en: str) -> NoReturn:
    raise Refusal("case.not_overdue", case_no=case.case_no, why=why, why_en=why_en)


# ------------------------------------------------------------------ stored facts


def case_facts(conn: Connection, case_nos: Sequence[str]) -> dict[str, CaseFacts]:
    """The facts of the stored cases among ``case_nos`` (with their accept operation's payload)."""
    return {row[0]: CaseFacts(row[1], row[2], row[3]) for row in storage.accept_facts(conn, case_nos)}


def supplements_on_record(conn: Connection, facts: Mapping[str, CaseFacts], case_nos: Sequence[str]) -> None:
    """Add the kept 补正 operations (partial and full) of ``case_nos`` to their facts."""
    for case_no, kind, event, payload in storage.supplement_operations(conn, case_nos, _PARTIAL, _SUPPLEMENT):
        found = facts.get(case_no)
        if found is None:
            continue
        if kind == _PARTIAL:
            received = json.loads(payload).get("received") or ()
            found.received.update(code for code in received if isinstance(code, str))
        elif event == _SUPPLEMENT:
            found.supplemented = True
