"""Named, transactional schema migrations recorded in ``schema_migrations``.

Never edit a migration that has shipped: add a new one. Each runs in one transaction with its
record, so a crash mid-migration leaves the previous schema intact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, Engine

MIGRATIONS: Sequence[tuple[str, Sequence[str]]] = (
    (
        "0001_initial",
        (
            """CREATE TABLE cases (
                id INTEGER PRIMARY KEY,
                case_no TEXT NOT NULL UNIQUE,
                station TEXT NOT NULL,
                window TEXT NOT NULL,
                clerk TEXT NOT NULL,
                channel TEXT NOT NULL,
                item_code TEXT NOT NULL,
                item_name TEXT NOT NULL,
                is_package BOOLEAN NOT NULL DEFAULT 0,
                applicant_type TEXT NOT NULL,
                applicant_id TEXT NOT NULL,
                applicant_name TEXT NOT NULL,
                agent_name TEXT,
                agent_id TEXT,
                phone TEXT,
                state TEXT NOT NULL,
                verdict TEXT NOT NULL,
                reasons TEXT NOT NULL DEFAULT '[]',
                commitment BOOLEAN NOT NULL DEFAULT 0,
                approved_by TEXT,
                accepted_on DATE NOT NULL,
                due_date DATE,
                due_provisional BOOLEAN NOT NULL DEFAULT 0,
                supplement_due DATE,
                supplement_provisional BOOLEAN NOT NULL DEFAULT 0,
                remaining_days INTEGER,
                limit_unit TEXT NOT NULL,
                certificate_type TEXT,
                dedupe_key TEXT UNIQUE,
                content_hash TEXT,
                synced BOOLEAN NOT NULL DEFAULT 0,
                closed_on DATE,
                closed_by TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_cases_state_due ON cases (state, supplement_due)",
            "CREATE INDEX ix_cases_accepted_on ON cases (accepted_on)",
            "CREATE INDEX ix_cases_applicant ON cases (applicant_id)",
            """CREATE TABLE case_materials (
                case_no TEXT NOT NULL,
                code TEXT NOT NULL,
                name TEXT NOT NULL,
                tolerance TEXT NOT NULL,
                status TEXT NOT NULL,
                supplement_due DATE,
                received_on DATE,
                PRIMARY KEY (case_no, code)
            )""",
            """CREATE TABLE applicants (
                applicant_id TEXT PRIMARY KEY,
                applicant_type TEXT NOT NULL,
                name TEXT NOT NULL,
                dishonest BOOLEAN NOT NULL DEFAULT 0,
                open_commitments INTEGER NOT NULL DEFAULT 0,
                unfulfilled_commitments INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                op_id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                case_no TEXT,
                payload TEXT NOT NULL,
                created_at TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                result TEXT,
                reason TEXT,
                acked_at TEXT
            )""",
            "CREATE INDEX ix_outbox_status ON outbox (status, seq)",
            """CREATE TABLE audit_events (
                seq INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )""",
            "CREATE INDEX ix_audit_subject ON audit_events (subject)",
            """CREATE TABLE case_sequences (
                station TEXT NOT NULL,
                day TEXT NOT NULL,
                last INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (station, day)
            )""",
            """CREATE TABLE holiday_days (
                day DATE PRIMARY KEY,
                year INTEGER NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL
            )""",
            """CREATE TABLE holiday_years (
                year INTEGER PRIMARY KEY,
                source TEXT NOT NULL,
                imported_at TEXT NOT NULL
            )""",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
    ),
    (
        "0002_staff",
        (
            """CREATE TABLE staff (
                staff_no TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                station TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                last_online_login TEXT,
                active BOOLEAN NOT NULL DEFAULT 1
            )""",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def applied(conn: Connection) -> set[str]:
    """Names of the migrations already applied."""
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return {row[0] for row in conn.exec_driver_sql("SELECT name FROM schema_migrations")}


def migrate(engine: Engine) -> list[str]:
    """Apply every pending migration in order; returns the names applied now."""
    done: list[str] = []
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        for name, statements in MIGRATIONS:
            with conn.begin():
                # Re-read inside the write lock: another process may have migrated meanwhile.
                if name in applied(conn):
                    continue
                for statement in statements:
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, _now())
                )
                done.append(name)
    return done
