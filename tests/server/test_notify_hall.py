"""The hall's reminders, on SQLite and PostgreSQL: a 差评 rectification due tomorrow reminds its
assignee once, through the log sender or a real HTTP gateway on 127.0.0.1 (a 500 keeps it for the
next run, with the same idempotency key), and what was sent shows on ``hall-server cases show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from hall_server.services.notify import HallNotifier, hall_config
from hall_server.services.ratings import RatingDesk
from tests.gateway import Gateway
from tests.server.conftest import Served
from tests.server.ops import accept, new_op_id

CASE = "GXZX-20261120-00001"
KEY = f"rectification_due:{CASE}:2026-11-23"  # 核实 due 1 工作日 after Fri 11-20
runner = CliRunner()


def _bad_rating_assigned(server: Served) -> None:
    rating = {
        "op_id": new_op_id(),
        "seq": 9,
        "kind": "rating.record",
        "case_no": CASE,
        "payload": {"case_no": CASE, "channel": "pad", "level": 1, "reasons": ["attitude"], "text": None,
                    "on": "2026-11-20", "by": "C001"},
        "created_at": "2026-11-20T10:00:00+08:00",
    }  # fmt: skip
    results = server.api.results(server.api.token(), [accept(CASE), rating])
    assert [r["status"] for r in results] == ["applied", "applied"]
    (record,) = RatingDesk(server.engine, server.clock).rectifications()
    RatingDesk(server.engine, server.clock).assign(record["id"], "C001", "S001")


def test_a_rectification_due_reminds_its_assignee_once(server: Served, tmp_path: Path) -> None:
    _bad_rating_assigned(server)
    notifier = HallNotifier(server.engine, tmp_path, server.clock)
    report = notifier.run(hall_config(tmp_path))
    assert [g["key"] for g in report.generated] == [KEY] and [s["key"] for s in report.sent] == [KEY]
    again = notifier.run(hall_config(tmp_path))
    assert (again.generated, again.sent) == ([], [])
    (line,) = (tmp_path / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    message = json.loads(line)
    assert (message["to"], message["to_kind"], message["key"]) == ("C001", "staff", KEY)
    assert "核实" in message["text"] and "2026-11-23" in message["text"]
    server.clock.advance(days=4)  # Tue 11-24: 核实 overdue, nothing due tomorrow
    assert notifier.run(hall_config(tmp_path)).generated == []


def test_a_failing_gateway_keeps_the_reminder(server: Served, tmp_path: Path) -> None:
    _bad_rating_assigned(server)
    notifier = HallNotifier(server.engine, tmp_path, server.clock)
    with Gateway([500, 201]) as gateway:
        config = hall_config(tmp_path, "http", gateway.url)
        first = notifier.run(config)
        assert [f["key"] for f in first.failed] == [KEY] and "HTTP 500" in first.failed[0]["error"]
        assert [n["status"] for n in notifier.listing()] == ["failed"]
        second = notifier.run(config)
        assert [s["key"] for s in second.sent] == [KEY] and second.pending == 0
    assert [key for key, _ in gateway.requests] == [KEY, KEY]
    (sent,) = notifier.listing(CASE)
    assert (sent["status"], sent["attempts"], sent["sender"]) == ("sent", 2, "http")


def test_the_cli_and_bad_settings(
    sqlite_server: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sqlite_server
    monkeypatch.setenv("HALL_SERVER_HOME", str(tmp_path))
    _bad_rating_assigned(server)

    def hall(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(hall_app, [*args, "--db", server.db_url])
        return result.exit_code, result.stdout, result.stderr

    code, _, err = hall("notify", "run", "--sender", "carrier-pigeon", "--today", "2026-11-20")
    assert code == 2 and "unknown notification sender" in err
    code, _, err = hall(
        "notify", "run", "--sender", "http", "--url", "file:///etc/passwd", "--today", "2026-11-20"
    )
    assert code == 2 and "http:// or https://" in err
    assert json.loads(hall("notify", "list", "--json")[1]) == {"notifications": []}  # nothing queued
    (tmp_path / "config.toml").write_text('[notify]\nsender = "http"\nurl = "http://127.0.0.1:9/sms"\n')
    code, out, err = hall("notify", "run", "--today", "2026-11-20", "--json")
    assert code == 1 and "cannot be reached" in json.loads(out)["failed"][0]["error"]
    code, out, _ = hall("notify", "run", "--sender", "log", "--today", "2026-11-20", "--json")
    assert code == 0 and [s["key"] for s in json.loads(out)["sent"]] == [KEY]
    code, out, _ = hall("cases", "show", CASE, "--json")
    (reminder,) = json.loads(out)["notifications"]
    assert (reminder["rule"], reminder["to"], reminder["status"], reminder["attempts"]) == (
        "rectification_due", "C001", "sent", 2,
    )  # fmt: skip
    assert "提醒" in hall("cases", "show", CASE)[1]
