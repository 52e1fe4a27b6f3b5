"""Working days: the pure calendar lives in :mod:`models.workdays` (the hall checks pushed
deadlines with it); this module adds the arrangements shipped with the client."""

from __future__ import annotations

import json
from importlib import resources

from models.workdays import ArrangementError, DueDate, WorkdayCalendar, YearArrangement, parse_arrangement

__all__ = [
    "ArrangementError",
    "DueDate",
    "WorkdayCalendar",
    "YearArrangement",
    "parse_arrangement",
    "shipped_arrangements",
]


def shipped_arrangements() -> list[YearArrangement]:
    """Arrangements bundled with the application."""
    folder = resources.files("models") / "data" / "holidays"  # shared with the hall: models/shipped.py
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found.append(parse_arrangement(json.loads(entry.read_text(encoding="utf-8"))))
    return found
