"""The 承诺时限 rule of an open case (models.timeliness), over varied days and limits."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, example, given
from hypothesis import strategies as st

from models.enums import CaseState, TimeUnit
from models.timelimits import TimeLimit
from models.timeliness import case_timeliness
from models.workdays import WorkdayCalendar
from window_client.services.workdays import shipped_arrangements

CALENDAR = WorkdayCalendar.from_arrangements(shipped_arrangements())
days = st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 20))
limits = st.integers(0, 30).map(lambda n: TimeLimit(n, TimeUnit.WORKDAY))


@given(days, st.integers(0, 40), limits)
def test_the_pause_moves_the_due_date_by_the_working_days_spent_in_supplement(
    accepted: dt.date, waited: int, limit: TimeLimit
) -> None:
    supplemented = accepted + dt.timedelta(days=waited)
    assume(CALENDAR.is_workday(supplemented) or limit.days > 0)  # 补正 is received on working days
    found = case_timeliness(CALENDAR, limit, CaseState.SUPPLEMENTED, accepted, supplemented, supplemented)
    assert found is not None and not found.paused
    plain = CALENDAR.add(accepted, limit).date
    spent = CALENDAR.workdays_between(accepted, supplemented)
    assert found.due == CALENDAR.add(accepted, TimeLimit(limit.days + spent, TimeUnit.WORKDAY)).date
    assert found.due >= plain


@given(days, st.integers(0, 60), limits)
def test_a_case_waiting_for_supplement_keeps_its_whole_limit(
    accepted: dt.date, later: int, limit: TimeLimit
) -> None:
    today = accepted + dt.timedelta(days=later)
    found = case_timeliness(CALENDAR, limit, CaseState.ACCEPTED_TOLERATED, accepted, None, today)
    assert found is not None and found.paused
    assert found.due == CALENDAR.add(today, limit).date
    assert found.days_left == CALENDAR.workdays_between(today, found.due)


@given(days, st.integers(0, 60), limits)
# Found by CI: due on a Friday, looked at on the Saturday (no working day since, still overdue).
@example(dt.date(2024, 1, 5), 1, TimeLimit(0, TimeUnit.WORKDAY))
def test_flags_follow_the_days_left(accepted: dt.date, later: int, limit: TimeLimit) -> None:
    today = accepted + dt.timedelta(days=later)
    found = case_timeliness(CALENDAR, limit, CaseState.ACCEPTED, accepted, None, today)
    assert found is not None and found.due == CALENDAR.add(accepted, limit).date
    if today > found.due:
        assert found.flag == "red" and found.days_left < 0
    elif found.days_left <= 1:
        assert found.flag == "yellow"
    else:
        assert found.flag == "green"


def test_decided_and_closed_cases_are_not_supervised() -> None:
    for state in ("approved", "refused", "certificate_issued", "delivered", "terminated", "withdrawn"):
        assert case_timeliness(CALENDAR, TimeLimit(5, TimeUnit.WORKDAY), state, dt.date(2026, 11, 20), None,
                               dt.date(2026, 11, 23)) is None  # fmt: skip
