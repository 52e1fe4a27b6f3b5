"""`window-client audit verify` on a real store: what a station can find out on its own.

Each test tampers with the store file the way someone with the file and the sqlite3 shell would,
then asks the real command. What only the hall can find (a whole store rolled back consistently,
an edited event whose chain was recomputed) is in tests/functional/test_audit_anchor.py.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from typer.testing import CliRunner

from offline_cache import audit
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from window_client.cli import app as cli_app
from window_client.services.runtime import Runtime
from window_client.services.state_machine import CaseEvent

runner = CliRunner()


def verify(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(cli_app, ["audit", "verify", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def tamper(rt: Runtime, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Run SQL on the store file behind the application's back."""
    raw = sqlite3.connect(rt.store.path)
    try:
        for sql in statements:
            raw.execute(sql, params if "?" in sql else ())
        raw.commit()
    finally:
        raw.close()


def some_cases(rt: Runtime) -> list[str]:
    item = tolerable_item(rt)
    first = rt.acceptance.accept(request(item), TODAY).case_no
    second = rt.acceptance.accept(request(item), TODAY).case_no
    assert first and second
    rt.cases.transition(first, CaseEvent.APPROVE, TODAY)
    return [first, second]


def kinds(data: dict[str, Any]) -> set[str]:
    return {p["kind"] for p in data["problems"]}


def test_an_untouched_store_is_intact_with_its_cases(rt: Runtime) -> None:
    some_cases(rt)
    code, data = verify()
    assert code == 0, data
    assert data["ok"] is True and data["problem"] is None and data["problems"] == []
    assert data["events"] == 3 and data["cases_checked"] == 2
    result = runner.invoke(cli_app, ["audit", "verify"])
    assert result.exit_code == 0 and "审计记录完整：3 条事件，2 件办件与其事件一致" in result.stdout
    english = runner.invoke(cli_app, ["--lang", "en", "audit", "verify"])
    assert english.exit_code == 0 and "intact: 3 events, 2 cases" in english.stdout


def test_wiping_every_event_and_the_head_is_not_intact(rt: Runtime) -> None:
    cases = some_cases(rt)
    tamper(rt, "DELETE FROM audit_events", "DELETE FROM meta WHERE key LIKE 'audit_head_%'")
    code, data = verify()
    assert code == 1
    assert data["ok"] is False and data["events"] == 0
    # The cases are still there, and nothing in the trail says how they got their state.
    assert {c["case_no"] for c in data["cases"]} == set(cases)
    assert {c["audited"] for c in data["cases"]} == {None}
    assert "unaudited_case" in kinds(data)
    text = runner.invoke(cli_app, ["audit", "verify"])
    assert text.exit_code == 1 and "审计记录已被破坏（0 条事件完好" in text.stdout
    assert "办件无审计事件（unaudited_case）：" in text.stdout and "完整" not in text.stdout
    english = runner.invoke(cli_app, ["--lang", "en", "audit", "verify"])
    assert "audit trail BROKEN (0 good events" in english.stdout and "  unaudited_case: " in english.stdout


def test_a_missing_head_while_events_exist_is_named(rt: Runtime) -> None:
    some_cases(rt)
    tamper(rt, "DELETE FROM meta WHERE key LIKE 'audit_head_%'")
    code, data = verify()
    assert code == 1 and data["problem"]["kind"] == "head_missing"


def test_events_deleted_from_the_start_are_named(rt: Runtime) -> None:
    some_cases(rt)
    tamper(rt, "DELETE FROM audit_events WHERE seq = 1")
    code, data = verify()
    assert code == 1 and data["problem"] == {
        "kind": "missing",
        "seq": 1,
        "message": "event 1 is missing (next present is 2)",
    }


def test_an_edited_case_event_with_a_recomputed_chain_is_caught_by_the_cases(rt: Runtime) -> None:
    approved, _ = some_cases(rt)
    # Rewrite 办结（准予） as 撤回 and recompute every hash after it, and the head: the chain is
    # consistent again, but the case's stored state no longer follows from its events.
    tamper(rt, "UPDATE audit_events SET action = 'case.withdraw' WHERE action = 'case.approve'")
    recompute_chain(rt)
    with rt.store.reading() as conn:
        assert audit.verify_chain(conn) == (3, None)
    code, data = verify()
    assert code == 1
    assert data["cases"] == [{"case_no": approved, "stored": "approved", "audited": "withdrawn"}]
    assert kinds(data) == {"case_state"}


def test_a_state_changed_without_an_event_is_reported(rt: Runtime) -> None:
    _, accepted = some_cases(rt)
    tamper(rt, "UPDATE cases SET state = 'approved' WHERE case_no = ?", params=(accepted,))
    code, data = verify()
    assert code == 1
    assert data["events"] == 3 and data["cases"] == [
        {"case_no": accepted, "stored": "approved", "audited": "accepted"}
    ]
    text = runner.invoke(cli_app, ["audit", "verify"])
    assert accepted in text.stdout and "approved" in text.stdout


def test_a_deleted_case_whose_events_remain_is_reported(rt: Runtime) -> None:
    _, accepted = some_cases(rt)
    tamper(
        rt,
        "PRAGMA foreign_keys = OFF",
        "DELETE FROM case_materials WHERE case_no = ?",
        "DELETE FROM cases WHERE case_no = ?",
        params=(accepted,),
    )
    code, data = verify()
    assert code == 1
    assert data["cases"] == [{"case_no": accepted, "stored": None, "audited": "accepted"}]


def test_a_chain_shorter_than_the_hall_acknowledged_is_reported(rt: Runtime) -> None:
    some_cases(rt)
    # The hall acknowledged event 3 at the last sync (recorded in meta); the last event is deleted
    # together with the head, so the chain itself looks whole.
    tamper(rt, "INSERT INTO meta (key, value) VALUES ('audit_anchor_seq', '3')")
    tamper(rt, "DELETE FROM audit_events WHERE seq = 3")
    with rt.store.reading() as conn:
        rows = conn.exec_driver_sql("SELECT hash FROM audit_events WHERE seq = 2").all()
    tamper(
        rt,
        "UPDATE meta SET value = ? WHERE key = 'audit_head_hash'",
        params=(rows[0][0],),
    )
    tamper(rt, "UPDATE meta SET value = '2' WHERE key = 'audit_head_seq'")
    code, data = verify()
    assert code == 1 and "truncated" in kinds(data)


def test_against_hall_needs_a_reachable_hall_and_credentials(rt: Runtime, monkeypatch: Any) -> None:
    some_cases(rt)
    no_user = runner.invoke(cli_app, ["audit", "verify", "--against-hall"])
    assert no_user.exit_code == 2 and "WINDOW_CLIENT_USER" in no_user.stderr
    monkeypatch.setenv("WINDOW_CLIENT_USER", "C001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-1234")
    down = runner.invoke(cli_app, ["audit", "verify", "--against-hall", "--json"])
    assert down.exit_code == 2 and "cannot reach" in down.stderr


def recompute_chain(rt: Runtime) -> None:
    """What an attacker does after editing an event: rehash the chain and rewrite the head."""
    raw = sqlite3.connect(rt.store.path)
    try:
        prev = audit.GENESIS
        rows = raw.execute(
            "SELECT seq, at, actor, action, subject, detail FROM audit_events ORDER BY seq"
        ).fetchall()
        for seq, at, actor, action, subject, detail in rows:
            digest = audit.event_hash(seq, at, actor, action, subject, detail, prev)
            raw.execute("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
            prev = digest
        raw.execute("UPDATE meta SET value = ? WHERE key = 'audit_head_hash'", (prev,))
        raw.execute("UPDATE meta SET value = ? WHERE key = 'audit_head_seq'", (str(len(rows)),))
        raw.commit()
    finally:
        raw.close()
