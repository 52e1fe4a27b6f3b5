"""The server's schema: versioned migrations, never a blind create_all over someone else's database."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import inspect, text

from hall_server.services.certificates import CertificateAuthority
from hall_server.storage import (
    METADATA,
    MIGRATIONS,
    SCHEMA_VERSION,
    SchemaError,
    make_engine,
    migrate,
    schema_version,
)


def test_a_new_database_gets_every_table_and_its_version(db_url: str) -> None:
    engine = make_engine(db_url)
    assert migrate(engine) == SCHEMA_VERSION
    assert migrate(engine) == SCHEMA_VERSION  # again: nothing to do
    with engine.connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        rows = conn.execute(text("SELECT version, name FROM hall_schema_version")).all()
        found = inspect(conn)
        for table in METADATA.sorted_tables:
            columns = {c["name"] for c in found.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
    engine.dispose()
    assert [tuple(r) for r in rows] == [(step.version, step.name) for step in MIGRATIONS]


def test_a_database_from_a_newer_server_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    migrate(make_engine(url))
    with sqlite3.connect(tmp_path / "hall.db") as conn:
        conn.execute("INSERT INTO hall_schema_version VALUES (99, 'future', 'x')")
    with pytest.raises(SchemaError, match="newer"):
        migrate(make_engine(url))


def test_a_foreign_database_with_our_table_names_is_not_touched(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE operations (id INTEGER)")
    with pytest.raises(SchemaError, match="no schema version"):
        migrate(make_engine(f"sqlite:///{tmp_path / 'other.db'}"))


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_an_older_database_is_migrated_to_64_bit_outbox_numbers(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:  # a v4 database whose client_seq was created 32-bit
        METADATA.create_all(conn, tables=[METADATA.tables["hall_schema_version"]])
        for step in MIGRATIONS[:4]:
            step.apply(conn)
            conn.execute(
                text("INSERT INTO hall_schema_version VALUES (:v, :n, 'then')"),
                {"v": step.version, "n": step.name},
            )
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE operations ALTER COLUMN client_seq TYPE INTEGER"))
        serial = "SERIAL" if conn.dialect.name == "postgresql" else "INTEGER"
        conn.execute(text("DROP TABLE certificate_verifications"))  # one row per verification
        conn.execute(
            text(
                f"CREATE TABLE certificate_verifications (id {serial} PRIMARY KEY, at VARCHAR NOT NULL,"
                " status VARCHAR NOT NULL, identifier VARCHAR(128), key_id VARCHAR(64),"
                " qr_sha256 VARCHAR(64) NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO certificate_verifications (at, status, qr_sha256) VALUES"
                " ('2026-11-19T02:00:00+00:00', 'malformed', 'aa'),"
                " ('2026-11-19T03:00:00+00:00', 'malformed', 'bb')"
            )
        )
    migrate(engine)
    authority = CertificateAuthority(engine)
    for _ in range(3):
        authority.verify("ZZ1:junk")
    log = [(r["status"], r["day"], r["times"], r["qr_sha256"]) for r in authority.verifications()]
    assert log[:2] == [("malformed", "2026-11-19", 1, "aa"), ("malformed", "2026-11-19", 1, "bb")]
    assert [entry[2:] for entry in log[2:]] == [(3, "")]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO operations (server_seq, op_id, station, staff_no, origin, kind, payload,"
                " client_seq, created_at, received_at, status, fold)"
                " VALUES (1, 'op-00000001', 'GXZX', 'C001', 'station', 'case.accept', '{}', :seq,"
                " 't', 't', 'applied', 'applied')"
            ),
            {"seq": 2**63 - 1},
        )
        assert conn.execute(text("SELECT client_seq FROM operations")).scalar() == 2**63 - 1
    engine.dispose()
