"""The hall's queue tables (排队叫号): tickets and paused windows, per station."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, select, update

from hall_server.storage.schema_service import QUEUE_TICKETS, QUEUE_WINDOWS
from hall_server.storage.sql import insert_rows, is_in

TICKET_KEY = ("station", "day", "ticket")


def tickets_by_key(
    conn: Connection, station: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored tickets of ``station`` among the (day, ticket) ``keys``, as row dicts."""
    wanted = set(keys)
    if not wanted:
        return {}
    days = sorted({day for day, _ in wanted})
    tickets = sorted({ticket for _, ticket in wanted})
    table = QUEUE_TICKETS
    query = select(table).where(
        table.c.station == station, is_in(conn, table.c.day, days), is_in(conn, table.c.ticket, tickets)
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in conn.execute(query).mappings():
        key = (row["day"], row["ticket"])
        if key in wanted:
            found[key] = dict(row)
    return found


def tickets_of_day(conn: Connection, day: str, station: str | None = None) -> list[dict[str, Any]]:
    """Every ticket of ``day`` (of one station, or of all), as row dicts."""
    table = QUEUE_TICKETS
    query = select(table).where(table.c.day == day)
    if station is not None:
        query = query.where(table.c.station == station)
    return [dict(row) for row in conn.execute(query.order_by(table.c.station, table.c.taken_at)).mappings()]


def held_tickets(conn: Connection, station: str, day: str) -> list[dict[str, Any]]:
    """The tickets of ``station`` a window holds (called or serving) on ``day``."""
    table = QUEUE_TICKETS
    query = select(table).where(
        table.c.station == station, table.c.day == day, table.c.state.in_(("called", "serving"))
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def insert_tickets(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """New tickets."""
    insert_rows(conn, QUEUE_TICKETS, rows)


def update_tickets(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write back changed tickets (every column but the key), one statement per ticket."""
    table = QUEUE_TICKETS
    for row in rows:
        values = {name: value for name, value in row.items() if name not in TICKET_KEY}
        key = and_(*(table.c[name] == row[name] for name in TICKET_KEY))
        conn.execute(update(table).where(key).values(**values))


def windows_of(conn: Connection, station: str) -> dict[str, dict[str, Any]]:
    """window -> its row, for every window of ``station`` that was ever paused."""
    table = QUEUE_WINDOWS
    rows = conn.execute(select(table).where(table.c.station == station)).mappings()
    return {row["window"]: dict(row) for row in rows}


def save_windows(conn: Connection, rows: Sequence[Mapping[str, Any]], existing: set[str]) -> None:
    """Insert or update windows (``existing``: the window names already stored)."""
    table = QUEUE_WINDOWS
    insert_rows(conn, table, [row for row in rows if row["window"] not in existing])
    for row in rows:
        if row["window"] in existing:
            values = {k: v for k, v in row.items() if k not in ("station", "window")}
            conn.execute(
                update(table)
                .where(table.c.station == row["station"], table.c.window == row["window"])
                .values(**values)
            )
