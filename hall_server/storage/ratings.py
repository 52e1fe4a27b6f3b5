"""好差评 and 差评整改 rows: the ratings stations pushed, the rectification records, the report's reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from hall_server.storage.schema import CASES, OPS
from hall_server.storage.schema_service import RATINGS, RECTIFICATIONS
from hall_server.storage.sql import insert_rows, is_in


def taken_channels(
    conn: Connection, case_nos: Sequence[str]
) -> dict[tuple[str, str], tuple[int | None, str]]:
    """(level, rated_on) by (case_no, channel) of the ratings (or 未评价) ``case_nos`` already have."""
    if not case_nos:
        return {}
    query = select(RATINGS.c.case_no, RATINGS.c.channel, RATINGS.c.level, RATINGS.c.rated_on).where(
        is_in(conn, RATINGS.c.case_no, case_nos)
    )
    return {(row[0], row[1]): (row[2], row[3]) for row in conn.execute(query)}


def accept_payloads(conn: Connection, case_nos: Sequence[str]) -> dict[str, str]:
    """The accept operation's payload (JSON text) of each stored case among ``case_nos``."""
    if not case_nos:
        return {}
    query = (
        select(CASES.c.case_no, OPS.c.payload)
        .join(OPS, OPS.c.op_id == CASES.c.accept_op_id)
        .where(is_in(conn, CASES.c.case_no, case_nos))
    )
    return {row[0]: row[1] for row in conn.execute(query)}


def insert_ratings(
    conn: Connection, ratings: Sequence[Mapping[str, Any]], rectifications: Sequence[Mapping[str, Any]]
) -> None:
    """Write a batch's ratings and the rectification records of its 差评."""
    insert_rows(conn, RATINGS, ratings)
    insert_rows(conn, RECTIFICATIONS, rectifications)


def list_ratings(conn: Connection, station: str | None) -> list[dict[str, Any]]:
    """Every rating (newest first), optionally of one station."""
    query = select(RATINGS).order_by(RATINGS.c.received_at.desc(), RATINGS.c.case_no)
    if station:
        query = query.where(RATINGS.c.station == station)
    return [dict(row) for row in conn.execute(query).mappings()]


def list_rectifications(conn: Connection, station: str | None, open_only: bool) -> list[dict[str, Any]]:
    """Rectification records (oldest first) with their rating's reasons and text."""
    query = (
        select(RECTIFICATIONS, RATINGS.c.channel, RATINGS.c.reasons, RATINGS.c.text, RATINGS.c.window,
               RATINGS.c.clerk, RATINGS.c.item_code, RATINGS.c.rated_on)
        .join(RATINGS, RATINGS.c.op_id == RECTIFICATIONS.c.rating_op_id)
        .order_by(RECTIFICATIONS.c.id)
    )  # fmt: skip
    if station:
        query = query.where(RECTIFICATIONS.c.station == station)
    if open_only:
        query = query.where(RECTIFICATIONS.c.state != "closed")
    return [dict(row) for row in conn.execute(query).mappings()]


def get_rectification(conn: Connection, record_id: int) -> dict[str, Any] | None:
    """One rectification record (with its rating's facts), or None."""
    query = (
        select(RECTIFICATIONS, RATINGS.c.channel, RATINGS.c.reasons, RATINGS.c.text, RATINGS.c.window,
               RATINGS.c.clerk, RATINGS.c.item_code, RATINGS.c.rated_on)
        .join(RATINGS, RATINGS.c.op_id == RECTIFICATIONS.c.rating_op_id)
        .where(RECTIFICATIONS.c.id == record_id)
    )  # fmt: skip
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def update_rectification(
    conn: Connection, record_id: int, state_before: str, values: Mapping[str, Any]
) -> bool:
    """Set ``values`` on a record still in ``state_before`` (False: someone moved it meanwhile)."""
    statement = (
        update(RECTIFICATIONS)
        .where(RECTIFICATIONS.c.id == record_id, RECTIFICATIONS.c.state == state_before)
        .values(**values)
    )
    return conn.execute(statement).rowcount == 1


def report_rows(
    conn: Connection, first: str | None, last: str | None, station: str | None
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, int | None, str | None, str | None]]]:
    """The cases accepted from ``first`` to ``last`` (ISO days, inclusive; None: open) as
    (case_no, station, item_code, accept payload JSON), and their ratings as
    (case_no, channel, level, window, clerk)."""
    conditions = []
    if first:
        conditions.append(CASES.c.accepted_on >= first)
    if last:
        conditions.append(CASES.c.accepted_on <= last)
    if station:
        conditions.append(CASES.c.station == station)
    cases_query = (
        select(CASES.c.case_no, CASES.c.station, CASES.c.item_code, OPS.c.payload)
        .join(OPS, OPS.c.op_id == CASES.c.accept_op_id)
        .where(*conditions)
        .order_by(CASES.c.case_no)
    )
    cases = [(row[0], row[1], row[2], row[3]) for row in conn.execute(cases_query)]
    in_period = select(CASES.c.case_no).where(*conditions)
    ratings_query = (
        select(RATINGS.c.case_no, RATINGS.c.channel, RATINGS.c.level, RATINGS.c.window, RATINGS.c.clerk)
        .where(RATINGS.c.case_no.in_(in_period))
        .order_by(RATINGS.c.case_no, RATINGS.c.channel)
    )
    ratings = [(row[0], row[1], row[2], row[3], row[4]) for row in conn.execute(ratings_query)]
    return cases, ratings
