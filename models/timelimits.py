"""Time limits are a number and a unit, never a bare number."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import TimeUnit

_UNIT_ZH = {TimeUnit.WORKDAY: "个工作日", TimeUnit.CALENDAR_DAY: "日"}


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A time limit such as 20 工作日 or 60 自然日."""

    days: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"a time limit cannot be negative: {self.days}")

    def zh(self) -> str:
        """Chinese text, e.g. '5个工作日'; 0 workdays reads as '当场办结'."""
        if self.days == 0:
            return "当场办结"
        return f"{self.days}{_UNIT_ZH[self.unit]}"

    def capped(self, other: TimeLimit) -> TimeLimit:
        """This limit, but never longer than ``other`` when both share a unit."""
        if self.unit == other.unit and self.days > other.days:
            return other
        return self
