"""Sign-in throttling: per account and per client address, kept in the database.

- An account (the staff number as typed, known or not, so a lock tells nobody which numbers
  exist) is locked for :data:`LOCK` after :data:`ACCOUNT_LIMIT` failures within :data:`WINDOW`,
  as the counter locks its own cached accounts (``window_client.services.staff``). Each attempt
  is counted *before* the password is checked, in the same serialised write transaction as the
  lock check, so parallel guesses on several workers get no more than the limit between them;
  a success resets the account.
- A client address is locked for :data:`LOCK` after :data:`ADDRESS_LIMIT` failures across
  accounts within :data:`WINDOW` (password spraying); successes do not count, so a hall whose
  counters share one address is only stopped by failures. The address is the connection's, or
  ``X-Forwarded-For`` from a proxy uvicorn trusts (``FORWARDED_ALLOW_IPS``, default 127.0.0.1).

Locked attempts are refused with 429 (``auth.locked`` / ``auth.throttled``, ``Retry-After``)
before any argon2 work. The back office lifts an account's lock with ``hall-server staff
unlock STAFF_NO``.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import Connection, delete, select

from hall_server import storage
from hall_server.errors import ApiError
from hall_server.storage import THROTTLE
from hall_server.storage.schema import SignInThrottleRow

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
LOCK = dt.timedelta(minutes=15)
WINDOW = dt.timedelta(minutes=15)  # failures older than this are forgotten
ACCOUNT, ADDRESS = "account", "address"


_TABLE = THROTTLE


def _row(conn: Connection, scope: str, subject: str) -> SignInThrottleRow | None:
    where = (_TABLE.c.scope == scope, _TABLE.c.subject == subject)
    found = conn.execute(select(_TABLE).where(*where)).mappings().first()
    return None if found is None else SignInThrottleRow.model_validate(dict(found))


def _refuse_if_locked(row: SignInThrottleRow | None, code: str, now: dt.datetime, **params: object) -> None:
    if row is None or row.locked_until is None:
        return
    until = dt.datetime.fromisoformat(row.locked_until)
    if until <= now:
        return
    seconds = math.ceil((until - now).total_seconds())
    error = ApiError(429, code, minutes=math.ceil(seconds / 60), **params)
    error.headers = {"Retry-After": str(seconds)}
    raise error


def _count_failure(
    conn: Connection, row: SignInThrottleRow | None, scope: str, subject: str, limit: int, now: dt.datetime
) -> None:
    """One more failure (a new window when the last one, or its lock, is over)."""
    over = row is None or (
        dt.datetime.fromisoformat(row.first_failure_at) + WINDOW <= now
        or (row.locked_until is not None and dt.datetime.fromisoformat(row.locked_until) <= now)
    )
    failures = 1 if over or row is None else row.failures + 1
    values = {
        "failures": failures,
        "first_failure_at": storage.iso(now) if over or row is None else row.first_failure_at,
        "locked_until": storage.iso(now + LOCK) if failures >= limit else None,
    }
    if row is None:
        conn.execute(_TABLE.insert().values(scope=scope, subject=subject, **values))
    else:
        conn.execute(
            _TABLE.update().where(_TABLE.c.scope == scope, _TABLE.c.subject == subject).values(**values)
        )


def admit(conn: Connection, staff_no: str, address: str, now: dt.datetime) -> None:
    """Refuse a locked account or address (429); else count this attempt against the account.

    Call inside a write transaction, before the password is checked.
    """
    _purge(conn, now)
    account = _row(conn, ACCOUNT, staff_no)
    _refuse_if_locked(account, "auth.locked", now, staff_no=staff_no)
    _refuse_if_locked(_row(conn, ADDRESS, address), "auth.throttled", now)
    _count_failure(conn, account, ACCOUNT, staff_no, ACCOUNT_LIMIT, now)


def failed(conn: Connection, address: str, now: dt.datetime) -> None:
    """A wrong staff number or password from ``address`` (the account's try is already counted)."""
    _count_failure(conn, _row(conn, ADDRESS, address), ADDRESS, address, ADDRESS_LIMIT, now)


def reset(conn: Connection, staff_no: str) -> bool:
    """Forget an account's failures and lift its lock (a success, or the back office)."""
    result = conn.execute(delete(_TABLE).where(_TABLE.c.scope == ACCOUNT, _TABLE.c.subject == staff_no))
    return bool(result.rowcount)


def _purge(conn: Connection, now: dt.datetime) -> None:
    """Drop rows whose window and lock are both over (typed garbage staff numbers included)."""
    stale = storage.iso(now - WINDOW)
    conn.execute(
        delete(_TABLE).where(
            _TABLE.c.first_failure_at < stale,
            (_TABLE.c.locked_until.is_(None)) | (_TABLE.c.locked_until < storage.iso(now)),
        )
    )
