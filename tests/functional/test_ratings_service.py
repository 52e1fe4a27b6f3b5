"""好差评 at the station (window_client/services/ratings.py) on a real SQLite store file."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

import pytest

from models.problems import DomainError
from models.rating import RatingChannel
from models.sync import RatingPayload
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from window_client.services.documents import documents_for
from window_client.services.runtime import Runtime


def accept(rt: Runtime, missing: tuple[str, ...] = (), day: dt.date = TODAY) -> str:
    """A case accepted at the runtime's window; its number."""
    decision = rt.acceptance.accept(request(tolerable_item(rt), missing), day)
    assert decision.case_no is not None
    return decision.case_no


def query(rt: Runtime, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(rt.store.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def footprint(rt: Runtime) -> tuple[int, int, int]:
    """(ratings, audit events, outbox operations): what a refused rating must leave unchanged."""
    return (
        query(rt, "SELECT COUNT(*) FROM ratings")[0][0],
        query(rt, "SELECT COUNT(*) FROM audit_events")[0][0],
        query(rt, "SELECT COUNT(*) FROM outbox")[0][0],
    )


def test_a_rating_is_written_with_its_audit_event_and_outbox_operation(rt: Runtime) -> None:
    case_no = accept(rt)
    record = rt.ratings.record(case_no, 2, ["服务效率"], "排队太久", on=TODAY)
    assert (record.level, record.reasons, record.channel) == (2, ("efficiency",), "pad")
    assert query(rt, "SELECT level, reasons, text, channel, recorded_by FROM ratings") == [
        (2, '["efficiency"]', "排队太久", "pad", "C001")
    ]
    ((payload, op_id),) = query(rt, "SELECT payload, op_id FROM outbox WHERE kind = 'rating.record'")
    assert op_id == record.op_id
    typed = RatingPayload.model_validate_json(payload)
    assert typed.model_extra == {}
    assert typed.to_payload() == json.loads(payload)
    assert (typed.case_no, typed.level, typed.reasons, typed.on) == (case_no, 2, ["efficiency"], TODAY)
    ((action, detail),) = query(
        rt, "SELECT action, detail FROM audit_events WHERE subject = ? AND action LIKE 'rating.%'", case_no
    )
    assert action == "rating.record" and json.loads(detail)["level"] == 2
    assert rt.store.audit_report().ok


def test_one_rating_per_case_and_channel(rt: Runtime) -> None:
    case_no = accept(rt)
    rt.ratings.record(case_no, 5, on=TODAY)
    before = footprint(rt)
    with pytest.raises(DomainError) as exc:
        rt.ratings.record(case_no, 1, ["attitude"], on=TODAY)
    assert exc.value.problem.code == "rating.exists"
    assert "窗口评价器" in exc.value.problem.zh() and "非常满意" in exc.value.problem.zh()
    assert footprint(rt) == before
    # The code on the receipt is another channel: the applicant may still use it once.
    rt.ratings.record_by_code(rt.ratings.code_for(case_no), 4, on=TODAY)
    assert [r.channel for r in rt.ratings.ratings_of(case_no)] == ["pad", "code"]


@pytest.mark.parametrize(
    ("case", "level", "reasons", "text", "code"),
    [
        ("unknown", 5, [], None, "case.unknown"),
        ("known", 6, [], None, "rating.level"),
        ("known", 0, [], None, "rating.level"),
        ("known", 1, [], None, "rating.reasons_required"),
        ("known", 1, ["attitude"], "\x1b[2J清屏", "field.invalid"),
    ],
)
def test_bad_input_changes_nothing(
    rt: Runtime, case: str, level: int, reasons: list[str], text: str | None, code: str
) -> None:
    case_no = accept(rt) if case == "known" else "GXZX-20261120-99999"
    before = footprint(rt)
    with pytest.raises(DomainError) as exc:
        rt.ratings.record(case_no, level, reasons, text, on=TODAY)
    assert exc.value.problem.code == code
    assert footprint(rt) == before


def test_a_decline_is_unrated_never_satisfied(rt: Runtime) -> None:
    declined, rated = accept(rt), accept(rt)
    assert rt.ratings.decline(declined, on=TODAY).level is None
    rt.ratings.record(rated, 3, on=TODAY)
    report = rt.ratings.report(TODAY, TODAY)
    assert report["counts"] == {"5": 0, "4": 0, "3": 1, "2": 0, "1": 0}
    assert (report["unrated"], report["declined"], report["good_rate"]) == (1, 1, 1.0)
    assert query(
        rt, "SELECT action FROM audit_events WHERE subject = ? AND action LIKE 'rating.%'", declined
    ) == [("rating.decline",)]
    with pytest.raises(DomainError) as exc:  # the pad's answer is given: 未评价
        rt.ratings.record(declined, 5, on=TODAY)
    assert "未评价" in exc.value.problem.zh()


def test_the_evaluation_code_finds_its_case_and_no_other(rt: Runtime) -> None:
    first, second = accept(rt), accept(rt)
    code = rt.ratings.code_for(first)
    assert code != rt.ratings.code_for(second)
    assert rt.ratings.case_of_code(code.lower().replace("-", "")) == first
    record = rt.ratings.record_by_code(code, 1, ["guide"], on=TODAY)
    assert (record.case_no, record.channel) == (first, RatingChannel.CODE)
    third = accept(rt)  # a case after the index was built is found too
    assert rt.ratings.case_of_code(rt.ratings.code_for(third)) == third
    with pytest.raises(DomainError) as exc:
        rt.ratings.record_by_code("AAAAA-BBBBB", 5, on=TODAY)
    assert exc.value.problem.code == "rating.code_unknown"


def test_the_receipt_carries_the_code(rt: Runtime) -> None:
    case_no = accept(rt)
    detail = rt.cases.detail(case_no, TODAY)
    code = rt.ratings.code_for(case_no)
    (receipt,) = documents_for(detail.case, detail.materials, rt.station.name, code)
    assert ("评价码", code) in receipt.fields
    assert code in receipt.to_text()
    (plain,) = documents_for(detail.case, detail.materials, rt.station.name)
    assert "评价码" not in plain.to_text()


def test_the_pad_follows_the_windows_latest_unrated_case(rt: Runtime) -> None:
    assert rt.ratings.pending_for_window("01", TODAY) is None
    first = accept(rt)
    second = accept(rt)
    pending = rt.ratings.pending_for_window("01", TODAY)
    assert pending is not None and pending.case_no == second
    assert rt.ratings.pending_for_window("02", TODAY) is None
    assert rt.ratings.pending_for_window("01", TODAY + dt.timedelta(days=1)) is None
    rt.ratings.record(second, 5, on=TODAY)
    assert rt.ratings.pending_for_window("01", TODAY) is None  # the earlier one is not offered again
    assert first != second


def test_the_report(rt: Runtime) -> None:
    cases = [accept(rt) for _ in range(4)]
    earlier = accept(rt, day=TODAY - dt.timedelta(days=3))
    rt.ratings.record(cases[0], 5, on=TODAY)
    rt.ratings.record(cases[1], 1, ["attitude", "other"], "态度差", on=TODAY)
    rt.ratings.record_by_code(rt.ratings.code_for(cases[1]), 2, ["attitude"], on=TODAY)
    rt.ratings.decline(cases[2], on=TODAY)
    rt.ratings.record(earlier, 4, on=TODAY)
    report = rt.ratings.report(TODAY, TODAY)
    assert report["counts"] == {"5": 1, "4": 0, "3": 0, "2": 1, "1": 1}
    assert (report["rated"], report["unrated"], report["declined"], report["cases"]) == (3, 2, 1, 4)
    assert report["good_rate"] == round(1 / 3, 4)
    assert report["by_window"] == [
        {
            "station": "GXZX",
            "window": "01",
            **{k: report[k] for k in ("counts", "rated", "bad", "cases", "unrated", "declined", "good_rate")},
        }
    ]
    assert [row["staff"] for row in report["by_staff"]] == ["C001"]
    bad = report["open_rectifications"]
    assert [(r["case_no"], r["level"], r["synced"]) for r in bad] == [
        (cases[1], 1, False),
        (cases[1], 2, False),
    ]
    assert rt.ratings.report()["counts"]["4"] == 1  # no bounds: every case
    with pytest.raises(DomainError):
        rt.ratings.report(TODAY, TODAY - dt.timedelta(days=1))
