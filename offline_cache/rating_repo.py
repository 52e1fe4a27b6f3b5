"""好差评 rows of the local store: ratings, the evaluation codes and what reports read."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from offline_cache.store import UnitOfWork

CODE_KEY = "rating.code_key"


@dataclass(frozen=True, slots=True)
class RatableCase:
    """What a rating needs to know of its case."""

    case_no: str
    station: str
    window: str
    clerk: str
    item_code: str
    item_name: str
    applicant_name: str
    accepted_on: dt.date
    state: str


@dataclass(frozen=True, slots=True)
class StoredRating:
    """A rating as stored (``level`` None: declined)."""

    case_no: str
    channel: str
    level: int | None
    reasons: tuple[str, ...]
    text: str | None
    rated_on: dt.date
    rated_at: str
    recorded_by: str
    op_id: str


_CASE_COLUMNS = "case_no, station, window, clerk, item_code, item_name, applicant_name, accepted_on, state"


def _case(row: Sequence[object]) -> RatableCase:
    return RatableCase(
        str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]), str(row[6]),
        dt.date.fromisoformat(str(row[7])), str(row[8]),
    )  # fmt: skip


def _rating(row: Sequence[object]) -> StoredRating:
    reasons = json.loads(str(row[3]))
    return StoredRating(
        str(row[0]), str(row[1]), None if row[2] is None else int(str(row[2])),
        tuple(str(r) for r in reasons), None if row[4] is None else str(row[4]),
        dt.date.fromisoformat(str(row[5])), str(row[6]), str(row[7]), str(row[8]),
    )  # fmt: skip


_RATING_COLUMNS = "case_no, channel, level, reasons, text, rated_on, rated_at, recorded_by, op_id"


def code_key(conn: Connection) -> bytes:
    """The store's evaluation-code key (written by migration ``0008_ratings``)."""
    row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (CODE_KEY,)).first()
    if row is None:  # a store whose meta row was removed by hand: codes cannot be made
        raise LookupError("the store has no evaluation-code key")
    return bytes.fromhex(str(row[0]))


def ratable_case(conn: Connection, case_no: str) -> RatableCase | None:
    """The case ``case_no`` as a rating sees it, or None."""
    row = conn.exec_driver_sql(f"SELECT {_CASE_COLUMNS} FROM cases WHERE case_no = ?", (case_no,)).first()
    return None if row is None else _case(tuple(row))


def rating_of(conn: Connection, case_no: str, channel: str) -> StoredRating | None:
    """The rating of a case through one channel, or None."""
    row = conn.exec_driver_sql(
        f"SELECT {_RATING_COLUMNS} FROM ratings WHERE case_no = ? AND channel = ?", (case_no, channel)
    ).first()
    return None if row is None else _rating(tuple(row))


def ratings_of(conn: Connection, case_no: str) -> list[StoredRating]:
    """Every rating of a case (each channel), oldest first."""
    rows = conn.exec_driver_sql(
        f"SELECT {_RATING_COLUMNS} FROM ratings WHERE case_no = ? ORDER BY id", (case_no,)
    )
    return [_rating(tuple(row)) for row in rows]


def insert_rating(unit: UnitOfWork, rating: StoredRating) -> None:
    """Write a rating (the UNIQUE (case_no, channel) constraint backs the service's check)."""
    unit.execute(
        "INSERT INTO ratings (case_no, channel, level, reasons, text, rated_on, rated_at, recorded_by,"
        " op_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rating.case_no, rating.channel, rating.level, json.dumps(list(rating.reasons)), rating.text,
            rating.rated_on.isoformat(), rating.rated_at, rating.recorded_by, rating.op_id,
        ),
    )  # fmt: skip


def latest_case_at_window(conn: Connection, station: str, window: str, day: dt.date) -> RatableCase | None:
    """The last case a window committed on ``day`` (None when it committed none)."""
    row = conn.exec_driver_sql(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE window = ? AND accepted_on = ? AND station = ?"
        " ORDER BY id DESC LIMIT 1",
        (window, day.isoformat(), station),
    ).first()
    return None if row is None else _case(tuple(row))


# ------------------------------------------------------------------ evaluation codes


def case_of_code(conn: Connection, code: str) -> str | None:
    """The case an evaluation code was made for, when the index has it."""
    row = conn.exec_driver_sql("SELECT case_no FROM rating_codes WHERE code = ?", (code,)).first()
    return None if row is None else str(row[0])


def cases_without_code(conn: Connection) -> list[str]:
    """Cases whose code is not in the index yet (new since the last look-up)."""
    rows = conn.exec_driver_sql(
        "SELECT case_no FROM cases WHERE case_no NOT IN (SELECT case_no FROM rating_codes) ORDER BY id"
    )
    return [str(row[0]) for row in rows]


def index_codes(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Add (code, case_no) pairs to the index (a code shared by two cases keeps the first)."""
    if pairs:
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO rating_codes (code, case_no) VALUES (?, ?)",
            list(pairs),  # type: ignore[arg-type]
        )


# ------------------------------------------------------------------ reports


def report_rows(
    conn: Connection, first: dt.date | None, last: dt.date | None
) -> tuple[list[RatableCase], list[StoredRating], dict[str, str]]:
    """The cases accepted from ``first`` to ``last`` (inclusive; None: open), their ratings and
    the outbox status of each rating's operation (by op id)."""
    where, params = [], []
    if first is not None:
        where.append("accepted_on >= ?")
        params.append(first.isoformat())
    if last is not None:
        where.append("accepted_on <= ?")
        params.append(last.isoformat())
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    cases = [
        _case(tuple(row))
        for row in conn.exec_driver_sql(
            f"SELECT {_CASE_COLUMNS} FROM cases{clause} ORDER BY id", tuple(params)
        )
    ]
    ratings = [
        _rating(tuple(row))
        for row in conn.exec_driver_sql(
            f"SELECT {_RATING_COLUMNS} FROM ratings WHERE case_no IN"
            f" (SELECT case_no FROM cases{clause}) ORDER BY id",
            tuple(params),
        )
    ]
    status = {
        str(row[0]): str(row[1])
        for row in conn.exec_driver_sql(
            "SELECT o.op_id, o.status FROM outbox o JOIN ratings r ON r.op_id = o.op_id"
        )
    }
    return cases, ratings, status
