"""The offline store: schema, pragmas, migrations, audit chain, case numbers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from offline_cache import Store
from offline_cache.migrations import MIGRATIONS
from offline_cache.repositories import allocate_sequences, case_number
from tests.conftest import TODAY


def test_migrations_create_exactly_the_tables_the_models_describe(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    conn = sqlite3.connect(store.path)
    for table in SQLModel.metadata.sorted_tables:
        stored = {row[1]: bool(row[3]) for row in conn.execute(f"PRAGMA table_info({table.name})")}
        described = {c.name: not c.nullable for c in table.columns}
        assert set(stored) == set(described), table.name
        for name, not_null in described.items():
            primary = table.columns[name].primary_key
            assert stored[name] == not_null or primary, f"{table.name}.{name} nullability differs"


def test_migrations_are_recorded_and_run_once(tmp_path: Path) -> None:
    first = Store(tmp_path / "s.db")
    assert first.migrations_applied == [name for name, _ in MIGRATIONS]
    first.close()
    again = Store(tmp_path / "s.db")
    assert again.migrations_applied == []
    names = [r[0] for r in sqlite3.connect(again.path).execute("SELECT name FROM schema_migrations")]
    assert names == [name for name, _ in MIGRATIONS]


def test_every_connection_is_wal_and_fully_synchronous(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with store.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def _store_with_events(tmp_path: Path, count: int) -> Store:
    store = Store(tmp_path / "s.db")
    for n in range(count):
        with store.transaction("C001") as unit:
            unit.audit("test.event", f"S-{n}", {"n": n})
    return store


def test_audit_chain_verifies_when_untouched(tmp_path: Path) -> None:
    store = _store_with_events(tmp_path, 5)
    assert store.verify_audit() == (5, None)


def test_audit_chain_names_an_altered_event(tmp_path: Path) -> None:
    store = _store_with_events(tmp_path, 5)
    raw = sqlite3.connect(store.path)
    raw.execute("UPDATE audit_events SET detail = '{\"n\":99}' WHERE seq = 3")
    raw.commit()
    checked, problem = store.verify_audit()
    assert checked == 2
    assert problem is not None and problem.seq == 3 and problem.kind == "altered"


def test_audit_chain_names_a_deleted_event(tmp_path: Path) -> None:
    store = _store_with_events(tmp_path, 5)
    raw = sqlite3.connect(store.path)
    raw.execute("DELETE FROM audit_events WHERE seq = 2")
    raw.commit()
    _, problem = store.verify_audit()
    assert problem is not None and problem.seq == 2 and problem.kind == "missing"


def test_audit_chain_detects_events_deleted_from_the_end(tmp_path: Path) -> None:
    store = _store_with_events(tmp_path, 5)
    raw = sqlite3.connect(store.path)
    raw.execute("DELETE FROM audit_events WHERE seq >= 4")
    raw.commit()
    _, problem = store.verify_audit()
    assert problem is not None and problem.kind == "truncated" and problem.seq == 4


def test_a_failed_unit_of_work_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    try:
        with store.transaction("C001") as unit:
            unit.audit("test.event", "X", {})
            unit.enqueue("test.op", "X", {})
            raise RuntimeError("crash in the middle")
    except RuntimeError:
        pass
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)
    assert raw.execute("SELECT COUNT(*) FROM audit_events").fetchone() == (0,)
    assert store.verify_audit() == (0, None)


def test_case_numbers_continue_across_transactions_and_restart_per_day(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with store.transaction("C001") as unit:
        first = allocate_sequences(unit, "GXZX", TODAY, 3)
    with store.transaction("C001") as unit:
        second = allocate_sequences(unit, "GXZX", TODAY, 2)
        other_station = allocate_sequences(unit, "JHYZ1", TODAY, 1)
    assert list(first) == [1, 2, 3]
    assert list(second) == [4, 5]
    assert list(other_station) == [1]
    assert case_number("GXZX", TODAY, 4) == "GXZX-20261120-00004"
