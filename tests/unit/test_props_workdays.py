"""Properties of working-day arithmetic (window_client/services/workdays.py).

The independent oracle is the ``chinesecalendar`` package (the official arrangements, 调休
included) for the years it and the shipped data both cover; beyond them the documented
fallback is weekends-only, with the result marked provisional.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.enums import TimeUnit
from models.timelimits import TimeLimit
from window_client.services.workdays import DueDate, WorkdayCalendar, shipped_arrangements

PROPS = settings(max_examples=200, deadline=None)
ONE = dt.timedelta(days=1)
KNOWN = range(2024, 2027)
CAL = WorkdayCalendar.from_arrangements(shipped_arrangements())


def oracle_workday(day: dt.date) -> bool:
    """Official arrangement where it is known, weekends-only elsewhere."""
    if day.year in KNOWN:
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def oracle_count(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]."""
    count, day = 0, start
    while day < end:
        day += ONE
        count += oracle_workday(day)
    return count


def wd(days: int) -> TimeLimit:
    return TimeLimit(days, TimeUnit.WORKDAY)


def cd(days: int) -> TimeLimit:
    return TimeLimit(days, TimeUnit.CALENDAR_DAY)


starts = st.dates(dt.date(2024, 1, 1), dt.date(2026, 10, 31))
counts = st.integers(0, 60)


def test_shipped_years_are_the_known_ones() -> None:
    assert sorted(CAL.arrangements) == list(KNOWN)
    assert not CAL.knows(2027)


def test_every_day_2024_to_2026_agrees_with_chinese_calendar() -> None:
    day, disagreements = dt.date(2024, 1, 1), []
    while day <= dt.date(2026, 12, 31):
        if CAL.is_workday(day) != chinese_calendar.is_workday(day):
            disagreements.append(day.isoformat())
        day += ONE
    assert disagreements == []


@PROPS
@given(starts, counts)
def test_n_workdays_end_on_the_nth_working_day_after_start(start: dt.date, n: int) -> None:
    due = CAL.add(start, wd(n))
    if n == 0:
        assert due == DueDate(start, False)
        return
    assert due.date > start
    assert oracle_workday(due.date)
    assert oracle_count(start, due.date) == n
    assert oracle_count(start, due.date - ONE) == n - 1  # minimal: no earlier day would do
    both_known = CAL.knows(start.year) and CAL.knows(due.date.year)
    assert due.provisional is (not both_known)


@PROPS
@given(starts, counts)
def test_one_more_workday_ends_strictly_later(start: dt.date, n: int) -> None:
    assert CAL.add(start, wd(n + 1)).date > CAL.add(start, wd(n)).date


@PROPS
@given(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)), st.integers(0, 120))
def test_workdays_between_inverts_add(start: dt.date, n: int) -> None:
    end = CAL.add(start, wd(n)).date
    assert CAL.workdays_between(start, end) == n
    assert CAL.workdays_between(end, start) == -n


@PROPS
@given(st.dates(dt.date(2026, 9, 1), dt.date(2029, 12, 31)), st.integers(0, 250), st.booleans())
def test_unknown_years_are_provisional_and_never_raise(start: dt.date, n: int, calendar_days: bool) -> None:
    limit = cd(n) if calendar_days else wd(n)
    due = CAL.add(start, limit)
    touches_unknown = start.year >= 2027 or due.date.year >= 2027
    assert due.provisional is touches_unknown
    if n > 0 and due.date.year >= 2027:
        assert due.date.weekday() < 5  # weekends-only fallback


def test_the_issue_example_reaches_into_2027_provisionally() -> None:
    due = CAL.add(dt.date(2026, 12, 20), wd(20))
    assert due.date.year == 2027
    assert due.provisional is True
    # Weekends-only in 2027: 9 working days left in 2026 (21-25, 28-31), 11 more in 2027.
    assert due == DueDate(dt.date(2027, 1, 15), True)


def test_adjusted_working_saturday_counts() -> None:
    # 2026: 国庆/中秋 holidays 10-01..10-07, Saturday 10-10 is an adjusted working day.
    assert dt.date(2026, 10, 10).weekday() == 5
    assert CAL.is_workday(dt.date(2026, 10, 10))
    assert CAL.add(dt.date(2026, 9, 30), wd(3)) == DueDate(dt.date(2026, 10, 10), False)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # 2026-09-28 + 3 days = 10-01, a holiday: moves to the first working day, 10-08.
        (dt.date(2026, 9, 28), 3, dt.date(2026, 10, 8)),
        # 2025-01-21 + 7 days = 01-28, 春节 eve; 01-26 (Sunday) was an adjusted working day but
        # lies before the end; next working day after the holiday is 2025-02-05.
        (dt.date(2025, 1, 21), 7, dt.date(2025, 2, 5)),
        # Ends on an ordinary Saturday: the next Monday.
        (dt.date(2026, 3, 2), 5, dt.date(2026, 3, 9)),
        # Ends on a working day: unchanged.
        (dt.date(2026, 3, 2), 3, dt.date(2026, 3, 5)),
    ],
)
def test_calendar_day_limit_ending_on_a_rest_day_moves_to_next_working_day(
    start: dt.date, days: int, expected: dt.date
) -> None:
    assert CAL.add(start, cd(days)) == DueDate(expected, False)


@PROPS
@given(starts, st.integers(1, 90))
def test_calendar_day_limit_is_the_first_working_day_on_or_after_the_end(start: dt.date, n: int) -> None:
    due = CAL.add(start, cd(n))
    end = start + dt.timedelta(days=n)
    assert due.date >= end
    assert oracle_workday(due.date)
    day = end
    while day < due.date:
        assert not oracle_workday(day), day
        day += ONE
    assert due.provisional is (due.date.year not in KNOWN)


@PROPS
@given(starts, counts)
def test_memoised_answers_match_a_fresh_calendar(start: dt.date, n: int) -> None:
    fresh = WorkdayCalendar.from_arrangements(shipped_arrangements())
    assert fresh.add(start, wd(n)) == CAL.add(start, wd(n))
