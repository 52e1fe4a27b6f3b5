"""Builders of outbox operations in the exact shapes the client enqueues (acceptance.py, cases.py)."""

from __future__ import annotations

import functools
import itertools
from typing import Any

from models.approval import ApprovalAct, derive_approval_key, sign_approval
from models.enums import CaseState
from models.seal import KeyPair
from models.state_machine import TRANSITIONS, CaseEvent

_counter = itertools.count(1)
# A 即办件 (个体工商户设立登记): a station may finish it at the counter; the default item
# (SCJG-001) is a 承诺件, decided only by the back office.
INSTANT = {"item_code": "SCJG-007"}
SIGNED_AT = "2026-11-20T02:00:00+00:00"


@functools.cache
def _approval_key(staff_no: str, password: str) -> KeyPair:
    return derive_approval_key(staff_no, password)


def signed(case_no: str, staff_no: str = "S001", password: str = "demo-5678", **over: str) -> dict[str, str]:
    """A supervisor's signed approval of terminating ``case_no`` at GXZX (``payload["approval"]``),
    as the counter makes it; ``over`` replaces ``act``, ``subject`` or ``station``."""
    fields = {"act": ApprovalAct.TERMINATE, "subject": case_no, "station": "GXZX", **over}
    key = _approval_key(staff_no, password)
    return sign_approval(key, fields["act"], fields["subject"], fields["station"], SIGNED_AT).to_dict()


def new_op_id() -> str:
    """A fresh operation id."""
    return f"op-{next(_counter):010d}"


def accept(
    case_no: str,
    *,
    station: str = "GXZX",
    state: str = "accepted",
    applicant_id: str = "610113199003077777",
    op_id: str | None = None,
    created_at: str = "2026-11-20T09:15:00+08:00",
    **fields: Any,
) -> dict[str, Any]:
    """A ``case.accept`` operation (the body of window_client.services.acceptance._accept_payload);
    ``fields`` replace payload fields (e.g. ``item_code``, ``supplement_due``, ``materials``)."""
    payload = {
        "case_no": case_no,
        "station": station,
        "window": "W01",
        "clerk": "C001",
        "channel": "window",
        "item_code": "SCJG-001",
        "applicant_type": "person",
        "applicant_id": applicant_id,
        "applicant_name": "张三",
        "agent_id": None,
        "state": state,
        "verdict": "tolerable" if state == "accepted_tolerated" else "complete",
        "approved_by": None,
        "accepted_on": "2026-11-20",
        "due_date": "2026-12-04",
        "supplement_due": "2026-11-27" if state == "accepted_tolerated" else None,
        "materials": [
            ["ID_CARD", "presented"],
            ["LEASE", "missing" if state == "accepted_tolerated" else "presented"],
        ],
        **fields,
    }
    return {
        "op_id": op_id or new_op_id(),
        "seq": 1,
        "kind": "case.accept",
        "case_no": case_no,
        "payload": payload,
        "created_at": created_at,
    }


def transition(
    case_no: str,
    event: str,
    frm: str,
    to: str | None = None,
    *,
    op_id: str | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """A ``case.transition`` operation (window_client.services.cases._transition); ``to`` from the table."""
    target = to if to is not None else TRANSITIONS[(CaseState(frm), CaseEvent(event))].value
    return {
        "op_id": op_id or new_op_id(),
        "seq": 2,
        "kind": "case.transition",
        "case_no": case_no,
        "payload": {
            "case_no": case_no,
            "event": event,
            "from": frm,
            "to": target,
            "on": "2026-11-21",
            **detail,
        },
        "created_at": "2026-11-21T10:00:00+08:00",
    }


def partial(case_no: str, received: list[str] | None = None, *, op_id: str | None = None) -> dict[str, Any]:
    """A ``case.partial_supplement`` operation."""
    return {
        "op_id": op_id or new_op_id(),
        "seq": 3,
        "kind": "case.partial_supplement",
        "case_no": case_no,
        "payload": {"case_no": case_no, "received": received or ["LEASE"], "on": "2026-11-22"},
        "created_at": "2026-11-22T10:00:00+08:00",
    }
