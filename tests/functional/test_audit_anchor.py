"""The hall as witness of a station's audit trail, end to end: the real hall subprocess, real
station stores syncing with it, the real CLIs. The station's trail is tampered with the way
someone holding the store file would (sqlite3), including rewrites that leave it consistent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.functional.test_sync_client import (  # noqa: F401  (fixtures)
    accept_some,
    hall,
    hall_cli,
    online,
    seeded_hall_db,
    station,
)
from tests.hall import HallProcess
from tests.unit.test_audit_verify import recompute_chain
from window_client.cli import app as cli_app
from window_client.services.runtime import Runtime

runner = CliRunner()


@pytest.fixture
def counter(tmp_path: Path, hall: HallProcess, monkeypatch: pytest.MonkeyPatch) -> Runtime:  # noqa: F811
    """Station GXZX with three cases, synced once; the CLI is pointed at its store and the hall."""
    rt = station(tmp_path, "GXZX", hall.url)
    accept_some(rt)
    online(rt)
    report = rt.sync_once()
    assert report.completed and report.audit_alarm is None
    monkeypatch.setenv("WINDOW_CLIENT_HOME", str(rt.settings.home))
    monkeypatch.setenv("WINDOW_CLIENT_STATION", "GXZX")
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", hall.url)
    monkeypatch.setenv("WINDOW_CLIENT_USER", "C001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-1234")
    return rt


def cli(*args: str) -> tuple[int, Any, str]:
    result = runner.invoke(cli_app, ["--lang", "en", *args])  # the tests read the English messages
    data = json.loads(result.stdout) if "--json" in args and result.stdout.strip() else result.stdout
    return result.exit_code, data, result.stderr


def hall_audit(hall: HallProcess) -> tuple[int, dict[str, Any]]:  # noqa: F811
    result = hall_cli(hall, "stations", "audit", "--json")
    return result.exit_code, json.loads(result.stdout)["stations"][0]


def tamper(rt: Runtime, *statements: str) -> None:
    raw = sqlite3.connect(rt.store.path)
    try:
        for sql in statements:
            raw.execute(sql)
        raw.commit()
    finally:
        raw.close()


def test_the_hall_keeps_the_head_of_every_sync(counter: Runtime, hall: HallProcess) -> None:  # noqa: F811
    # The first sync registered the station key after its push (an event the hall has not seen
    # yet): the next sync sends the head on its own, though nothing is queued.
    report = counter.sync_once()
    assert report.completed and report.pushed == 0
    with counter.store.reading() as conn:
        head = conn.exec_driver_sql("SELECT MAX(seq) FROM audit_events").scalar()
    code, gxzx = hall_audit(hall)
    assert code == 0 and gxzx["anchored_seq"] == head and gxzx["alarms"] == []
    code, data, _ = cli("audit", "verify", "--against-hall", "--json")
    assert code == 0, data
    assert data["ok"] is True and data["hall"]["anchored_seq"] == head and data["hall"]["alarms"] == 0
    # The station key that sealed it is not registered yet: no supervisor has approved it (the
    # hall keeps the head as evidence all the same). Once S001 approves it at the counter, the
    # next sync registers it.
    assert counter.sync.client.audit_trail().anchors[-1].key_registered is False
    supervisor = counter.sync.sign_in_online("S001", "demo-5678")
    with counter.store.transaction("S001") as unit:
        counter.certificates.keys.signing_key(unit, supervisor)
    assert counter.sync_once().completed
    assert counter.sync.client.audit_trail().anchors[-1].key_registered is True


def test_a_wiped_store_is_found_only_against_the_hall(counter: Runtime, hall: HallProcess) -> None:  # noqa: F811
    # Everything the trail could be checked against goes too: the cases, the outbox, the
    # acknowledgement of the last sync. What is left is a consistent, empty store.
    tamper(
        counter,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM audit_events",
        "DELETE FROM case_materials",
        "DELETE FROM cases",
        "DELETE FROM outbox",
        "DELETE FROM meta WHERE key LIKE 'audit_%'",
    )
    code, data, _ = cli("audit", "verify", "--json")
    assert (code, data["ok"], data["events"]) == (0, True, 0)  # locally, nothing to go on
    code, data, _ = cli("audit", "verify", "--against-hall", "--json")
    assert code == 1 and data["ok"] is False
    assert "hall_shorter" in {p["kind"] for p in data["problems"]}
    assert data["hall"]["anchored_seq"] > data["events"]
    # The next sync's head goes back: the hall raises the alarm and the station is told.
    code, _, stderr = cli("sync", "--json")
    assert code == 1 and "audit alarm" in stderr and "went back" in stderr
    code, gxzx = hall_audit(hall)
    assert code == 1 and [a["code"] for a in gxzx["alarms"]] == ["audit.rewound"]
    status = counter.sync.engine.refresh_counts()
    assert status.audit_alarm is not None and "审计记录回退" in status.audit_alarm
    code, data, _ = cli("audit", "verify", "--against-hall", "--json")
    assert code == 1 and {"hall_shorter", "hall_alarm"} <= {p["kind"] for p in data["problems"]}


def test_an_edited_and_recomputed_trail_is_found_against_the_hall(
    counter: Runtime,
    hall: HallProcess,  # noqa: F811
) -> None:
    # The acceptance events keep their cases' states; only what they say is changed.
    tamper(counter, "UPDATE audit_events SET actor = 'C999' WHERE action LIKE 'case.accept%'")
    recompute_chain(counter)
    code, data, _ = cli("audit", "verify", "--json")
    assert code == 0 and data["ok"] is True  # the chain and the cases agree with themselves
    code, data, _ = cli("audit", "verify", "--against-hall", "--json")
    assert code == 1 and "hall_differs" in {p["kind"] for p in data["problems"]}
    code, _, stderr = cli("sync")
    assert code == 1 and "rewritten" in stderr
    code, gxzx = hall_audit(hall)
    assert code == 1 and [a["code"] for a in gxzx["alarms"]] == ["audit.rewritten"]
