"""差评整改: what the hall does with every 不满意/非常不满意, as pure rules.

Every 差评 becomes a rectification record at the hall. Its steps, in order:

1. 分派 (assign) — a supervisor of the rating's station, or an admin, names who handles it
   (a staff member of that station, or an admin); it may be assigned again until it is verified;
2. 核实 (verify) — the facts are checked, within :data:`VERIFY_LIMIT` (1 工作日) of the rating
   reaching the hall;
3. 整改 (rectify) — what was wrong is put right, within :data:`RECTIFY_LIMIT` (15 工作日);
4. 回访 (callback) — the applicant is called back and the result recorded (100% 回访), which
   closes the record; a supervisor or an admin does it.

The assignee, a supervisor of the station or an admin may verify and rectify. The deadline in
force is the verification's until it is done, then the rectification's (the call back belongs
in the same 15 工作日); it is tagged 红/黄/绿 with the 容缺台账's rule
(:func:`models.workdays.deadline_flag`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from models.enums import Flag, Role, TimeUnit
from models.problems import DomainError
from models.text import first_unsafe
from models.timelimits import TimeLimit
from models.workdays import WorkdayCalendar, deadline_flag

VERIFY_LIMIT = TimeLimit(1, TimeUnit.WORKDAY)
RECTIFY_LIMIT = TimeLimit(15, TimeUnit.WORKDAY)
NOTE_LIMIT = 500  # characters of a step's note


class RectificationState(StrEnum):
    """Where a rectification record stands."""

    OPEN = "open"  # waiting to be assigned
    ASSIGNED = "assigned"  # waiting for the verification
    VERIFIED = "verified"  # verified, being rectified
    RECTIFIED = "rectified"  # rectified, waiting for the call back
    CLOSED = "closed"  # called back


STATE_ZH: dict[str, str] = {
    RectificationState.OPEN: "待分派",
    RectificationState.ASSIGNED: "待核实",
    RectificationState.VERIFIED: "整改中",
    RectificationState.RECTIFIED: "待回访",
    RectificationState.CLOSED: "已回访办结",
}


class Step(StrEnum):
    """What staff do to a rectification record."""

    ASSIGN = "assign"
    VERIFY = "verify"
    RECTIFY = "rectify"
    CALLBACK = "callback"


STEP_ZH: dict[str, str] = {
    Step.ASSIGN: "分派",
    Step.VERIFY: "核实",
    Step.RECTIFY: "整改",
    Step.CALLBACK: "回访",
}

# (state, step) -> the state after it.
STEPS: dict[tuple[RectificationState, Step], RectificationState] = {
    (RectificationState.OPEN, Step.ASSIGN): RectificationState.ASSIGNED,
    (RectificationState.ASSIGNED, Step.ASSIGN): RectificationState.ASSIGNED,  # handed to another
    (RectificationState.ASSIGNED, Step.VERIFY): RectificationState.VERIFIED,
    (RectificationState.VERIFIED, Step.RECTIFY): RectificationState.RECTIFIED,
    (RectificationState.RECTIFIED, Step.CALLBACK): RectificationState.CLOSED,
}
SUPERVISOR_STEPS = frozenset({Step.ASSIGN, Step.CALLBACK})


def next_state(state: str, step: Step) -> RectificationState | None:
    """The state ``step`` leads to from ``state``; None when it does not apply there."""
    try:
        return STEPS.get((RectificationState(state), step))
    except ValueError:
        return None


def may_act(
    step: Step, role: str, staff_station: str, staff_no: str, station: str, assignee: str | None
) -> tuple[str, str] | None:
    """Why a staff member may not take ``step`` on a record of ``station`` (Chinese, English);
    None when they may.

    Supervisors of the station and admins may take every step; the assignee may verify and
    rectify.
    """
    if role == Role.ADMIN or (role == Role.SUPERVISOR and staff_station == station):
        return None
    if step in SUPERVISOR_STEPS:
        return (
            f"{STEP_ZH[step]}须由站点{station}的值班长或管理员进行",
            f"only a supervisor of station {station} or an admin may {step.value}",
        )
    if assignee is not None and staff_no == assignee:
        return None
    return (
        f"只有承办人（{assignee or '尚未分派'}）、站点{station}的值班长或管理员可以{STEP_ZH[step]}",
        f"only the assignee ({assignee or 'none yet'}), a supervisor of station {station} or an admin"
        f" may {step.value}",
    )


def due_dates(calendar: WorkdayCalendar, created_on: dt.date) -> tuple[dt.date, dt.date, bool]:
    """(verify by, rectify by, provisional) for a record created on ``created_on``."""
    verify = calendar.add(created_on, VERIFY_LIMIT)
    rectify = calendar.add(created_on, RECTIFY_LIMIT)
    return verify.date, rectify.date, verify.provisional or rectify.provisional


def deadline_in_force(state: str, verify_due: dt.date, rectify_due: dt.date) -> dt.date | None:
    """The deadline the record is judged on now (None once it is closed)."""
    if state in (RectificationState.OPEN, RectificationState.ASSIGNED):
        return verify_due
    if state == RectificationState.CLOSED:
        return None
    return rectify_due


def flag_of(
    state: str,
    verify_due: dt.date,
    rectify_due: dt.date,
    today: dt.date,
    calendar: WorkdayCalendar,
    warning_workdays: int = 1,
) -> Flag | None:
    """红黄绿 of a record on ``today`` (None once it is closed)."""
    deadline = deadline_in_force(state, verify_due, rectify_due)
    if deadline is None:
        return None
    return deadline_flag(deadline, today, calendar, warning_workdays)


def check_note(raw: str, name: str = "note") -> str:
    """A step's note or call-back result: required, printable, at most :data:`NOTE_LIMIT`."""
    note = " ".join(raw.split())
    if not note:
        raise DomainError.of("field.required", field=name)
    char = first_unsafe(note)
    if char is not None:
        raise DomainError.of("field.invalid", field=name, value=f"control character {char}")
    if len(note) > NOTE_LIMIT:
        raise DomainError.of("field.too_long", field=name, limit=NOTE_LIMIT)
    return note
