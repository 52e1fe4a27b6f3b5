"""The checks a pushed operation must pass before it is kept (its structure and who sends it).

Each check raises :class:`Refusal` with a :data:`models.problems.MESSAGES` code and the Chinese
reason staff will see. Whether a kept operation takes effect is not decided here but by the fold
(:mod:`hall_server.domain.fold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hall_server.domain.auth import Principal
from hall_server.domain.fold import FoldOp
from hall_server.domain.operations import Incoming
from hall_server.storage import CaseRecord
from models.enums import CaseState
from models.problems import Problem
from models.state_machine import EVENT_ZH, STATE_ZH, TRANSITIONS, CaseEvent

ACCEPT_STATES = frozenset(
    {CaseState.ACCEPTED.value, CaseState.ACCEPTED_TOLERATED.value, CaseState.NOT_ACCEPTED.value}
)
STATES = frozenset(state.value for state in CaseState)
EVENTS = frozenset(event.value for event in CaseEvent)
# The table with plain string keys: lookups stay cheap on the hot path (no enum construction).
_TRANSITIONS: dict[tuple[str, str], str] = {(s.value, e.value): t.value for (s, e), t in TRANSITIONS.items()}
# A partial 补正 happens only while a tolerated case waits for its materials.
PARTIAL_SUPPLEMENT_FROM = CaseState.ACCEPTED_TOLERATED
PARTIAL_SUPPLEMENT = "partial_supplement"


class Refusal(Exception):
    """An operation the server will not keep: a problem code and its Chinese reason."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.reason = Problem(code, params).zh()


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if isinstance(value, str) and value and not value.isspace():
        return value
    raise Refusal("op.invalid", field=name)


def _member(allowed: frozenset[str], value: Any, name: str) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    raise Refusal("op.invalid", field=name)


def case_no_of(op: Incoming) -> str:
    """The case an operation is about (``case_no`` and ``payload.case_no`` must agree)."""
    payload_no = op.payload.get("case_no")
    case_no = op.case_no or payload_no
    if not isinstance(case_no, str) or not case_no or (payload_no is not None and payload_no != case_no):
        raise Refusal("op.invalid", field="case_no")
    return case_no


def check_owner(principal: Principal, case: CaseRecord) -> None:
    """Only the station that accepted a case, or the back office, may change it."""
    if not principal.back_office and case.station != principal.station:
        raise Refusal(
            "auth.forbidden",
            why=f"办件{case.case_no}由站点{case.station}受理，只能由该站点或后台变更",
            why_en=f"case {case.case_no} belongs to station {case.station}",
        )


def accepted_case(op: Incoming, case_no: str, principal: Principal, received_at: str) -> dict[str, Any]:
    """The ``cases`` row a ``case.accept`` creates (the caller checks the number is free)."""
    payload = op.payload
    state = _member(ACCEPT_STATES, payload.get("state"), "state")
    station = _text(payload, "station")
    if not principal.back_office and station != principal.station:
        raise Refusal(
            "auth.forbidden",
            why=f"不能为其他站点（{station}）受理办件",
            why_en=f"cannot accept a case for station {station}",
        )
    return {
        "case_no": case_no,
        "station": station,
        "item_code": _text(payload, "item_code"),
        "applicant_type": _text(payload, "applicant_type"),
        "applicant_id": _text(payload, "applicant_id"),
        "applicant_name": _text(payload, "applicant_name"),
        "accept_state": state,
        "state": state,
        "version": 0,
        "accepted_on": _text(payload, "accepted_on"),
        "accept_op_id": op.op_id,
        "created_at": op.created_at,
        "received_at": received_at,
        "updated_at": received_at,
    }


def transition(
    op: Incoming,
    case_no: str,
    seq: int,
    case: CaseRecord | None,
    principal: Principal,
) -> FoldOp:
    """A ``case.transition`` as the fold sees it, once its structure and sender are checked.

    Whether a station may terminate or decide the case is checked afterwards
    (:mod:`hall_server.domain.vetting`).
    """
    payload = op.payload
    event, from_state, to_state = payload.get("event"), payload.get("from"), payload.get("to")
    # One lookup checks all three when the transition is a row of the table (the usual case);
    # anything else is checked field by field, so the refusal names what is wrong.
    if type(event) is not str or type(from_state) is not str or _TRANSITIONS.get((from_state, event)) is None:
        event = _member(EVENTS, event, "event")
        from_state = _member(STATES, from_state, "from")
    if to_state is None or _TRANSITIONS.get((from_state, event)) != to_state:
        to_state = _member(STATES, to_state, "to")
        raise Refusal(
            "case.illegal_transition",
            case_no=case_no,
            state=STATE_ZH[CaseState(from_state)],
            event=EVENT_ZH[CaseEvent(event)],
            state_code=from_state,
            event_code=event,
        )
    if case is None:
        raise Refusal("case.unknown", case_no=case_no)
    check_owner(principal, case)
    return FoldOp(op.op_id, seq, from_state, event, to_state)


def partial_supplement(
    op: Incoming, case_no: str, seq: int, case: CaseRecord | None, principal: Principal
) -> FoldOp:
    """A ``case.partial_supplement`` (no state change; ``from`` defaults to 容缺受理)."""
    from_state = _member(STATES, op.payload.get("from", PARTIAL_SUPPLEMENT_FROM.value), "from")
    if from_state != PARTIAL_SUPPLEMENT_FROM.value:
        raise Refusal(
            "case.illegal_transition",
            case_no=case_no,
            state=STATE_ZH[CaseState(from_state)],
            event=EVENT_ZH[CaseEvent.SUPPLEMENT],
            state_code=from_state,
            event_code=PARTIAL_SUPPLEMENT,
        )
    if case is None:
        raise Refusal("case.unknown", case_no=case_no)
    check_owner(principal, case)
    return FoldOp(op.op_id, seq, from_state)
