"""Queries and writes of the station's queue (排队叫号): tickets, numbers, windows.

Times are stored as UTC ISO text, days as ``YYYY-MM-DD``; rows are read back as the plain
:class:`models.queue.Ticket`. Every write takes a :class:`~offline_cache.store.UnitOfWork`, so it
commits with its audit event and outbox operation.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from models.queue import QueueCategory, Ticket, TicketState, WaitingTicket
from models.queue_figures import Board, WindowStatus
from offline_cache.store import UnitOfWork

_COLUMNS = (
    "station", "day", "ticket", "number", "category", "state", "window", "target_window", "phone",
    "appointment", "item_code", "taken_at", "queued_at", "called_at", "last_called_at", "calls",
    "started_at", "finished_at", "cases",
)  # fmt: skip
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM queue_tickets"
# Only these columns may be set by update_ticket (the names go into the SQL text).
_UPDATABLE = frozenset(
    {
        "category", "state", "window", "target_window", "queued_at", "called_at", "last_called_at",
        "calls", "call_no", "started_at", "finished_at", "cases",
    }
)  # fmt: skip
AT_WINDOW_STATES = (TicketState.CALLED.value, TicketState.SERVING.value)


def stamp(moment: dt.datetime) -> str:
    """The stored form of a moment (UTC, milliseconds)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _moment(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _ticket(row: Sequence[Any]) -> Ticket:
    values = dict(zip(_COLUMNS, row, strict=True))
    taken = _moment(values["taken_at"])
    queued = _moment(values["queued_at"])
    assert taken is not None and queued is not None
    return Ticket(
        station=values["station"],
        day=dt.date.fromisoformat(values["day"]),
        ticket=values["ticket"],
        number=int(values["number"]),
        category=QueueCategory(values["category"]),
        state=TicketState(values["state"]),
        taken_at=taken,
        queued_at=queued,
        window=values["window"],
        target_window=values["target_window"],
        phone=values["phone"],
        appointment=values["appointment"],
        item_code=values["item_code"],
        called_at=_moment(values["called_at"]),
        last_called_at=_moment(values["last_called_at"]),
        calls=int(values["calls"]),
        started_at=_moment(values["started_at"]),
        finished_at=_moment(values["finished_at"]),
        cases=tuple(json.loads(values["cases"] or "[]")),
    )


# ---------------------------------------------------------------- numbers and new tickets


def allocate_number(unit: UnitOfWork, station: str, day: dt.date, category: QueueCategory) -> int:
    """The next number of ``category`` at ``station`` on ``day`` (inside the write lock)."""
    row = unit.execute(
        "INSERT INTO queue_sequences (station, day, category, last) VALUES (?, ?, ?, 1)"
        " ON CONFLICT(station, day, category) DO UPDATE SET last = last + 1 RETURNING last",
        (station, day.isoformat(), category.value),
    ).one()
    return int(row[0])


def insert_ticket(unit: UnitOfWork, ticket: Ticket) -> None:
    """Write a new ticket."""
    unit.execute(
        "INSERT INTO queue_tickets (station, day, ticket, number, category, state, phone, appointment,"
        " item_code, taken_at, queued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ticket.station, ticket.day.isoformat(), ticket.ticket, ticket.number, ticket.category.value,
            ticket.state.value, ticket.phone, ticket.appointment, ticket.item_code,
            stamp(ticket.taken_at), stamp(ticket.queued_at), unit.now,
        ),
    )  # fmt: skip


def update_ticket(unit: UnitOfWork, ticket: Ticket, changes: Mapping[str, Any]) -> None:
    """Set ``changes`` (column -> value; moments as datetimes, cases as a list) on a ticket."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not an updatable column: {sorted(unknown)}")
    values: list[Any] = []
    for name, value in changes.items():
        if isinstance(value, dt.datetime):
            value = stamp(value)
        elif name == "cases":
            value = json.dumps(list(value), ensure_ascii=False)
        elif isinstance(value, TicketState | QueueCategory):
            value = value.value
        values.append(value)
    assignments = ", ".join(f"{name} = ?" for name in changes)
    unit.execute(
        f"UPDATE queue_tickets SET {assignments}, updated_at = ?"
        " WHERE station = ? AND day = ? AND ticket = ?",
        (*values, unit.now, ticket.station, ticket.day.isoformat(), ticket.ticket),
    )


def next_call_no(unit: UnitOfWork, station: str, day: dt.date) -> int:
    """The order number of a new call on ``day`` (inside the write lock)."""
    value = unit.execute(
        "SELECT COALESCE(MAX(call_no), 0) + 1 FROM queue_tickets WHERE station = ? AND day = ?",
        (station, day.isoformat()),
    ).scalar()
    return int(value)


# ---------------------------------------------------------------- reading tickets


def get_ticket(conn: Connection, station: str, day: dt.date, ticket: str) -> Ticket | None:
    """One ticket, or None."""
    row = conn.exec_driver_sql(
        f"{_SELECT} WHERE station = ? AND day = ? AND ticket = ?", (station, day.isoformat(), ticket)
    ).first()
    return None if row is None else _ticket(row)


def tickets_of_day(
    conn: Connection, station: str, day: dt.date, states: Sequence[TicketState] | None = None
) -> list[Ticket]:
    """A day's tickets in the order they were taken (per category letter, then number)."""
    sql = f"{_SELECT} WHERE station = ? AND day = ?"
    params: list[Any] = [station, day.isoformat()]
    if states:
        sql += f" AND state IN ({', '.join('?' * len(states))})"
        params += [s.value for s in states]
    rows = conn.exec_driver_sql(sql + " ORDER BY taken_at, ticket", tuple(params))
    return [_ticket(row) for row in rows]


def waiting_tickets(conn: Connection, station: str, day: dt.date) -> list[WaitingTicket]:
    """The day's waiting tickets, as the calling rule sees them."""
    rows = conn.exec_driver_sql(
        "SELECT ticket, category, queued_at, number, target_window FROM queue_tickets"
        " WHERE station = ? AND day = ? AND state = ?",
        (station, day.isoformat(), TicketState.WAITING.value),
    )
    return [
        WaitingTicket(t, QueueCategory(c), dt.datetime.fromisoformat(q), int(n), w) for t, c, q, n, w in rows
    ]


def at_window(conn: Connection, station: str, day: dt.date, window: str) -> Ticket | None:
    """The ticket a window holds (called or serving), if any."""
    row = conn.exec_driver_sql(
        f"{_SELECT} WHERE station = ? AND day = ? AND window = ? AND state IN (?, ?)"
        " ORDER BY call_no DESC LIMIT 1",
        (station, day.isoformat(), window, *AT_WINDOW_STATES),
    ).first()
    return None if row is None else _ticket(row)


def priority_streak(conn: Connection, station: str, day: dt.date, window: str, limit: int) -> int:
    """How many of the window's latest calls (at most ``limit``) were 绿色通道 in a row."""
    rows = conn.exec_driver_sql(
        "SELECT category FROM queue_tickets WHERE station = ? AND day = ? AND window = ?"
        " AND call_no IS NOT NULL ORDER BY call_no DESC LIMIT ?",
        (station, day.isoformat(), window, max(limit, 0)),
    )
    streak = 0
    for (category,) in rows:
        if category != QueueCategory.PRIORITY.value:
            break
        streak += 1
    return streak


# ---------------------------------------------------------------- the board


def waiting_counts(conn: Connection, station: str, day: dt.date) -> dict[QueueCategory, int]:
    """How many wait in each queue (every category, zero included)."""
    counts = dict.fromkeys(QueueCategory, 0)
    for category, count in conn.exec_driver_sql(
        "SELECT category, COUNT(*) FROM queue_tickets WHERE station = ? AND day = ? AND state = ?"
        " GROUP BY category",
        (station, day.isoformat(), TicketState.WAITING.value),
    ):
        counts[QueueCategory(category)] = int(count)
    return counts


def held_by_windows(conn: Connection, station: str, day: dt.date) -> list[tuple[str, str, str, str]]:
    """(window, ticket, category, state) of every ticket a window holds now."""
    rows = conn.exec_driver_sql(
        "SELECT window, ticket, category, state FROM queue_tickets"
        " WHERE station = ? AND day = ? AND state IN (?, ?) ORDER BY window",
        (station, day.isoformat(), *AT_WINDOW_STATES),
    )
    return [(str(w), str(t), str(c), str(s)) for w, t, c, s in rows]


def first_waiting(conn: Connection, station: str, day: dt.date, limit: int) -> list[str]:
    """The first ``limit`` waiting tickets, in the order they joined the queue."""
    rows = conn.exec_driver_sql(
        "SELECT ticket FROM queue_tickets WHERE station = ? AND day = ? AND state = ?"
        " ORDER BY queued_at, ticket LIMIT ?",
        (station, day.isoformat(), TicketState.WAITING.value, limit),
    )
    return [str(t) for (t,) in rows]


# ---------------------------------------------------------------- windows (暂停服务)


def windows(conn: Connection, station: str) -> dict[str, tuple[bool, str | None]]:
    """window -> (paused, reason) of every window that was ever paused."""
    rows = conn.exec_driver_sql(
        "SELECT window, paused, reason FROM queue_windows WHERE station = ?", (station,)
    )
    return {str(w): (bool(p), r) for w, p, r in rows}


def set_window(
    unit: UnitOfWork, station: str, window: str, paused: bool, reason: str | None, since: dt.datetime
) -> None:
    """Pause (with a reason) or resume a window."""
    unit.execute(
        "INSERT INTO queue_windows (station, window, paused, reason, since, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(station, window) DO UPDATE SET paused = excluded.paused,"
        " reason = excluded.reason, since = excluded.since, updated_at = excluded.updated_at",
        (station, window, paused, reason, stamp(since), unit.now),
    )


def board(conn: Connection, station: str, day: dt.date, next_up: int) -> Board:
    """The calling board of ``day``: every window's ticket or pause, the waiting counts and the
    first ``next_up`` waiting tickets (read on ``conn``: one snapshot)."""
    held = held_by_windows(conn, station, day)
    statuses: dict[str, WindowStatus] = {
        window: WindowStatus(window, paused=True, reason=reason)
        for window, (paused, reason) in windows(conn, station).items()
        if paused
    }
    for window, ticket, category, state in held:
        pause = statuses.get(window)
        statuses[window] = WindowStatus(
            window, ticket, QueueCategory(category), TicketState(state),
            paused=pause is not None, reason=pause.reason if pause else None,
        )  # fmt: skip
    return Board(
        station,
        day,
        tuple(statuses[w] for w in sorted(statuses)),
        waiting_counts(conn, station, day),
        tuple(first_waiting(conn, station, day, next_up)),
    )
