"""Case timeliness (承诺时限 supervision) as pure rules: the days left and the 红黄绿 of an open case.

The hall judges every open case on its own catalogue and holiday data, not on the date the
station wrote down:

- a case accepted complete is due :func:`~models.workdays.WorkdayCalendar.add` of the item's
  承诺时限 after its acceptance day (the acceptance day itself is not counted);
- a 容缺 case's clock is paused while it waits for 补正 (DESIGN.md §3): once supplemented on day
  S it is due the limit after S — the same as moving the plain due date by the working days
  spent between 容缺受理 and 补正 (the first k working days after acceptance are those up to S);
- while the 补正 is still awaited the clock stands: the case keeps its whole limit
  (``paused``), its due date counted from today.

The flag is the 容缺台账's rule (:func:`models.workdays.deadline_flag`): red once overdue,
yellow within the warning window, green otherwise. Only cases waiting for the back office's
decision are open; a decided, finished or closed case has no flag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.enums import CaseState, Flag
from models.timelimits import TimeLimit
from models.workdays import WorkdayCalendar, deadline_flag

# Cases waiting for the back office's decision (办结): their 承诺时限 runs (or stands, in 补正).
OPEN_STATES = frozenset(
    {CaseState.ACCEPTED.value, CaseState.ACCEPTED_TOLERATED.value, CaseState.SUPPLEMENTED.value}
)
FLAG_ZH = {Flag.RED.value: "红", Flag.YELLOW.value: "黄", Flag.GREEN.value: "绿"}


@dataclass(frozen=True, slots=True)
class Timeliness:
    """Where an open case stands against its 承诺时限 on ``today``."""

    due: dt.date
    days_left: int  # working days from today to the due date (negative once overdue)
    flag: Flag
    paused: bool  # waiting for 补正: the clock stands
    provisional: bool  # counted over a year with no published holiday arrangement


def case_timeliness(
    calendar: WorkdayCalendar,
    limit: TimeLimit,
    state: str,
    accepted_on: dt.date,
    supplemented_on: dt.date | None,
    today: dt.date,
    warning_workdays: int = 1,
) -> Timeliness | None:
    """The timeliness of a case in ``state`` on ``today`` (None when the case is not open).

    ``supplemented_on`` is the day of the full 补正 of a 容缺 case (None for a case accepted
    complete, or one still waiting).
    """
    if state not in OPEN_STATES:
        return None
    paused = state == CaseState.ACCEPTED_TOLERATED
    start = today if paused else supplemented_on or accepted_on
    due = calendar.add(max(start, accepted_on), limit)
    days_left = calendar.workdays_between(today, due.date)
    if today > due.date:
        # Past the due day is overdue even when no working day has passed since (a weekend
        # after a Friday deadline): never "0 days left".
        days_left = min(days_left, -1)
    flag = deadline_flag(due.date, today, calendar, warning_workdays)
    return Timeliness(due.date, days_left, flag, paused, due.provisional)
