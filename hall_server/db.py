"""Engine factory and versioned schema migrations for SQLite and PostgreSQL.

The engine is built from a URL by :func:`make_engine`, never at import time. The schema version
is recorded in ``hall_schema_version``; :func:`migrate` applies the numbered migrations the
database does not have yet, each in its own serialised transaction, and refuses a database
written by a newer server.

Writers are serialised: on SQLite a write transaction starts with ``BEGIN IMMEDIATE`` (it takes
the lock up front instead of failing to upgrade a read lock halfway); on PostgreSQL it takes a
transaction-scoped advisory lock. So the server's sequence numbers are assigned in commit order
and a puller never skips a change that commits late with a smaller number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from hall_server.schema import METADATA, TABLES_V1, TABLES_V4, TABLES_V5

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


# ------------------------------------------------------------------ migrations


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema step; shipped steps are never edited, new ones are appended."""

    version: int
    name: str
    apply: Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V1)


def _v2_certificates(conn: Connection) -> None:
    from hall_server.certificates import TABLES_V2  # imported here: that module needs this one

    METADATA.create_all(conn, tables=TABLES_V2)


def _v3_verification_log(conn: Connection) -> None:
    from hall_server.certificates import TABLES_V3

    METADATA.create_all(conn, tables=TABLES_V3)


def _v4_approval_keys(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V4)


def _v5_operation_approvals(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V5)


def _v6_certificate_proofs(conn: Connection) -> None:
    from hall_server.certificate_trust import TABLES_V6

    METADATA.create_all(conn, tables=TABLES_V6)


def _v7_audit_anchors(conn: Connection) -> None:
    from hall_server.anchors import TABLES_V7  # imported here: that module needs this one's package

    METADATA.create_all(conn, tables=TABLES_V7)


def _v8_sign_in_throttle(conn: Connection) -> None:
    from hall_server.throttle import TABLES_V8

    METADATA.create_all(conn, tables=TABLES_V8)


def _v9_robustness(conn: Connection) -> None:
    from hall_server.certificates import count_verifications

    # The protocol allows any 64-bit outbox sequence number (models.sync.MAX_SEQ); PostgreSQL's
    # INTEGER is 32-bit (SQLite's already is 64-bit, and new databases get BIGINT from v1).
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE operations ALTER COLUMN client_seq TYPE BIGINT"))
    # The public verification endpoint counts into bounded rows instead of one row per request.
    count_verifications(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", _v1_initial),
    Migration(2, "certificates", _v2_certificates),
    Migration(3, "verification_log", _v3_verification_log),
    Migration(4, "approval_keys", _v4_approval_keys),
    Migration(5, "operation_approvals", _v5_operation_approvals),
    Migration(6, "certificate_proofs", _v6_certificate_proofs),
    Migration(7, "audit_anchors", _v7_audit_anchors),
    Migration(8, "sign_in_throttle", _v8_sign_in_throttle),
    Migration(9, "wide_client_seq_and_verification_counts", _v9_robustness),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_version(conn: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    if not inspect(conn).has_table("hall_schema_version"):
        return 0
    value = conn.execute(text("SELECT MAX(version) FROM hall_schema_version")).scalar()
    return int(value or 0)


def _ensure_version_table(conn: Connection) -> None:
    METADATA.create_all(conn, tables=[METADATA.tables["hall_schema_version"]])


def migrate(engine: Engine) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version now in force.

    Raises :class:`SchemaError` when the database was written by a newer server, or when it holds
    tables but no version record (not a hall-server database).
    """
    with write_transaction(engine) as conn:
        current = schema_version(conn)
        if current == 0 and inspect(conn).has_table("operations"):
            raise SchemaError("the database has hall tables but no schema version; refusing to touch it")
        if current > SCHEMA_VERSION:
            raise SchemaError(
                f"the database has schema version {current}, newer than this server's {SCHEMA_VERSION}"
            )
        _ensure_version_table(conn)
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            step.apply(conn)
            conn.execute(
                text("INSERT INTO hall_schema_version (version, name, applied_at) VALUES (:v, :n, :at)"),
                {"v": step.version, "n": step.name, "at": dt.datetime.now(dt.UTC).isoformat()},
            )
            current = step.version
        return current
