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
    (
        "0003_sync",
        (
            # Review of refused operations: who looked at a conflict, and when (never deleted).
            "ALTER TABLE outbox ADD COLUMN code TEXT",
            "ALTER TABLE outbox ADD COLUMN reviewed_by TEXT",
            "ALTER TABLE outbox ADD COLUMN reviewed_at TEXT",
            # "Are all ops of this case acknowledged?" is asked for every pushed case.
            "CREATE INDEX ix_outbox_case ON outbox (case_no, status)",
            """CREATE TABLE sync_conflicts (
                op_id TEXT PRIMARY KEY,
                case_no TEXT,
                code TEXT NOT NULL,
                reason TEXT NOT NULL,
                winner TEXT,
                change_seq INTEGER,
                detail TEXT NOT NULL DEFAULT '{}',
                recorded_at TEXT NOT NULL
            )""",
            """CREATE TABLE remote_standings (
                applicant_id TEXT NOT NULL,
                station TEXT NOT NULL,
                open_commitments INTEGER NOT NULL DEFAULT 0,
                unfulfilled_commitments INTEGER NOT NULL DEFAULT 0,
                dishonest BOOLEAN NOT NULL DEFAULT 0,
                change_seq INTEGER NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (applicant_id, station)
            )""",
            """CREATE TABLE cached_documents (
                name TEXT PRIMARY KEY,
                version TEXT NOT NULL,
                body TEXT NOT NULL,
                fetched_at TEXT NOT NULL
            )""",
            """CREATE TABLE pulled_changes (
                seq INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                key TEXT NOT NULL,
                payload TEXT NOT NULL,
                at TEXT NOT NULL,
                received_at TEXT NOT NULL,
                consumed_at TEXT
            )""",
            "CREATE INDEX ix_pulled_changes_kind ON pulled_changes (kind, consumed_at)",
            # The staleness rule needs a baseline for a store that never synced: when it was
            # created (the first migration's time), or now for a store that predates this record.
            "INSERT OR IGNORE INTO meta (key, value) SELECT 'store.created_at', applied_at"
            " FROM schema_migrations WHERE name = '0001_initial'",
            "INSERT OR IGNORE INTO meta (key, value)"
            " VALUES ('store.created_at', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))",
        ),
    ),
    (
        "0004_certificates",
        (
            """CREATE TABLE certificates (
                identifier TEXT PRIMARY KEY,
                certificate_type TEXT NOT NULL,
                type_code TEXT NOT NULL,
                type_name TEXT NOT NULL,
                holder_name TEXT NOT NULL,
                holder_id TEXT NOT NULL,
                holder_id_type TEXT NOT NULL,
                issuer_code TEXT NOT NULL,
                issuer_name TEXT NOT NULL,
                station TEXT NOT NULL,
                issued_on DATE NOT NULL,
                valid_until DATE,
                key_id TEXT NOT NULL,
                body TEXT NOT NULL,
                seal TEXT NOT NULL,
                qr TEXT NOT NULL,
                origin TEXT NOT NULL DEFAULT 'local',
                issued_by TEXT NOT NULL,
                printed INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_certificates_issued ON certificates (station, issued_on)",
            # A case may result in several certificates (一件事) and a certificate in several cases.
            """CREATE TABLE certificate_cases (
                case_no TEXT NOT NULL,
                identifier TEXT NOT NULL,
                PRIMARY KEY (case_no, identifier)
            )""",
            "CREATE INDEX ix_certificate_cases_identifier ON certificate_cases (identifier)",
            """CREATE TABLE certificate_handovers (
                identifier TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                collector_name TEXT,
                collector_id TEXT,
                tracking_no TEXT,
                handed_over_on DATE NOT NULL,
                handed_over_by TEXT NOT NULL,
                at TEXT NOT NULL
            )""",
            "CREATE INDEX ix_certificate_handovers_on ON certificate_handovers (handed_over_on)",
            """CREATE TABLE certificate_revocations (
                identifier TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                revoked_at TEXT NOT NULL,
                revoked_by TEXT NOT NULL,
                source TEXT NOT NULL,
                published_at TEXT
            )""",
            """CREATE TABLE certificate_sequences (
                station TEXT PRIMARY KEY,
                last INTEGER NOT NULL DEFAULT 0
            )""",
            # Own keys keep their private half; keys published by the hall have none.
            """CREATE TABLE signing_keys (
                key_id TEXT PRIMARY KEY,
                station TEXT NOT NULL,
                public_key TEXT NOT NULL,
                private_key TEXT,
                proof TEXT NOT NULL,
                origin TEXT NOT NULL,
                created_at TEXT NOT NULL,
                retired_at TEXT,
                revoked_at TEXT,
                revoked_reason TEXT,
                published_at TEXT
            )""",
        ),
    ),
    (
        "0005_counter_indexes",
        (
            # The 红黄绿 counts of the workbench and the day close count open cases by due date
            # per state as index ranges (the 补正 deadline already has ix_cases_state_due), so
            # they stay fast with hundreds of thousands of closed cases in the store.
            "CREATE INDEX ix_cases_state_due_date ON cases (state, due_date)",
        ),
    ),
    (
        "0006_certificate_approvals",
        (
            # A supervisor's signed approval (models.approval, JSON) kept with what it approves,
            # so the hall can check it whenever a sync sends the item, long after it was made.
            "ALTER TABLE signing_keys ADD COLUMN approval TEXT",
            "ALTER TABLE certificate_revocations ADD COLUMN approval TEXT",
        ),
    ),
    (
        "0007_queue",
        (
            # 排队叫号: one row per ticket of the station's day. ``category`` is the queue the
            # ticket waits in now (转窗 may move it), the letter of ``ticket`` the one it was
            # taken in. ``queued_at`` orders the queue (taken, re-queued or transferred);
            # ``call_no`` orders a day's calls (the calling rule counts a window's 绿色通道 calls
            # in a row). Times are UTC ISO text; ``cases`` the JSON list a visit produced.
            """CREATE TABLE queue_tickets (
                station TEXT NOT NULL,
                day TEXT NOT NULL,
                ticket TEXT NOT NULL,
                number INTEGER NOT NULL,
                category TEXT NOT NULL,
                state TEXT NOT NULL,
                window TEXT,
                target_window TEXT,
                phone TEXT,
                appointment TEXT,
                item_code TEXT,
                taken_at TEXT NOT NULL,
                queued_at TEXT NOT NULL,
                called_at TEXT,
                last_called_at TEXT,
                calls INTEGER NOT NULL DEFAULT 0,
                call_no INTEGER,
                started_at TEXT,
                finished_at TEXT,
                cases TEXT NOT NULL DEFAULT '[]',
                updated_at TEXT NOT NULL,
                PRIMARY KEY (station, day, ticket)
            )""",
            "CREATE INDEX ix_queue_tickets_state ON queue_tickets (station, day, state, queued_at)",
            "CREATE INDEX ix_queue_tickets_window ON queue_tickets (station, day, window, call_no)",
            """CREATE TABLE queue_sequences (
                station TEXT NOT NULL,
                day TEXT NOT NULL,
                category TEXT NOT NULL,
                last INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (station, day, category)
            )""",
            # 暂停服务: a window's pause and its reason (a resumed window keeps its row).
            """CREATE TABLE queue_windows (
                station TEXT NOT NULL,
                window TEXT NOT NULL,
                paused BOOLEAN NOT NULL DEFAULT 0,
                reason TEXT,
                since TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (station, window)
            )""",
        ),
    ),
    (
        "0008_ratings",
        (
            # 好差评: one row per case and channel (pad, code); level NULL: declined (未评价).
            """CREATE TABLE ratings (
                id INTEGER PRIMARY KEY,
                case_no TEXT NOT NULL,
                channel TEXT NOT NULL,
                level INTEGER CHECK (level IS NULL OR level BETWEEN 1 AND 5),
                reasons TEXT NOT NULL DEFAULT '[]',
                text TEXT,
                rated_on DATE NOT NULL,
                rated_at TEXT NOT NULL,
                recorded_by TEXT NOT NULL,
                op_id TEXT NOT NULL,
                UNIQUE (case_no, channel)
            )""",
            # The evaluator pad asks "the window's latest case today" every second.
            "CREATE INDEX ix_cases_window_day ON cases (window, accepted_on)",
            # The evaluation codes printed on receipts, by code (filled lazily: derived data).
            """CREATE TABLE rating_codes (
                code TEXT PRIMARY KEY,
                case_no TEXT NOT NULL UNIQUE
            )""",
            # The key of the evaluation codes: random per store, so a code cannot be derived
            # from a case number (models.rating.evaluation_code). It is kept in the store and
            # not with the signing keys' station secret: a changed secret must not invalidate
            # every receipt already handed out, and whoever holds the store can rate anyway.
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('rating.code_key', lower(hex(randomblob(32))))",
        ),
    ),
    (
        "0009_identity",
        (
            # How each case's applicant was identified (models.identity_check), and 帮办代办.
            # A table of its own: cases from before it have no row (the check was not recorded).
            """CREATE TABLE case_identity (
                case_no TEXT PRIMARY KEY,
                method TEXT NOT NULL,
                slip TEXT UNIQUE,
                power_of_attorney BOOLEAN NOT NULL DEFAULT 0,
                assisted BOOLEAN NOT NULL DEFAULT 0
            )""",
            # 办事专员: one dedicated staff member per enterprise (材料只交一次，沟通只对一人).
            """CREATE TABLE specialists (
                credit_code TEXT PRIMARY KEY,
                staff_no TEXT NOT NULL,
                assigned_by TEXT NOT NULL,
                assigned_at TEXT NOT NULL
            )""",
        ),
    ),
    (
        "0010_crosshall",
        (
            # 跨区通办: what each partner hall (published by this station's hall with its key)
            # may put into the certificates it seals: its issuing authority and certificate types.
            """CREATE TABLE partner_issuers (
                station TEXT PRIMARY KEY,
                issuer_code TEXT NOT NULL,
                type_codes TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
        ),
    ),
    (
        "0011_reminders",
        (
            # The station's notification outbox (models.notify): one row per rule, case and due
            # day (the key), sent exactly once; what was sent is shown on the case (提醒记录).
            """CREATE TABLE notifications (
                key TEXT PRIMARY KEY,
                rule TEXT NOT NULL,
                case_no TEXT NOT NULL,
                recipient TEXT NOT NULL,
                recipient_kind TEXT NOT NULL,
                text TEXT NOT NULL,
                due_on DATE NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                sender TEXT,
                receipt TEXT,
                created_at TEXT NOT NULL,
                sent_at TEXT
            )""",
            "CREATE INDEX ix_notifications_status ON notifications (status, created_at)",
            "CREATE INDEX ix_notifications_case ON notifications (case_no)",
        ),
    ),
    (
        "0012_hall_timeliness",
        (
            # The hall's 承诺时限 supervision of this station's cases, as last pulled
            # (case.timeliness): its 红黄绿, due date and 首办负责人, shown at the counter.
            """CREATE TABLE hall_timeliness (
                case_no TEXT PRIMARY KEY,
                due_date DATE,
                days_left INTEGER,
                flag TEXT,
                paused BOOLEAN NOT NULL DEFAULT 0,
                handler TEXT,
                handler_name TEXT,
                as_of DATE,
                change_seq INTEGER NOT NULL
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
