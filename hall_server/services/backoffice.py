"""The back office: case lists, one case with its operations, and decisions (审批 办结).

A decision is an ordinary ``case.transition`` operation with origin ``back-office`` and a
server-generated op id, applied through the same batch code as a pushed operation, so it takes
part in the same fold (a withdrawal pushed later by the station still wins over an approval).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from hall_server import storage
from hall_server.domain.auth import BACK_OFFICE, Principal
from hall_server.services.answers import Result
from hall_server.services.batch import apply_batch
from hall_server.services.notify import view as notify_view
from hall_server.services.timeliness import TimelinessDesk
from hall_server.storage import read_transaction, write_transaction
from hall_server.storage import supervision as supervision_rows
from models.enums import CaseState
from models.identity import mask_id
from models.state_machine import TRANSITIONS, CaseEvent
from models.sync import Operation, OperationKind, TransitionPayload

DECISIONS = (CaseEvent.APPROVE, CaseEvent.REFUSE)


class BackOfficeError(Exception):
    """A decision that cannot be made; ``exit_code`` follows DESIGN.md §6 (1 refused, 2 bad input)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _case_view(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_no": case["case_no"],
        "state": case["state"],
        "station": case["station"],
        "item_code": case["item_code"],
        "applicant_id_masked": mask_id(case["applicant_id"]),
        "accepted_on": case["accepted_on"],
        "updated_at": case["updated_at"],
        "version": case["version"],
        "conflicts": case.get("conflicts", []),
    }


def list_cases(engine: Engine, station: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
    """The server's cases (newest first) with their lost operations."""
    with read_transaction(engine) as conn:
        return [_case_view(case) for case in storage.list_cases(conn, station, state)]


def show_case(engine: Engine, case_no: str) -> dict[str, Any] | None:
    """One case with every operation received for it (lost and refused ones included)."""
    with read_transaction(engine) as conn:
        case = storage.get_case(conn, case_no)
        if case is None:
            return None
        operations = storage.operations_of_case(conn, case_no)
        approvers = storage.approvers_of(conn, [op.op_id for op in operations])
        identity = storage.identity_of(conn, case_no)
    view = _case_view(case)
    view["accept_state"] = case["accept_state"]
    view["identity"] = identity  # how the applicant was identified (None: an older counter)
    view["applicant_name"] = case["applicant_name"]
    view["operations"] = [
        {
            "server_seq": op.server_seq,
            "op_id": op.op_id,
            "kind": op.kind,
            "event": op.event,
            "from": op.from_state,
            "to": op.to_state,
            "station": op.station,
            "staff_no": op.staff_no,
            "approved_by": approvers.get(op.op_id),  # verified from a signed approval, or None
            "origin": op.origin,
            "fold": op.fold,
            "answer": op.status,
            "code": op.code,
            "reason": op.reason,
            "winner_op_id": op.winner_op_id,
            "winner_event": op.winner_event,
            "created_at": op.created_at,
            "received_at": op.received_at,
            "payload": json.loads(op.payload),
        }
        for op in operations
    ]
    view.update(_supervision(engine, case_no))
    view["conflicts"] = [
        {
            "op_id": op.op_id,
            "event": op.event,
            "station": op.station,
            "winner_op_id": op.winner_op_id,
            "winner_event": op.winner_event,
        }
        for op in operations
        if op.fold == "lost"
    ]
    return view


def _supervision(engine: Engine, case_no: str) -> dict[str, Any]:
    """The case's timeliness (None when no decision is pending), its 首办负责人 assignments and
    the hall's reminders about it (提醒记录)."""
    found = TimelinessDesk(engine).of_case(case_no)
    timeliness = found["timeliness"] if found else None
    with read_transaction(engine) as conn:
        reminders = [notify_view(row) for row in supervision_rows.notifications(conn, None, case_no)]
    return {
        "timeliness": timeliness,
        "handler": timeliness["handler"] if timeliness else None,
        "assignments": found["assignments"] if found else [],
        "notifications": reminders,
    }


@dataclass(frozen=True, slots=True)
class Decision:
    """What a decision did."""

    case_no: str
    op_id: str
    event: CaseEvent
    state: str
    result: Result


def decide(
    engine: Engine,
    case_no: str,
    event: CaseEvent,
    by: str,
    reason: str | None,
    now: dt.datetime | None = None,
) -> Decision:
    """Record a back-office decision on ``case_no`` through the fold.

    Raises :class:`BackOfficeError`: exit code 2 for an unknown case or a decision that is not
    approve/refuse, 1 when the case's state does not allow it.
    """
    if event not in DECISIONS:
        raise BackOfficeError(f"the back office decides approve or refuse, not {event.value}", 2)
    now = now or dt.datetime.now(dt.UTC)
    with write_transaction(engine) as conn:
        case = storage.get_case(conn, case_no)
        if case is None:
            raise BackOfficeError(f"no such case on the server: {case_no}", 2)
        state = CaseState(case["state"])
        target = TRANSITIONS.get((state, event))
        if target is None:
            raise BackOfficeError(f"case {case_no} is {state.value}: '{event.value}' is not allowed", 1)
        payload = TransitionPayload(
            case_no=case_no,
            event=event,
            from_state=state,
            to_state=target,
            on=now.date(),
            by=by,
            reason=reason or None,
        ).to_payload()
        operation = Operation(
            op_id=f"bo-{uuid.uuid4().hex}",
            seq=0,
            kind=OperationKind.CASE_TRANSITION,
            case_no=case_no,
            payload=payload,
            created_at=storage.iso(now),
        )
        principal = Principal(staff_no=by, station=BACK_OFFICE, role="admin", back_office=True)
        [result] = apply_batch(conn, principal, [operation], now)
        # The station learns at once that the case left (or kept) its 承诺时限 supervision.
        TimelinessDesk(engine, clock=lambda: now).publish(conn, [case_no])
    if result.code:
        raise BackOfficeError(f"case {case_no}: the decision was refused ({result.code}): {result.reason}", 1)
    return Decision(case_no, operation.op_id, event, result.case_state or target.value, result)
