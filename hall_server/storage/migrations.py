"""Versioned schema migrations: numbered steps, recorded in ``hall_schema_version``.

:func:`migrate` applies the steps the database does not have yet, in one serialised
transaction, and refuses a database written by a newer server. Shipped steps are never edited;
new ones are appended. Every table a step creates is defined in :mod:`hall_server.storage.schema`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, inspect, text

from hall_server.storage.engine import SchemaError, write_transaction
from hall_server.storage.schema import (
    METADATA,
    TABLES_V1,
    TABLES_V2,
    TABLES_V3,
    TABLES_V4,
    TABLES_V5,
    TABLES_V6,
    TABLES_V7,
    TABLES_V8,
    VERIFICATIONS,
)
from hall_server.storage.schema_crosshall import TABLES_V13
from hall_server.storage.schema_service import TABLES_V10, TABLES_V11, TABLES_V12
from hall_server.storage.schema_supervision import TABLES_V14, TABLES_V15


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema step; shipped steps are never edited, new ones are appended."""

    version: int
    name: str
    apply: Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V1)


def _v2_certificates(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V2)


def _v3_verification_log(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V3)


def _v4_approval_keys(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V4)


def _v5_operation_approvals(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V5)


def _v6_certificate_proofs(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V6)


def _v7_audit_anchors(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V7)


def _v8_sign_in_throttle(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V8)


def _v9_robustness(conn: Connection) -> None:
    # The protocol allows any 64-bit outbox sequence number (models.sync.MAX_SEQ); PostgreSQL's
    # INTEGER is 32-bit (SQLite's already is 64-bit, and new databases get BIGINT from v1).
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE operations ALTER COLUMN client_seq TYPE BIGINT"))
    # The public verification endpoint counts into bounded rows instead of one row per request.
    _count_verifications(conn)


def _v10_queue(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V10)


def _v11_ratings(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V11)


def _v12_identity(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V12)


def _v13_crosshall(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V13)


def _v14_handlers_and_timeliness(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V14)


def _v15_notifications(conn: Connection) -> None:
    METADATA.create_all(conn, tables=TABLES_V15)


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
    Migration(10, "queue", _v10_queue),
    Migration(11, "ratings", _v11_ratings),
    Migration(12, "case_identities", _v12_identity),
    Migration(13, "crosshall", _v13_crosshall),
    Migration(14, "handlers_and_timeliness", _v14_handlers_and_timeliness),
    Migration(15, "notifications", _v15_notifications),
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


def _count_verifications(conn: Connection) -> None:
    """The verification log gets its day and counters (see
    :class:`~hall_server.storage.schema.VerificationLogRow`)."""
    found = {column["name"] for column in inspect(conn).get_columns("certificate_verifications")}
    if "times" not in found:
        for ddl in (
            "ADD COLUMN day VARCHAR(10) NOT NULL DEFAULT ''",
            "ADD COLUMN times INTEGER NOT NULL DEFAULT 1",
            "ADD COLUMN last_at VARCHAR",
        ):
            conn.execute(text(f"ALTER TABLE certificate_verifications {ddl}"))
        conn.execute(text("UPDATE certificate_verifications SET day = substr(at, 1, 10), last_at = at"))
    for index in VERIFICATIONS.indexes:
        index.create(conn, checkfirst=True)
