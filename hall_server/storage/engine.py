"""The engine factory and the hall's transactions, for SQLite and PostgreSQL.

The engine is built from a URL by :func:`make_engine`, never at import time (the schema is
brought up to date by :func:`hall_server.storage.migrations.migrate`).

Writers are serialised: on SQLite a write transaction starts with ``BEGIN IMMEDIATE`` (it takes
the lock up front instead of failing to upgrade a read lock halfway); on PostgreSQL it takes a
transaction-scoped advisory lock. So the server's sequence numbers are assigned in commit order
and a puller never skips a change that commits late with a smaller number.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

WRITE_LOCK_KEY = 0x4841_4C4C  # "HALL": the advisory lock every PostgreSQL writer takes
BUSY_TIMEOUT_MS = 30_000


class SchemaError(Exception):
    """The database's schema cannot be used by this server (e.g. written by a newer version)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///PATH`` or ``postgresql+psycopg://...``).

    SQLite: WAL so pulls read while a push writes; ``synchronous=FULL`` because an ``applied``
    answer is a promise the client acts on (it stops resending), so a commit must survive a power
    cut, not only a crash; a busy timeout so concurrent writers wait instead of failing; the
    driver's own transaction handling is off and BEGIN is issued by us (see the module text).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {}
        if database in ("", ":memory:"):
            options["poolclass"] = StaticPool  # a memory database lives as long as its one connection
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            **options,
        )
        _sqlite_events(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8)
    raise SchemaError(f"unsupported database URL (use sqlite:/// or postgresql+psycopg://): {url}")


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hall_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_postgresql(engine: Engine) -> bool:
    """Whether the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A serialised write transaction (committed on success, rolled back on error)."""
    with engine.connect() as conn:
        conn.execution_options(hall_write=True)
        with conn.begin():
            if is_postgresql(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot (never blocks writers on SQLite in WAL mode)."""
    with engine.connect() as conn, conn.begin():
        yield conn
