"""首办负责人 and 承诺时限 supervision at the hall, on SQLite and PostgreSQL: days left in 工作日 on the
hall's holiday data (paused during 补正), 红黄绿, who handles each case (assignment, item and
department defaults), the ``case.timeliness`` changes a station pulls, and the back-office CLI."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from hall_server.services.timeliness import SupervisionError, TimelinessDesk
from tests.server.conftest import Served
from tests.server.ops import accept, transition

runner = CliRunner()
PLAIN = "GXZX-20261120-00001"  # SCJG-001: 承诺 1 工作日 → due Mon 11-23
WAITING = "GXZX-20261120-00002"  # 容缺, 补正 still awaited: the clock stands
SUPPLEMENTED = "GXZX-20261120-00003"  # 容缺, 补正 on Mon 11-23: due Tue 11-24


def _push(server: Served, operations: list[dict[str, Any]], staff: str = "C001") -> None:
    results = server.api.results(server.api.token(staff), operations)
    assert [r["status"] for r in results] == ["applied"] * len(operations), results


def _seed(server: Served) -> TimelinessDesk:
    _push(
        server,
        [
            accept(PLAIN),
            accept(WAITING, state="accepted_tolerated"),
            accept(SUPPLEMENTED, state="accepted_tolerated"),
            transition(SUPPLEMENTED, "supplement", "accepted_tolerated", received=["LEASE"], on="2026-11-23"),
        ],
    )
    return TimelinessDesk(server.engine, clock=server.clock)


def _by_case(desk: TimelinessDesk) -> dict[str, dict[str, Any]]:
    return {view["case_no"]: view for view in desk.cases()}


def _timeliness_changes(server: Served) -> list[dict[str, Any]]:
    changes = server.api.changes(server.api.token("C001"))
    return [c["payload"] for c in changes if c["kind"] == "case.timeliness"]


def test_days_left_flags_and_the_pause_during_supplement(server: Served) -> None:
    desk = _seed(server)
    views = _by_case(desk)  # Fri 11-20
    assert (views[PLAIN]["due_date"], views[PLAIN]["days_left"], views[PLAIN]["flag"]) == (
        "2026-11-23",
        1,
        "yellow",
    )
    assert views[WAITING]["paused"] and views[WAITING]["days_left"] == 1
    assert (views[SUPPLEMENTED]["due_date"], views[SUPPLEMENTED]["paused"]) == ("2026-11-24", False)
    assert views[PLAIN]["department"] == "SCJG" and views[PLAIN]["department_name"] == "市场监督管理局"
    server.clock.advance(days=4)  # Tue 11-24
    views = _by_case(desk)
    assert (views[PLAIN]["days_left"], views[PLAIN]["flag"]) == (-1, "red")
    assert (views[SUPPLEMENTED]["days_left"], views[SUPPLEMENTED]["flag"]) == (0, "yellow")
    assert views[WAITING]["due_date"] == "2026-11-25" and views[WAITING]["flag"] == "yellow"  # still standing
    assert [v["case_no"] for v in desk.overdue()] == [PLAIN]
    report = desk.report("dept")
    (group,) = report["groups"]
    assert (group["key"], group["open"], group["red"], group["paused"], group["overdue"]) == (
        "SCJG",
        3,
        1,
        1,
        [PLAIN],
    )


def test_handlers_by_assignment_item_and_department_defaults(server: Served) -> None:
    desk = _seed(server)
    assert {v["handler"] for v in desk.cases()} == {None}
    desk.set_default("SCJG", "S001", "A001")  # the department's
    desk.set_default("SCJG-001", "C002", "A001")  # the item's wins
    assert {(v["handler"], v["handler_source"]) for v in desk.cases()} == {("C002", "item")}
    for by, code in (("S001", "SCJG"), ("C001", "SCJG"), ("A001", "NOPE")):
        try:
            desk.set_default(code, "C001", by)
        except SupervisionError as exc:
            assert exc.exit_code == (2 if code == "NOPE" else 1)
        else:
            raise AssertionError(f"{by} set a default of {code}")
    view = desk.assign(PLAIN, "C001", "S001")
    assert (view["handler"], view["handler_source"], view["handler_name"]) == ("C001", "assigned", "张敏")
    for to, by in (("C002", "C001"), ("C002", "H001"), ("NOBODY", "A001")):
        try:
            desk.assign(PLAIN, to, by)
        except SupervisionError as exc:
            assert exc.exit_code == 1
        else:
            raise AssertionError(f"{by} assigned {to}")
    with server.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET active = false WHERE staff_no = 'C002'"))
    views = _by_case(desk)
    assert (views[WAITING]["handler"], views[WAITING]["handler_source"]) == ("S001", "department")
    assert views[PLAIN]["handler"] == "C001"
    assert [(g["key"], g["open"]) for g in desk.report("handler")["groups"]] == [("C001", 1), ("S001", 2)]


def test_stations_pull_each_change_of_flag_due_date_or_handler_once(server: Served) -> None:
    desk = _seed(server)
    assert desk.sweep() == 3
    assert desk.sweep() == 0  # nothing moved
    first = {p["case_no"]: p for p in _timeliness_changes(server)}
    assert first[PLAIN]["flag"] == "yellow" and first[PLAIN]["as_of"] == "2026-11-20"
    assert (first[WAITING]["paused"], first[WAITING]["due_date"]) == (True, None)
    desk.assign(PLAIN, "C002", "S001")  # published with the assignment
    server.clock.advance(days=4)
    assert desk.sweep() == 2  # PLAIN turned red, SUPPLEMENTED yellow; WAITING still stands
    decided = runner.invoke(hall_app, ["cases", "decide", PLAIN, "approve", "--db", server.db_url])
    assert decided.exit_code == 0, decided.output
    mine = [p for p in _timeliness_changes(server) if p["case_no"] == PLAIN]
    assert [(p["flag"], p["handler"]) for p in mine] == [
        ("yellow", None),
        ("yellow", "C002"),
        ("red", "C002"),
        (None, None),  # approved: no longer supervised
    ]
    other = server.api.changes(server.api.token("H001", "JHZX"))
    assert not [c for c in other if c["kind"] == "case.timeliness"]  # only the owning station's


def _hall(server: Served, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(hall_app, [*args, "--db", server.db_url])
    return result.exit_code, result.stdout, result.stderr


def test_the_back_office_cli(sqlite_server: Served) -> None:
    server = sqlite_server
    _seed(server)
    code, out, _ = _hall(server, "cases", "overdue", "--today", "2026-11-24", "--json")
    assert code == 1 and [c["case_no"] for c in json.loads(out)["cases"]] == [PLAIN]
    assert _hall(server, "cases", "overdue", "--today", "2026-11-20")[0] == 0
    assert _hall(server, "handlers", "set-default", "SW", "C001", "--by", "A001")[0] == 0
    code, _, err = _hall(server, "handlers", "set-default", "XX-404", "C001", "--by", "A001")
    assert code == 2 and "neither an item" in err
    code, _, err = _hall(server, "cases", "assign", PLAIN, "--to", "C002", "--by", "C001")
    assert code == 1 and "only an admin or a supervisor" in err
    assert _hall(server, "cases", "assign", "GXZX-20991231-00009", "--to", "C002", "--by", "A001")[0] == 2
    code, out, _ = _hall(server, "cases", "assign", PLAIN, "--to", "C002", "--by", "S001", "--json")
    assert code == 0 and json.loads(out)["handler"] == "C002"
    code, out, _ = _hall(server, "cases", "timeliness", "--by", "handler", "--today", "2026-11-24", "--json")
    report = json.loads(out)
    assert code == 0 and report["by"] == "handler" and report["today"] == "2026-11-24"
    assert {g["key"]: g["red"] for g in report["groups"]} == {"C002": 1, None: 0}
    assert report["total"]["open"] == 3
    code, out, _ = _hall(server, "cases", "show", PLAIN, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["handler"] == "C002" and shown["timeliness"]["due_date"] == "2026-11-23"
    assert [a["assigned_by"] for a in shown["assignments"]] == ["S001"] and shown["notifications"] == []
    code, out, _ = _hall(server, "cases", "show", PLAIN)
    assert "首办负责人 C002" in out
    code, out, _ = _hall(server, "handlers", "list", "--json")
    assert [(d["scope"], d["code"], d["staff_no"]) for d in json.loads(out)["defaults"]] == [
        ("department", "SW", "C001")
    ]
    # set-default and assign published as they went: nothing is left for the sweep
    assert json.loads(_hall(server, "cases", "sweep", "--json")[1]) == {"published": 0}
