"""Builders of outbox operations in the exact shapes the client enqueues (acceptance.py, cases.py).

Accepts are valid as the counter would make them (the hall checks them with the same rules).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import uuid
from typing import Any

from stdnum.cn import ric

from hall_server.domain.reference import SHIPPED_CATALOG, load_catalog
from models.approval import ApprovalAct, derive_approval_key, sign_approval
from models.catalog import catalog_from_dict
from models.enums import CaseState
from models.seal import KeyPair
from models.state_machine import TRANSITIONS, CaseEvent
from window_client.services.workdays import WorkdayCalendar, shipped_arrangements

_counter = itertools.count(1)
# A 即办件 (个体工商户设立登记): a station may finish it at the counter; the default item
# (SCJG-001) is a 承诺件, decided only by the back office.
INSTANT = {"item_code": "SCJG-007"}
PARK_INSTANT = {"item_code": "SW-001"}  # a 即办件 park stations (JHYZ1) accept too
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


CATALOG = catalog_from_dict(load_catalog(SHIPPED_CATALOG))
CALENDAR = WorkdayCalendar.from_arrangements(shipped_arrangements())
ITEM = "SCJG-001"  # accepted at every station; LEASE is tolerable, ID_CARD core


def person_id(first17: str) -> str:
    """A resident ID number with its GB 11643 check character."""
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum ignores the last character


def fresh_person_id() -> str:
    """A valid resident ID number nobody else in the test run uses (a clean standing)."""
    n = uuid.uuid4().int
    born = dt.date(1950, 1, 1) + dt.timedelta(days=n % 20000)
    return person_id(f"610113{born:%Y%m%d}{n // 20000 % 1000:03d}")


APPLICANT_ID = person_id("61011319900313777")  # 610113199003137777


def accept_payload(
    case_no: str,
    *,
    station: str = "GXZX",
    state: str = "accepted",
    applicant_id: str = APPLICANT_ID,
    item_code: str = ITEM,
    missing: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The body window_client.services.acceptance_write.accept_payload writes for this case (as a
    counter older than the identity check wrote it, without its optional fields): every
    material presented, but LEASE missing when tolerated and ID_CARD when not accepted;
    deadlines as the counter counts them from the case number's date."""
    day = _day_of(case_no)
    if missing is None:
        missing = {"accepted_tolerated": ("LEASE",), "not_accepted": ("ID_CARD",)}.get(state, ())
    entry = CATALOG.get(item_code)
    assert entry is not None
    due = CALENDAR.add(day, entry.promised).date if state == "accepted" else None
    supplement = None
    if state == "accepted_tolerated":
        limits = [m.supplement for m in entry.materials if m.code in missing and m.supplement]
        supplement = min(CALENDAR.add(day, limit).date for limit in limits)
    verdict = {"accepted": "complete", "accepted_tolerated": "tolerable"}.get(state, "not_acceptable")
    return {
        "case_no": case_no,
        "station": station,
        "window": "W01",
        "clerk": "C001",
        "channel": "window",
        "item_code": item_code,
        "applicant_type": "person",
        "applicant_id": applicant_id,
        "applicant_name": "张三",
        "agent_id": None,
        "state": state,
        "verdict": verdict,
        "approved_by": None,
        "accepted_on": day.isoformat(),
        "due_date": due.isoformat() if due else None,
        "supplement_due": supplement.isoformat() if supplement else None,
        "materials": [[m.code, "missing" if m.code in missing else "presented"] for m in entry.materials],
    }


def _day_of(case_no: str) -> dt.date:
    """The date inside a case number (2026-11-20 when it has none)."""
    parts = case_no.rsplit("-", 2)
    try:
        return dt.datetime.strptime(parts[1], "%Y%m%d").date()
    except (IndexError, ValueError):
        return dt.date(2026, 11, 20)


def accept(
    case_no: str,
    *,
    station: str = "GXZX",
    state: str = "accepted",
    applicant_id: str = APPLICANT_ID,
    op_id: str | None = None,
    created_at: str = "2026-11-20T09:15:00+08:00",
    item_code: str = ITEM,
    missing: tuple[str, ...] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """A ``case.accept`` operation as the client enqueues it (``item_code`` with ``missing``
    materials; see :func:`accept_payload`); ``changes`` replace payload fields."""
    known = CATALOG.get(item_code) is not None  # an unknown code: the default item's body, renamed
    payload = accept_payload(
        case_no,
        station=station,
        state=state,
        applicant_id=applicant_id,
        item_code=item_code if known else ITEM,
        missing=missing,
    )
    payload["item_code"] = item_code
    payload.update(changes)
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
