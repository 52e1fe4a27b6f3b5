"""好差评 at the hall, on SQLite and PostgreSQL: what it keeps of pushed ratings, the 差评整改
workflow with its deadlines and 红黄绿, who may take each step, and the report (CLI and endpoint)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from hall_server.services.ratings import RatingDesk
from models.problems import DomainError
from models.rectification import RECTIFY_LIMIT
from tests.server.conftest import Served
from tests.server.ops import CALENDAR, accept, new_op_id

CASE = "GXZX-20261120-00001"
runner = CliRunner()


def rating(
    case_no: str = CASE,
    level: int | None = 5,
    reasons: list[str] | None = None,
    *,
    channel: str = "pad",
    on: str = "2026-11-20",
    text: str | None = None,
    op_id: str | None = None,
) -> dict[str, Any]:
    """A ``rating.record`` operation as window_client.services.ratings enqueues it."""
    return {
        "op_id": op_id or new_op_id(),
        "seq": 9,
        "kind": "rating.record",
        "case_no": case_no,
        "payload": {
            "case_no": case_no,
            "channel": channel,
            "level": level,
            "reasons": reasons or [],
            "text": text,
            "on": on,
            "by": "C001",
        },
        "created_at": "2026-11-20T10:00:00+08:00",
    }


def answers(
    server: Served, operations: list[dict[str, Any]], staff: str = "C001", station: str = "GXZX"
) -> list[tuple[str, str | None]]:
    results = server.api.results(server.api.token(staff, station), operations, station)
    return [(r["status"], r["code"]) for r in results]


def table(server: Served, sql: str) -> list[tuple[Any, ...]]:
    with server.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_ratings_are_kept_once_per_case_and_channel(server: Served) -> None:
    first = rating(level=5)
    bad = rating(level=1, reasons=["attitude", "other"], channel="code", text="窗口无人")
    assert answers(server, [accept(CASE), first, bad]) == [("applied", None)] * 3
    again = rating(level=4)
    assert answers(server, [again, first]) == [("refused", "rating.exists"), ("duplicate", None)]
    kept = 'SELECT channel, level, "window", clerk, item_code FROM ratings ORDER BY channel'
    assert table(server, kept) == [
        ("code", 1, "W01", "C001", "SCJG-001"),
        ("pad", 5, "W01", "C001", "SCJG-001"),
    ]
    ((state, level, created, verify, rectify),) = table(
        server, "SELECT state, level, created_on, verify_due, rectify_due FROM rectifications"
    )
    assert (state, level, created, verify) == ("open", 1, "2026-11-20", "2026-11-23")  # Fri: due Monday
    assert rectify == CALENDAR.add(dt.date(2026, 11, 20), RECTIFY_LIMIT).date.isoformat()
    # A case's state is untouched by its ratings, and transitions still fold after them.
    assert table(server, f"SELECT state FROM cases WHERE case_no = '{CASE}'") == [("accepted",)]


def test_the_hall_refuses_what_it_can_check(server: Served) -> None:
    assert answers(server, [accept(CASE)]) == [("applied", None)]
    refused = [
        rating("GXZX-20261120-00999"),
        rating(level=6),
        rating(level=1),
        rating(level=4, reasons=["attitude"]),
        rating(level=None, reasons=["attitude"]),
        rating(level=2, reasons=["other"], text="\x1b[2J"),
        rating(channel="kiosk"),
        rating(on="2026-11-21"),  # after the hall's day
        rating(on="2026-11-19"),  # before the case was accepted
    ]
    assert answers(server, refused) == [
        ("refused", "case.unknown"),
        ("refused", "rating.level"),
        ("refused", "rating.reasons_required"),
        ("refused", "rating.reasons_unexpected"),
        ("refused", "rating.reasons_unexpected"),
        ("refused", "op.unsafe_text"),
        ("refused", "op.invalid"),
        ("refused", "rating.date"),
        ("refused", "rating.date"),
    ]
    # Another station cannot rate this station's case.
    assert answers(server, [rating(level=3)], staff="Y001", station="JHYZ1") == [
        ("refused", "auth.forbidden")
    ]
    assert table(server, "SELECT COUNT(*) FROM ratings") == [(0,)]
    assert answers(server, [rating(level=None)]) == [("applied", None)]  # 未评价 is kept as such
    assert table(server, "SELECT level FROM ratings") == [(None,)]
    assert table(server, "SELECT COUNT(*) FROM rectifications") == [(0,)]


def _bad_rating(server: Served) -> int:
    assert answers(server, [accept(CASE), rating(level=2, reasons=["efficiency"])]) == [("applied", None)] * 2
    ((record_id,),) = table(server, "SELECT id FROM rectifications")
    return int(record_id)


def _refused(call: Any, code: str) -> None:
    with pytest.raises(DomainError) as exc:
        call()
    assert exc.value.problem.code == code


def test_the_rectification_workflow(server: Served) -> None:
    record_id = _bad_rating(server)
    desk = RatingDesk(server.engine, server.clock)
    record = desk.record(record_id)
    assert (record["state"], record["due"], record["flag"]) == ("open", "2026-11-23", "yellow")
    _refused(lambda: desk.verify(record_id, "S001", "先核实"), "rectification.step")  # not assigned
    _refused(lambda: desk.assign(record_id, "C001", "C002"), "rectification.forbidden")  # a clerk
    _refused(lambda: desk.assign(record_id, "Y001", "S001"), "rectification.staff")  # another station's
    assert desk.assign(record_id, "C002", "S001")["assigned_to"] == "C002"
    assert desk.assign(record_id, "C001", "S001")["assigned_to"] == "C001"  # handed on
    server.clock.advance(days=4)  # Tue 11-24: the verification is overdue
    assert desk.record(record_id)["flag"] == "red"
    _refused(lambda: desk.verify(record_id, "C002", "不是我的"), "rectification.forbidden")
    _refused(lambda: desk.verify(record_id, "C001", "  "), "field.required")
    verified = desk.verify(record_id, "C001", "调取录像：等候40分钟")
    assert (verified["state"], verified["verified_by"], verified["flag"]) == ("verified", "C001", "green")
    assert verified["due"] == verified["rectify_due"]
    _refused(lambda: desk.callback(record_id, "S001", "满意"), "rectification.step")
    assert desk.rectify(record_id, "C001", "增开午间窗口")["state"] == "rectified"
    _refused(lambda: desk.callback(record_id, "C001", "满意"), "rectification.forbidden")  # 回访: supervisor
    closed = desk.callback(record_id, "S001", "申请人表示满意")
    assert (closed["state"], closed["flag"], closed["due"]) == ("closed", None, None)
    assert closed["callback_result"] == "申请人表示满意"
    _refused(lambda: desk.callback(record_id, "A001", "again"), "rectification.step")
    assert desk.rectifications(open_only=True) == []
    _refused(lambda: desk.record(999), "rectification.unknown")


def test_the_report_across_stations(server: Served) -> None:
    record_id = _bad_rating(server)
    second = "GXZX-20261120-00002"
    assert answers(server, [accept(second), rating(second, 5, channel="code")]) == [("applied", None)] * 2
    report = RatingDesk(server.engine, server.clock).report(dt.date(2026, 11, 20), dt.date(2026, 11, 20))
    assert report["counts"] == {"5": 1, "4": 0, "3": 0, "2": 1, "1": 0}
    assert (report["rated"], report["unrated"], report["good_rate"]) == (2, 0, 0.5)
    assert [row["station"] for row in report["by_station"]] == ["GXZX"]
    assert report["by_window"][0]["window"] == "W01"
    assert [r["id"] for r in report["open_rectifications"]] == [record_id]
    assert report["rectifications"]["open"] == 1
    http = server.api.http
    for staff, station, query, status in (
        ("S001", "GXZX", {}, 200),
        ("A001", "GXZX", {"station": "JHYZ1"}, 200),
        ("C001", "GXZX", {}, 403),
        ("S001", "GXZX", {"station": "JHYZ1"}, 403),
    ):
        token = server.api.token(staff, station)
        response = http.get(
            "/api/v1/ratings/report",
            params={"from": "2026-11-20", "to": "2026-11-20", **query},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == status, response.text
        if status == 200:
            body = response.json()
            assert set(body) >= {"counts", "unrated", "good_rate", "by_window", "by_staff", "by_item"}
            assert body["counts"]["5"] == (0 if query else 1)


def test_the_back_office_cli(sqlite_server: Served) -> None:
    server = sqlite_server
    record_id = _bad_rating(server)

    def hall(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(hall_app, ["ratings", *args, "--db", server.db_url])
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = hall("list", "--bad", "--json")
    assert code == 0
    (listed,) = json.loads(out)["rectifications"]
    assert (listed["id"], listed["reasons_zh"], listed["state_zh"]) == (record_id, ["服务效率"], "待分派")
    assert hall("assign", str(record_id), "--to", "C001", "--by", "C002")[0] == 1
    assert hall("assign", str(record_id), "--to", "C001", "--by", "S001")[0] == 0
    assert hall("verify", str(record_id), "--note", "\x1b[31m", "--by", "C001")[0] == 2
    assert hall("verify", str(record_id), "--note", "已核实", "--by", "C001")[0] == 0
    assert hall("rectify", str(record_id), "--note", "已整改", "--by", "S001")[0] == 0
    code, out, _ = hall("callback", str(record_id), "--result", "满意", "--by", "S001", "--json")
    assert code == 0 and json.loads(out)["state"] == "closed"
    code, out, _ = hall("report", "--json")
    assert code == 0 and json.loads(out)["open_rectifications"] == []
    code, out, _ = hall("list")
    assert code == 0 and CASE in out
    assert hall("report", "--from", "yesterday")[0] == 2
