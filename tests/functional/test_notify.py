"""The station's reminders on a real store: the rules (补正 due, result ready for pick-up), the log
sender writing each notification exactly once (a property over crashes between send and mark,
and torn lines), the HTTP gateway (a real server on 127.0.0.1) failing and recovering, bad
``[notify]`` settings, and what ``cases show`` and ``notify list`` print."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from models.enums import Tolerance
from models.notify import LogSender, Notification, dispatch
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.gateway import Gateway
from window_client.cli import app as cli_app
from window_client.services.demo_seed import seed_demo_station
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
from window_client.services.staff import seed_demo_staff

runner = CliRunner()


def _tolerated(rt: Runtime, count: int = 1) -> tuple[list[str], dt.date]:
    """``count`` 容缺 cases accepted on TODAY; their numbers and their 补正 deadline."""
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    numbers = []
    for _ in range(count):
        decision = rt.acceptance.accept(request(item, (missing.code,)), TODAY)
        assert decision.case_no is not None
        numbers.append(decision.case_no)
    due = rt.cases.get(numbers[0], TODAY).supplement_due
    assert due is not None
    return numbers, due


def _eve(rt: Runtime, due: dt.date) -> dt.date:
    """The working day before ``due`` (the day the reminder goes)."""
    day = due - dt.timedelta(days=1)
    while not rt.calendar.is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def _log_keys(home: Path) -> list[str]:
    path = home / "notifications.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["key"] for line in path.read_text(encoding="utf-8").splitlines()]


def _rows(rt: Runtime, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(rt.store.path) as conn:
        return conn.execute(sql).fetchall()


def _cli(*args: str) -> Any:
    return runner.invoke(cli_app, list(args))


def test_supplement_reminder_goes_once_on_the_eve_and_shows_on_the_case(rt: Runtime, home: Path) -> None:
    (case_no,), due = _tolerated(rt)
    early = _eve(rt, _eve(rt, due))
    assert rt.notify.run(early).generated == []  # two working days ahead: not yet
    eve = _eve(rt, due)
    result = _cli("notify", "run", "--today", eve.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    key = f"supplement_due:{case_no}:{due.isoformat()}"
    assert [g["key"] for g in report["generated"]] == [key] and report["generated"][0][
        "to_masked"
    ] == "138****8000"
    assert [s["key"] for s in report["sent"]] == [key] and report["pending"] == 0
    again = json.loads(_cli("notify", "run", "--today", due.isoformat(), "--json").stdout)
    assert (again["generated"], again["sent"]) == ([], [])  # one reminder per case and deadline
    assert _log_keys(home) == [key]
    line = json.loads((home / "notifications.jsonl").read_text(encoding="utf-8"))
    assert line["to"] == "13800138000" and "补正期限为" + due.isoformat() in line["text"]
    shown = json.loads(_cli("cases", "show", case_no, "--json").stdout)
    (reminder,) = shown["reminders"]
    assert (reminder["rule_zh"], reminder["status"], reminder["attempts"]) == ("补正到期提醒", "sent", 1)
    assert shown["hall"] is None  # no pull yet
    text = _cli("cases", "show", case_no).stdout
    assert "提醒记录" in text and "补正到期提醒" in text and "已发送" in text
    listed = json.loads(_cli("notify", "list", "--json").stdout)["notifications"]
    assert [n["key"] for n in listed] == [key] and "13800138000" not in json.dumps(listed)
    actions = _rows(rt, f"SELECT action FROM audit_events WHERE subject = '{case_no}' ORDER BY seq")
    assert [a for (a,) in actions][-2:] == ["notify.queue", "notify.sent"]
    assert rt.store.verify_audit()[1] is None


def test_pickup_reminder_for_an_issued_certificate(rt: Runtime, home: Path) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    seed_demo_station(rt, TODAY)
    waiting = _rows(
        rt,
        "SELECT c.case_no, MAX(cert.issued_on) FROM cases c"
        " JOIN certificate_cases cc ON cc.case_no = c.case_no"
        " JOIN certificates cert ON cert.identifier = cc.identifier"
        " WHERE c.state = 'certificate_issued' AND c.phone IS NOT NULL GROUP BY c.case_no",
    )
    assert waiting, "the demo leaves a certificate waiting at 统一出件"
    report = rt.notify.run(TODAY)
    pickups = {g["key"] for g in report.generated if g["rule"] == "pickup_ready"}
    assert pickups == {f"pickup_ready:{case_no}:{day}" for case_no, day in waiting}
    assert not report.failed and set(_log_keys(home)) >= pickups


def _config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")


def test_bad_sender_settings_are_refused_before_anything_is_queued(rt: Runtime, home: Path) -> None:
    _, due = _tolerated(rt)
    for config, words in (
        ('[notify]\nsender = "pigeon"\n', "未知的提醒发送方式“pigeon”"),
        ('[notify]\nsender = "http"\nurl = "ftp://gateway.example/sms"\n', "http:// 或 https://"),
        ('[notify]\nsender = "http"\n', "须填写 url"),
    ):
        _config(home, config)
        result = _cli("notify", "run", "--today", _eve(rt, due).isoformat())
        assert result.exit_code == 2 and words in result.output, result.output
        assert "Traceback" not in result.output
    assert _rows(rt, "SELECT COUNT(*) FROM notifications") == [(0,)]


def test_a_failing_gateway_keeps_the_reminder_and_the_key_is_sent_each_time(rt: Runtime, home: Path) -> None:
    (case_no,), due = _tolerated(rt)
    eve = _eve(rt, due).isoformat()
    with Gateway([500, 200]) as gateway:
        _config(home, f'[notify]\nsender = "http"\nurl = "{gateway.url}"\n')
        first = _cli("notify", "run", "--today", eve, "--json")
        assert first.exit_code == 1 and "Traceback" not in first.output
        (failure,) = json.loads(first.stdout)["failed"]
        assert "HTTP 500" in failure["error"]
        assert _rows(rt, "SELECT status, attempts FROM notifications") == [("failed", 1)]
        second = _cli("notify", "run", "--today", eve, "--json")
        assert second.exit_code == 0 and len(json.loads(second.stdout)["sent"]) == 1
        third = json.loads(_cli("notify", "run", "--today", eve, "--json").stdout)
        assert third["sent"] == [] and third["generated"] == []
    key = f"supplement_due:{case_no}:{due.isoformat()}"
    assert [k for k, _ in gateway.requests] == [key, key]  # the same idempotency key both times
    assert gateway.requests[0][1]["to"] == "13800138000" and gateway.requests[0][1]["key"] == key
    assert _rows(rt, "SELECT status, attempts, sender FROM notifications") == [("sent", 2, "http")]
    assert not (home / "notifications.jsonl").exists()


class Crash(Exception):
    """A process dying between two steps (what the kill test does with SIGKILL)."""


def _crashing_after(
    mark: Callable[[Notification, str], None], after: int
) -> Callable[[Notification, str], None]:
    """The real mark, but the run dies instead of its ``after``-th call: delivered, not marked."""
    done = 0

    def crashing(notification: Notification, receipt: str) -> None:
        nonlocal done
        if done == after:
            raise Crash
        done += 1
        mark(notification, receipt)

    return crashing


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    crashes=st.lists(st.tuples(st.integers(0, 6), st.booleans()), max_size=4),
)
def test_every_reminder_reaches_the_log_exactly_once_whatever_crashes(
    crashes: list[tuple[int, bool]],
) -> None:
    """Runs that die after the k-th delivery and before its mark (and, at random, in the middle
    of writing the next line), then one run to the end: every key is in the log exactly once,
    every notification is marked sent."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        rt = Runtime(Settings(home=home, server="http://127.0.0.1:9"), actor="C001")
        try:
            numbers, due = _tolerated(rt, 5)
            eve = _eve(rt, due)
            rt.notify.generate(eve)
            log = home / "notifications.jsonl"
            for after, torn in crashes:
                try:
                    dispatch(
                        rt.notify.pending(),
                        LogSender(log),
                        _crashing_after(rt.notify.marker("log", True), after),
                        rt.notify.marker("log", False),
                    )
                except Crash:
                    if torn:
                        with log.open("ab") as handle:
                            handle.write(b'{"key": "supplement_due:')  # a line cut short by the crash
            final = rt.notify.run(eve)
            assert not final.failed and final.pending == 0
            counts = Counter(_log_keys(home))
            assert set(counts) == {f"supplement_due:{n}:{due.isoformat()}" for n in numbers}
            assert set(counts.values()) == {1}
            assert _rows(rt, "SELECT DISTINCT status FROM notifications") == [("sent",)]
        finally:
            rt.close()
