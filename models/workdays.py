"""Working-day arithmetic with the official holiday arrangements (调休 included).

Arrangements are data: the years shipped with the client and the hall (models/data/holidays,
one copy for both), plus whatever the hall publishes. A year nobody has
published yet falls back to weekends-only, and every date computed through it is marked
provisional. Pure: the counter computes deadlines with it and the hall checks pushed ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from models.enums import Flag, TimeUnit
from models.problems import ProblemValueError
from models.timelimits import TimeLimit

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DueDate:
    """A computed deadline; ``provisional`` when it relied on an unpublished year."""

    date: dt.date
    provisional: bool


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement: holidays and adjusted working days (调休上班)."""

    year: int
    source: str
    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]


class ArrangementError(ProblemValueError):
    """An arrangement file that cannot be used, with the reason."""


def parse_arrangement(data: Mapping[str, Any]) -> YearArrangement:
    """Validate an arrangement document (the import format) and build it."""
    try:
        year = int(data["year"])
        source = str(data.get("source", "")).strip()
        holidays: dict[dt.date, str] = {}
        workdays: dict[dt.date, str] = {}
        for target, key in ((holidays, "holidays"), (workdays, "workdays")):
            for group in data.get(key, []):
                for text in group["dates"]:
                    day = dt.date.fromisoformat(text)
                    if day.year != year:
                        raise ArrangementError("arrangement.year", day=text, year=year)
                    target[day] = str(group["name"])
    except ArrangementError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ArrangementError("arrangement.shape", detail=exc) from exc
    both = holidays.keys() & workdays.keys()
    if both:
        raise ArrangementError("arrangement.both", day=sorted(both)[0])
    if not holidays:
        raise ArrangementError("arrangement.no_holidays", year=year)
    if not source:
        raise ArrangementError("arrangement.source")
    return YearArrangement(year, source, holidays, workdays)


@dataclass
class WorkdayCalendar:
    """Counts 工作日 with the arrangements it knows; weekends-only elsewhere (provisional)."""

    arrangements: dict[int, YearArrangement] = field(default_factory=dict)
    _memo: dict[tuple[dt.date, int, TimeUnit], DueDate] = field(default_factory=dict, init=False, repr=False)
    _bounds: tuple[WorkdayCalendar, WorkdayCalendar] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_arrangements(cls, arrangements: Iterable[YearArrangement]) -> WorkdayCalendar:
        """Later arrangements for the same year replace earlier ones."""
        return cls({a.year: a for a in arrangements})

    def knows(self, year: int) -> bool:
        """Whether the official arrangement of ``year`` is loaded."""
        return year in self.arrangements

    def is_workday(self, day: dt.date) -> bool:
        """A weekday that is not a holiday, or an adjusted working weekend."""
        arrangement = self.arrangements.get(day.year)
        if arrangement is not None:
            if day in arrangement.workdays:
                return True
            if day in arrangement.holidays:
                return False
        return day.weekday() < 5

    def add(self, start: dt.date, limit: TimeLimit) -> DueDate:
        """The deadline of ``limit`` counted from ``start``.

        The start day is not counted (期间开始之日不计算在内): N working days end on the Nth
        working day after ``start``; 0 means the same day. A calendar-day period whose last day
        is not a working day ends on the next working day.
        """
        key = (start, limit.days, limit.unit)
        found = self._memo.get(key)
        if found is None:
            # Batches compute the same few deadlines thousands of times.
            found = self._memo[key] = self._add(start, limit.days, limit.unit)
        return found

    def _add(self, start: dt.date, days: int, unit: TimeUnit) -> DueDate:
        provisional = not self.knows(start.year)
        day = start
        if unit is TimeUnit.CALENDAR_DAY:
            day = start + dt.timedelta(days=days)
            provisional = provisional or not self.knows(day.year)
            while days and not self.is_workday(day):
                day += _ONE_DAY
                provisional = provisional or not self.knows(day.year)
            return DueDate(day, provisional)
        counted = 0
        while counted < days:
            day += _ONE_DAY
            if day.year != start.year and not self.knows(day.year):
                provisional = True
            if self.is_workday(day):
                counted += 1
        return DueDate(day, provisional)

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
        if end < start:
            return -self.workdays_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count

    def due_range(self, start: dt.date, limit: TimeLimit) -> tuple[dt.date, dt.date]:
        """The earliest and the latest deadline of ``limit`` from ``start`` that a calendar
        knowing any subset of this one's arrangements (weekends-only for the rest) computes.

        A station may not have pulled every published year (it then counts weekends only), so
        the hall accepts any deadline in this range: counting every 调休 working weekend and no
        holiday gives the earliest, counting every holiday and no 调休 weekend the latest (fewer
        working days never make a deadline earlier).
        """
        if self._bounds is None:
            years = self.arrangements.values()
            self._bounds = (
                WorkdayCalendar({a.year: YearArrangement(a.year, a.source, {}, a.workdays) for a in years}),
                WorkdayCalendar({a.year: YearArrangement(a.year, a.source, a.holidays, {}) for a in years}),
            )
        earliest, latest = self._bounds
        return earliest.add(start, limit).date, latest.add(start, limit).date


def deadline_flag(
    deadline: dt.date, today: dt.date, calendar: WorkdayCalendar, warning_workdays: int
) -> Flag:
    """红黄绿 of one deadline (the 容缺台账's rule): red when overdue, yellow when due within
    ``warning_workdays`` working days, else green."""
    if today > deadline:
        return Flag.RED
    if calendar.workdays_between(today, deadline) <= warning_workdays:
        return Flag.YELLOW
    return Flag.GREEN
