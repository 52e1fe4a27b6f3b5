"""The queue's figures (waiting and service time) and the calling board's read model.

The day close (日结) of a station and the hall's report across stations group the same
figures: per station, window and category, tickets, served, skipped, mean and p90 wait
(taken → first call) and mean service time (start → 办结).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from models.queue import QueueCategory, Ticket, TicketState


@dataclass(frozen=True, slots=True)
class TicketTimes:
    """What the figures need of one ticket (``window``: the one that called it last, or "")."""

    category: QueueCategory
    state: TicketState
    taken_at: dt.datetime
    called_at: dt.datetime | None = None  # the first call
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    window: str = ""
    station: str = ""

    @property
    def wait_seconds(self) -> float | None:
        """From taking the ticket to its first call (None while never called)."""
        if self.called_at is None:
            return None
        return max((self.called_at - self.taken_at).total_seconds(), 0.0)

    @property
    def service_seconds(self) -> float | None:
        """From the start of service to 办结 (None unless both happened)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max((self.finished_at - self.started_at).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """One group's figures (per station, window and category; seconds as floats)."""

    station: str
    window: str
    category: QueueCategory
    tickets: int = 0
    served: int = 0
    skipped: int = 0
    mean_wait: float | None = None
    p90_wait: float | None = None
    mean_service: float | None = None
    waits: tuple[float, ...] = field(default=(), repr=False, compare=False)


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by the nearest-rank method (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figures(tickets: Iterable[TicketTimes]) -> list[QueueFigures]:
    """Tickets, served, skipped, mean and p90 wait, mean service per (station, window, category),
    sorted by station, window (tickets no window called last) and category."""
    groups: dict[tuple[str, str, QueueCategory], list[TicketTimes]] = {}
    for ticket in tickets:
        groups.setdefault((ticket.station, ticket.window, ticket.category), []).append(ticket)
    rows = []
    for (station, window, category), members in groups.items():
        waits = tuple(w for t in members if (w := t.wait_seconds) is not None)
        done = [t for t in members if t.state is TicketState.DONE]
        services = [s for t in done if (s := t.service_seconds) is not None]
        rows.append(
            QueueFigures(
                station,
                window,
                category,
                tickets=len(members),
                served=len(done),
                skipped=sum(t.state is TicketState.SKIPPED for t in members),
                mean_wait=_mean(waits),
                p90_wait=p90(waits),
                mean_service=_mean(services),
                waits=waits,
            )
        )
    rows.sort(key=lambda r: (r.station, r.window == "", r.window, r.category.value))
    return rows


def minutes(seconds: float | None) -> str:
    """``12.5`` minutes for a table cell (``-`` for none)."""
    return "-" if seconds is None else f"{seconds / 60:.1f}"


# ------------------------------------------------------------------ the calling board


@dataclass(frozen=True, slots=True)
class WindowStatus:
    """One window on the calling board: the ticket it holds (called or serving), or a pause."""

    window: str
    ticket: str | None = None
    category: QueueCategory | None = None
    state: TicketState | None = None
    paused: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Board:
    """What the calling board shows: the windows, and how many wait in each queue."""

    station: str
    day: dt.date
    windows: tuple[WindowStatus, ...]
    waiting: dict[QueueCategory, int]
    next_up: tuple[str, ...] = ()  # the first few waiting tickets, in the order they joined
    source: str = "local"  # "local" (the station's store) or "hall"


def times_of(ticket: Ticket) -> TicketTimes:
    """What the figures need of a ticket."""
    return TicketTimes(
        ticket.category,
        ticket.state,
        ticket.taken_at,
        ticket.called_at,
        ticket.started_at,
        ticket.finished_at,
        ticket.window or "",
        ticket.station,
    )
