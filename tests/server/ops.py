"""Builders of outbox operations in the exact shapes the client enqueues (acceptance.py, cases.py)."""

from __future__ import annotations

import itertools
from typing import Any

from models.enums import CaseState
from models.state_machine import TRANSITIONS, CaseEvent

_counter = itertools.count(1)


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
) -> dict[str, Any]:
    """A ``case.accept`` operation (the body of window_client.services.acceptance._accept_payload)."""
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
