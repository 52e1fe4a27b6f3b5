"""The hall's side of 排队叫号: queue operations folded once, bad ones refused with a reason, the
board and the report across stations (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from models.problems import MESSAGES
from models.queue import TRANSITIONS, QueueEvent, TicketState
from tests.server.conftest import Served
from tests.server.ops import accept

DAY = "2026-11-20"
_ids = itertools.count(1)
runner = CliRunner()


def take(ticket: str, minute: int = 0, **extra: Any) -> dict[str, Any]:
    """A ``queue.take`` as the counter enqueues it (09:mm China time on DAY)."""
    payload = {"ticket": ticket, "day": DAY, "category": ticket[0], "taken_at": f"{DAY}T01:{minute:02d}:00Z"}
    payload.update(extra)
    return _op("queue.take", payload)


def event(
    ticket: str, name: str, frm: str, window: str | None = "01", minute: int = 30, **extra: Any
) -> dict[str, Any]:
    """A ``queue.event`` (``to`` from the state machine)."""
    to = TRANSITIONS.get((TicketState(frm), QueueEvent(name)))
    payload = {
        "ticket": ticket, "day": DAY, "event": name, "from": frm, "to": to.value if to else "done",
        "window": window, "at": f"{DAY}T01:{minute:02d}:00Z", **extra,
    }  # fmt: skip
    return _op("queue.event", payload)


def window_op(window: str, paused: bool, reason: str | None = None) -> dict[str, Any]:
    return _op(
        "queue.window", {"window": window, "paused": paused, "reason": reason, "at": f"{DAY}T02:00:00Z"}
    )


def _op(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "op_id": f"queue-op-{next(_ids):08d}",
        "seq": 1,
        "kind": kind,
        "case_no": None,
        "payload": payload,
        "created_at": f"{DAY}T09:00:00+08:00",
    }


def answers(results: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    for result in results:  # every refusal has a known code and a Chinese reason
        if result["status"] == "refused":
            assert result["code"] in MESSAGES and re.search("[\u4e00-\u9fff]", result["reason"]), result
    return [(r["status"], r["code"]) for r in results]


def board(server: Served, token: str) -> dict[str, Any]:
    response = server.api.http.get(
        "/api/v1/queue/board", params={"day": DAY}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def hall_tickets(server: Served) -> dict[tuple[str, str], tuple[str, str | None, int]]:
    with server.engine.connect() as conn:
        rows = conn.execute(text('SELECT station, ticket, state, "window", calls FROM queue_tickets'))
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def test_a_visit_is_folded_and_counted_per_window_and_category(server: Served) -> None:
    api = server.api
    token = api.token()
    ops = [
        accept("GXZX-20261120-00001"),
        take("A001", 0), take("B001", 1), take("V001", 2, appointment="YY-77"),
        event("V001", "call", "waiting", minute=10), event("V001", "recall", "called", minute=11),
        event("V001", "start", "called", minute=12),
        event("V001", "finish", "serving", minute=20, cases=["GXZX-20261120-00001"]),
        event("A001", "call", "waiting", window="02", minute=20),
        event("A001", "skip", "called", window="02"),
        event("A001", "requeue", "skipped", window=None, minute=31),
        event("B001", "call", "waiting", window="02", minute=40),
        window_op("03", True, "系统维护"),
    ]  # fmt: skip
    results = api.results(token, ops)
    assert answers(results) == [("applied", None)] * len(ops)
    assert [r["case_state"] for r in results[1:4]] == ["waiting"] * 3
    assert results[7]["case_state"] == "done"
    assert hall_tickets(server) == {
        ("GXZX", "A001"): ("waiting", "02", 1),
        ("GXZX", "B001"): ("called", "02", 1),
        ("GXZX", "V001"): ("done", "01", 2),
    }
    shown = board(server, token)
    assert shown["station"] == "GXZX" and shown["waiting"] == {"A": 1, "B": 0, "V": 0}
    assert [(w["window"], w["ticket"], w["paused"], w["reason"]) for w in shown["windows"]] == [
        ("02", "B001", False, None),
        ("03", None, True, "系统维护"),
    ]
    report = api.http.get(
        "/api/v1/queue/report", params={"day": DAY}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    rows = {(r["window"], r["category"]): r for r in report["rows"]}
    assert rows[("01", "V")]["served"] == 1 and rows[("01", "V")]["mean_wait_seconds"] == 480.0
    assert rows[("01", "V")]["mean_service_seconds"] == 480.0
    assert (rows[("02", "A")]["tickets"], rows[("02", "A")]["served"]) == (1, 0)
    assert rows[("02", "B")]["p90_wait_seconds"] == 39 * 60.0
    cli = runner.invoke(hall_app, ["queue", "report", "--day", DAY, "--json", "--db", server.db_url])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["rows"] == report["rows"]
    table = runner.invoke(hall_app, ["queue", "report", "--day", DAY, "--db", server.db_url])
    assert table.exit_code == 0 and "预约/绿色通道" in table.output and "3 ticket(s)" in table.output


def test_each_operation_takes_effect_once(server: Served) -> None:
    api = server.api
    token = api.token()
    first = [take("A001"), event("A001", "call", "waiting")]
    assert answers(api.results(token, first)) == [("applied", None)] * 2
    # The answers were lost: the station pushes the same operations again.
    assert answers(api.results(token, first)) == [("duplicate", None)] * 2
    # The same number again under another id (a store restored from a backup, say): refused.
    assert answers(api.results(token, [take("A001")])) == [("refused", "queue.ticket_exists")]
    assert hall_tickets(server) == {("GXZX", "A001"): ("called", "01", 1)}


def test_bad_queue_operations_are_refused_with_a_reason_and_change_nothing(server: Served) -> None:
    api = server.api
    token = api.token()
    api.results(token, [take("A001"), take("B001"), event("B001", "call", "waiting")])
    bad = [
        event("A009", "call", "waiting"),  # unknown ticket
        event("A001", "finish", "waiting"),  # waiting cannot finish
        event("A001", "start", "called"),  # the hall holds it waiting, not called
        event("B001", "start", "called", window="07"),  # window 07 does not hold B001
        event("B001", "finish", "called"),  # not serving yet
        take("A002", appointment="\x1b]52;c;bad\x07"),  # an escape sequence
        take("A003", category="B"),  # the letter says A
        take("A004", day="2026-11-23"),  # taken on the 20th
        take("A0005"),  # not a number the station hands out
        event("B001", "transfer", "called", window="01"),  # transferred nowhere new
        window_op("01", True, "  "),  # a pause without a reason
        window_op("01;DROP", False),
    ]
    results = api.results(token, bad)
    assert answers(results) == [
        ("refused", "queue.ticket_unknown"),
        ("refused", "queue.illegal_transition"),
        ("refused", "queue.illegal_transition"),
        ("refused", "queue.not_your_window"),
        ("refused", "queue.illegal_transition"),
        ("refused", "op.unsafe_text"),
        ("refused", "op.invalid"),
        ("refused", "op.invalid"),
        ("refused", "op.invalid"),
        ("refused", "queue.transfer_target"),
        ("refused", "queue.reason_required"),
        ("refused", "queue.window_invalid"),
    ]
    assert "等候" in results[2]["reason"]  # the hall says which state it holds
    assert hall_tickets(server) == {
        ("GXZX", "A001"): ("waiting", None, 0),
        ("GXZX", "B001"): ("called", "01", 1),
    }
    assert board(server, token)["windows"] == [
        {
            "window": "01",
            "ticket": "B001",
            "category": "B",
            "state": "called",
            "paused": False,
            "reason": None,
        }
    ]


def test_a_visit_names_only_its_stations_cases(server: Served) -> None:
    api = server.api
    gxzx, jhzx = api.token(), api.token("H001", "JHZX")
    api.results(jhzx, [accept("JHZX-20261120-00001", station="JHZX")], "JHZX")
    visit = [take("A001"), event("A001", "call", "waiting"), event("A001", "start", "called")]
    api.results(gxzx, visit)
    results = api.results(
        gxzx,
        [
            event("A001", "finish", "serving", cases=["GXZX-20261120-00404"]),
            event("A001", "finish", "serving", cases=["JHZX-20261120-00001"]),
            event("A001", "finish", "serving", cases=[]),  # 咨询: no case
        ],
    )
    assert answers(results) == [("refused", "case.unknown"), ("refused", "auth.forbidden"), ("applied", None)]


def test_the_station_is_the_pushers_and_staff_see_only_their_own(server: Served) -> None:
    api = server.api
    gxzx, jhzx = api.token(), api.token("H001", "JHZX")
    # A body naming another station changes nothing: tickets belong to whoever pushed them.
    assert answers(api.results(jhzx, [take("A001", station="GXZX")], "JHZX")) == [("applied", None)]
    assert answers(api.results(gxzx, [take("A001")])) == [("applied", None)]
    assert set(hall_tickets(server)) == {("JHZX", "A001"), ("GXZX", "A001")}
    # The same ticket number at another station is another ticket: events stay apart.
    api.results(jhzx, [event("A001", "call", "waiting")], "JHZX")
    assert board(server, gxzx)["waiting"]["A"] == 1 and board(server, jhzx)["waiting"]["A"] == 0
    headers = {"Authorization": f"Bearer {gxzx}"}
    other = api.http.get("/api/v1/queue/report", params={"day": DAY, "station": "JHZX"}, headers=headers)
    assert other.status_code == 403 and other.json()["error"]["code"] == "auth.forbidden"
    admin = {"Authorization": f"Bearer {api.token('A001')}"}
    every = api.http.get("/api/v1/queue/report", params={"day": DAY}, headers=admin).json()
    assert {r["station"] for r in every["rows"]} == {"GXZX", "JHZX"}
    assert api.http.get("/api/v1/queue/board").status_code == 401


def test_a_call_the_counter_would_refuse_is_refused_at_the_hall_too(server: Served) -> None:
    api = server.api
    token = api.token()
    api.results(token, [take("A001"), take("A002"), take("A003"), event("A001", "call", "waiting")])
    api.results(token, [event("A001", "transfer", "called", target_window="05")])
    results = api.results(
        token,
        [
            event("A002", "call", "waiting", window="02"),
            event("A003", "call", "waiting", window="02"),  # window 02 holds A002
            event("A001", "call", "waiting", window="02"),  # A001 was sent to window 05
            window_op("04", True, "午休"),
            event("A003", "call", "waiting", window="04"),  # window 04 is paused
            window_op("04", False),
            event("A003", "call", "waiting", window="04"),
            event("A001", "call", "waiting", window="05"),
        ],
    )
    assert answers(results) == [
        ("applied", None),
        ("refused", "queue.window_busy"),
        ("refused", "queue.not_your_window"),
        ("applied", None),
        ("refused", "queue.window_paused"),
        ("applied", None),
        ("applied", None),
        ("applied", None),
    ]
    assert hall_tickets(server) == {
        ("GXZX", "A001"): ("called", "05", 2),
        ("GXZX", "A002"): ("called", "02", 1),
        ("GXZX", "A003"): ("called", "04", 1),
    }
