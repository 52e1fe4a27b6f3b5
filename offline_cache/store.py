"""Engine factory and the unit of work that writes state, audit and outbox together."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event

from offline_cache import audit
from offline_cache.audit_cases import AuditReport, local_report
from offline_cache.migrations import migrate

if TYPE_CHECKING:
    from sqlmodel import Session

# One encoder for every call: json.dumps with options builds a new JSONEncoder each time, which
# a 50,000-row batch (two documents a case) pays 100,000 times.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    """Stable JSON used for payloads and audit details (sorted keys, no spaces)."""
    return _CANONICAL.encode(value)


def new_op_id() -> str:
    """A random idempotency key: ``uuid.uuid4().hex``, without building a UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def utc_now() -> str:
    """Timestamp in UTC, ISO 8601 with milliseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


# Set on every connection to a store (see make_engine); tests/bench/bench_batch.py's baseline
# uses the same ones.
PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=FULL",
    "foreign_keys=ON",
    "busy_timeout=30000",
    "wal_autocheckpoint=10000",
)


def make_engine(path: Path | str) -> Engine:
    """Create the SQLAlchemy engine for a store file with the station's pragmas.

    - WAL lets the TUI read while the sync worker or a batch writes.
    - ``synchronous=FULL``: in WAL mode NORMAL may lose the last commits on power loss, and a
      case is promised to the applicant the moment the receipt is shown, so every commit is
      fsynced. Batch acceptance commits in chunks, so the cost is paid per chunk, not per row.
    - ``wal_autocheckpoint``: the WAL is copied back into the database every 10,000 pages
      (about 40 MB) instead of SQLite's 1,000. A batch commits every 1,000 rows, and each
      chunk touches index pages all over the file; checkpointing after every few chunks wrote
      those pages again and again (about a third of a 50,000-row batch's disk time). Every
      commit is still fsynced to the WAL, so nothing committed is less durable.
    - The pysqlite driver's own transaction handling is switched off and BEGIN is issued by us,
      so write units can take the lock up front (BEGIN IMMEDIATE) instead of failing to
      upgrade a read lock halfway through.
    """
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class UnitOfWork:
    """One local transaction: state changes plus their audit events and outbox operations.

    Audit events and outbox operations are buffered and written with ``executemany`` when the
    unit commits, inside the same transaction as the state they describe.
    """

    def __init__(self, conn: Connection, actor: str) -> None:
        self.conn = conn
        self.actor = actor
        self.now = utc_now()
        self._events: list[tuple[str, str, str, str, str]] = []
        self._ops: list[tuple[str, str, str | None, str, str]] = []

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """Run one statement with driver-level parameters."""
        return self.conn.exec_driver_sql(sql, params)  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many rows (the batch path)."""
        if rows:
            self.conn.exec_driver_sql(sql, list(rows))  # type: ignore[arg-type]

    def audit(self, action: str, subject: str, detail: dict[str, Any], actor: str | None = None) -> None:
        """Record an audit event (written at commit, chained)."""
        self._events.append((self.now, actor or self.actor, action, subject, canonical_json(detail)))

    def enqueue(self, kind: str, case_no: str | None, payload: dict[str, Any]) -> str:
        """Queue an outbox operation; returns its idempotency key."""
        op_id = new_op_id()
        self._ops.append((op_id, kind, case_no, canonical_json(payload), self.now))
        return op_id

    def flush(self) -> None:
        """Write the buffered audit events and outbox operations."""
        audit.append_events(self.conn, self._events)
        self.executemany(
            "INSERT INTO outbox (op_id, kind, case_no, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            self._ops,
        )
        self._events.clear()
        self._ops.clear()


class Store:
    """A station's local store: one SQLite file, migrated on open."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(self.path)
        self.migrations_applied = migrate(self.engine)
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")

    @contextmanager
    def transaction(
        self, actor: str, before_commit: Callable[[], None] | None = None
    ) -> Iterator[UnitOfWork]:
        """A write transaction (BEGIN IMMEDIATE); commits with its audit and outbox rows.

        ``before_commit`` is called once everything is written, just before the COMMIT (which
        syncs the file to disk without holding the GIL): batch acceptance reads on meanwhile.
        """
        with self._writer.connect() as conn, conn.begin():
            unit = UnitOfWork(conn, actor)
            yield unit
            unit.flush()
            if before_commit is not None:
                before_commit()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only connection (a deferred transaction, rolled back at the end)."""
        with self.engine.connect() as conn:
            yield conn

    def session(self) -> Session:
        """An ORM session for queries that map rows to SQLModel classes."""
        # Imported here: SQLModel and the ORM cost ~0.15 s at start-up, and no command needs
        # them before it asks for a session.
        from sqlmodel import Session

        return Session(self.engine)

    def meta(self, key: str) -> str | None:
        """A value from the meta table."""
        with self.reading() as conn:
            row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (key,)).first()
        return None if row is None else str(row[0])

    def verify_audit(self) -> tuple[int, audit.AuditProblem | None]:
        """Check the audit chain; see :func:`offline_cache.audit.verify_chain`."""
        with self.reading() as conn:
            return audit.verify_chain(conn)

    def scrub(self) -> None:
        """Rewrite the file from its live rows and fold the WAL into it.

        After secrets were overwritten in place (a key sealed that was stored in the clear),
        their old bytes may linger in free pages, in free space inside pages and in old WAL
        frames; VACUUM builds every page anew and the checkpoint replaces the file's pages and
        empties the WAL. Runs outside any transaction, on a raw connection.
        """
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()

    def audit_report(self) -> AuditReport:
        """The chain and every case's state against its events (``window-client audit verify``)."""
        with self.reading() as conn:
            return local_report(conn)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()
