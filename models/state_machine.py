"""The case state machine: one table of legal transitions."""

from __future__ import annotations

from enum import StrEnum

from models.enums import CaseState
from models.problems import DomainError


class CaseEvent(StrEnum):
    """Things that happen to a case."""

    SUPPLEMENT = "supplement"  # 补齐: tolerated materials received in time
    TERMINATE = "terminate"  # 终止: 补正 late or non-conforming
    APPROVE = "approve"  # 办结 (准予)
    REFUSE = "refuse"  # 办结 (不予许可)
    ISSUE_CERTIFICATE = "issue_certificate"  # 出证
    DELIVER = "deliver"  # 领取 / 寄递
    WITHDRAW = "withdraw"  # 撤回


S, E = CaseState, CaseEvent

TRANSITIONS: dict[tuple[CaseState, CaseEvent], CaseState] = {
    (S.ACCEPTED, E.APPROVE): S.APPROVED,
    (S.ACCEPTED, E.REFUSE): S.REFUSED,
    (S.ACCEPTED, E.WITHDRAW): S.WITHDRAWN,
    (S.ACCEPTED_TOLERATED, E.SUPPLEMENT): S.SUPPLEMENTED,
    (S.ACCEPTED_TOLERATED, E.TERMINATE): S.TERMINATED,
    (S.ACCEPTED_TOLERATED, E.WITHDRAW): S.WITHDRAWN,
    (S.SUPPLEMENTED, E.APPROVE): S.APPROVED,
    (S.SUPPLEMENTED, E.REFUSE): S.REFUSED,
    (S.SUPPLEMENTED, E.WITHDRAW): S.WITHDRAWN,
    (S.APPROVED, E.ISSUE_CERTIFICATE): S.CERTIFICATE_ISSUED,
    (S.APPROVED, E.DELIVER): S.DELIVERED,  # results that are not certificates (e.g. a 批复)
    (S.CERTIFICATE_ISSUED, E.DELIVER): S.DELIVERED,
}

STATE_ZH: dict[CaseState, str] = {
    S.ACCEPTED: "已受理",
    S.ACCEPTED_TOLERATED: "容缺受理",
    S.NOT_ACCEPTED: "不予受理",
    S.SUPPLEMENTED: "已补齐",
    S.APPROVED: "办结（准予）",
    S.REFUSED: "办结（不予许可）",
    S.CERTIFICATE_ISSUED: "已出证",
    S.DELIVERED: "已领取",
    S.TERMINATED: "已终止",
    S.WITHDRAWN: "已撤回",
}

EVENT_ZH: dict[CaseEvent, str] = {
    E.SUPPLEMENT: "补正",
    E.TERMINATE: "终止",
    E.APPROVE: "办结（准予）",
    E.REFUSE: "办结（不予许可）",
    E.ISSUE_CERTIFICATE: "出证",
    E.DELIVER: "领取",
    E.WITHDRAW: "撤回",
}

TERMINAL = frozenset({S.NOT_ACCEPTED, S.REFUSED, S.DELIVERED, S.TERMINATED, S.WITHDRAWN})


def next_state(case_no: str, state: CaseState, event: CaseEvent) -> CaseState:
    """The state after ``event``; a :class:`DomainError` when the table does not allow it."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise DomainError.of(
            "case.illegal_transition",
            case_no=case_no,
            state=STATE_ZH[state],
            event=EVENT_ZH[event],
            state_code=state.value,
            event_code=event.value,
        ) from None
