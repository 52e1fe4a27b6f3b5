"""The acceptance engine end to end on a real store: 受理, 容缺受理, 补正, 终止, 不予受理."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import pytest

from models.catalog import ServiceItem
from models.enums import ApplicantType, CaseState, ItemKind, MaterialStatus, Tolerance
from models.problems import DomainError
from offline_cache import repositories as repo
from offline_cache.repositories import CaseFilter
from tests.conftest import TODAY
from window_client.services.acceptance import AcceptanceRequest, Applicant, Outcome
from window_client.services.documents import documents_for
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.state_machine import CaseEvent

RNG = random.Random(11)


def tolerable_item(rt: Runtime) -> ServiceItem:
    """A person-facing promised item at this station with a tolerable material."""
    for item in rt.catalog.items.values():
        tolerable = [m for m in item.materials if m.tolerance is Tolerance.TOLERABLE]
        needs_licence = any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials)
        promised = item.kind is ItemKind.PROMISED
        if promised and tolerable and rt.station.accepts(item.code) and not needs_licence:
            return item
    raise AssertionError("the catalogue has no tolerable person item")


def request(
    item: ServiceItem,
    missing: tuple[str, ...] = (),
    commitment: bool = True,
    pid: str | None = None,
) -> AcceptanceRequest:
    presented = {
        m.code: MaterialStatus.PRESENTED
        for m in item.materials
        if m.tolerance is not Tolerance.OPTIONAL and m.code not in missing
    }
    applicant = Applicant(ApplicantType.PERSON, pid or person_id(RNG), "王小明", "13800138000")
    return AcceptanceRequest(item.code, applicant, presented, commitment=commitment)


def test_complete_case_is_accepted_with_receipt_outbox_and_audit(rt: Runtime) -> None:
    item = tolerable_item(rt)
    decision = rt.acceptance.accept(request(item), TODAY)
    assert decision.outcome is Outcome.ACCEPTED
    case = rt.cases.get(decision.case_no or "", TODAY)
    assert case.state == "accepted"
    assert case.due_date == rt.calendar.add(TODAY, item.promised).date
    assert case.case_no.startswith("GXZX-20261120-")
    assert case.applicant_id_masked.count("*") == 8
    raw = sqlite3.connect(rt.store.path)
    assert raw.execute("SELECT kind FROM outbox WHERE case_no = ?", (case.case_no,)).fetchall() == [
        ("case.accept",)
    ]
    assert raw.execute("SELECT action FROM audit_events WHERE subject = ?", (case.case_no,)).fetchall() == [
        ("case.accepted",)
    ]
    detail = rt.cases.detail(case.case_no, TODAY)
    (doc,) = documents_for(detail.case, detail.materials, rt.station.name)
    assert doc.title == "受理回执"
    text = doc.to_text()
    assert case.case_no in text and item.name in text and "承诺办结日期" in text


def test_tolerated_case_pauses_the_clock_and_resumes_on_supplement(rt: Runtime) -> None:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    decision = rt.acceptance.accept(request(item, (missing.code,)), TODAY)
    assert decision.outcome is Outcome.ACCEPTED_TOLERATED
    case = rt.cases.get(decision.case_no or "", TODAY)
    assert case.due_date is None and case.remaining_days == item.promised.days
    assert missing.supplement is not None
    assert case.supplement_due == rt.calendar.add(TODAY, missing.supplement).date
    detail = rt.cases.detail(case.case_no, TODAY)
    notice, commitment = documents_for(detail.case, detail.materials, rt.station.name)
    assert notice.title == "容缺受理通知书" and notice.copies == ("申请人留存联", "档案联")
    assert notice.table_rows[0][0] == missing.name
    assert any("终止办理" in p for p in notice.paragraphs)
    # The signed 承诺书 stays with the case: the promise, the deadline and the record of signing.
    assert commitment.kind == "commitment" and commitment.title == "容缺受理承诺书"
    due = case.supplement_due
    assert commitment.table_rows == ((missing.name, f"{due.year}年{due.month}月{due.day}日"),)
    assert any("郑重承诺" in p for p in commitment.paragraphs)
    record = commitment.paragraphs[-1]
    assert record.startswith("签署记录：王小明于") and rt.station.name in record and case.clerk in record
    assert "承诺人（申请人）签字" in commitment.signatures

    later = TODAY + dt.timedelta(days=1)
    after, problem = rt.cases.supplement(case.case_no, [missing.code], later)
    assert problem is None
    assert after.state == CaseState.SUPPLEMENTED
    assert after.closed_on == later and after.closed_by == "C001"
    assert after.due_date == rt.calendar.add(later, item.promised).date
    # The applicant kept the promise: tolerance stays available without a supervisor.
    assert rt.acceptance.standing_of(case.applicant_id).unfulfilled_commitments == 0


def test_withdrawing_a_tolerated_case_closes_its_commitment_as_kept(rt: Runtime) -> None:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    decision = rt.acceptance.accept(request(item, (missing.code,)), TODAY)
    case_no = decision.case_no or ""
    applicant = rt.cases.get(case_no, TODAY).applicant_id
    raw = sqlite3.connect(rt.store.path)
    counts = "SELECT open_commitments, unfulfilled_commitments FROM applicants WHERE applicant_id = ?"
    assert raw.execute(counts, (applicant,)).fetchall() == [(1, 0)]
    after = rt.cases.transition(case_no, CaseEvent.WITHDRAW, TODAY)
    assert after.state == CaseState.WITHDRAWN
    assert (after.closed_on, after.closed_by) == (TODAY, "C001")
    assert raw.execute(counts, (applicant,)).fetchall() == [(0, 0)]


def test_late_supplement_terminates_and_the_next_tolerance_needs_a_supervisor(rt: Runtime) -> None:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    pid = person_id(RNG)
    decision = rt.acceptance.accept(request(item, (missing.code,), pid=pid), TODAY)
    case = rt.cases.get(decision.case_no or "", TODAY)
    assert case.supplement_due is not None
    too_late = case.supplement_due + dt.timedelta(days=1)
    after, problem = rt.cases.supplement(case.case_no, [missing.code], too_late)
    assert after.state == CaseState.TERMINATED
    assert problem is not None and problem.code == "supplement.late"
    with pytest.raises(DomainError):
        rt.cases.transition(case.case_no, CaseEvent.ISSUE_CERTIFICATE, too_late)
    second = rt.acceptance.accept(request(item, (missing.code,), pid=pid), too_late)
    assert second.outcome is Outcome.NEEDS_APPROVAL
    assert [p.code for p in second.problems] == ["verdict.unfulfilled", "verdict.needs_supervisor"]
    assert second.case_no is None
    approved = rt.acceptance.accept(request(item, (missing.code,), pid=pid), too_late, approved_by="S001")
    assert approved.outcome is Outcome.ACCEPTED_TOLERATED
    assert rt.cases.get(approved.case_no or "", too_late).approved_by == "S001"


def test_dishonest_applicant_is_not_offered_tolerance(rt: Runtime) -> None:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    pid = person_id(RNG)
    with rt.store.transaction("S001") as unit:
        repo.set_dishonest(unit, pid, "person", "王小明", True)
    decision = rt.acceptance.accept(request(item, (missing.code,), pid=pid), TODAY)
    assert decision.outcome is Outcome.NOT_ACCEPTED
    assert "verdict.dishonest" in [p.code for p in decision.problems]
    detail = rt.cases.detail(decision.case_no or "", TODAY)
    (notice,) = documents_for(detail.case, detail.materials, rt.station.name)
    assert notice.title == "一次性告知书"
    assert any("失信" in p for p in notice.paragraphs)


def test_missing_core_material_gives_a_one_time_notice_listing_everything(rt: Runtime) -> None:
    item = tolerable_item(rt)
    core = next(m for m in item.materials if m.tolerance is Tolerance.CORE)
    tolerable = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    decision = rt.acceptance.accept(request(item, (core.code, tolerable.code)), TODAY)
    assert decision.outcome is Outcome.NOT_ACCEPTED
    detail = rt.cases.detail(decision.case_no or "", TODAY)
    (notice,) = documents_for(detail.case, detail.materials, rt.station.name)
    listed = [row[0] for row in notice.table_rows]
    assert core.name in listed and tolerable.name in listed


def test_declining_the_commitment_means_not_accepted(rt: Runtime) -> None:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    decision = rt.acceptance.accept(request(item, (missing.code,), commitment=False), TODAY)
    assert decision.outcome is Outcome.NOT_ACCEPTED
    assert [p.code for p in decision.problems] == ["verdict.no_commitment"]


def test_overdue_tolerated_cases_are_terminated_and_flags_turn_red(rt: Runtime) -> None:
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    decision = rt.acceptance.accept(request(item, (missing.code,)), TODAY)
    case = rt.cases.get(decision.case_no or "", TODAY)
    assert case.flag in ("green", "yellow")
    assert case.supplement_due is not None
    overdue_day = case.supplement_due + dt.timedelta(days=3)
    assert rt.cases.get(case.case_no, overdue_day).flag == "red"
    assert rt.cases.terminate_overdue(overdue_day) == [case.case_no]
    assert rt.cases.get(case.case_no, overdue_day).state == CaseState.TERMINATED
    assert rt.store.verify_audit()[1] is None


def test_an_invalid_applicant_writes_nothing(rt: Runtime) -> None:
    item = tolerable_item(rt)
    bad = AcceptanceRequest(
        item.code,
        Applicant(ApplicantType.PERSON, "110105194912310021", "张\x1b[31m三"),
        {},
    )
    decision = rt.acceptance.accept(bad, TODAY)
    assert decision.outcome is Outcome.INVALID
    assert {p.code for p in decision.problems} == {"id.check", "name.control"}
    assert rt.cases.count(CaseFilter()) == 0


def test_provisional_due_date_when_the_next_year_is_unknown(rt: Runtime) -> None:
    item = next(
        i for i in rt.catalog.items.values() if i.promised.days >= 15 and i.promised.unit.value == "workday"
    )
    full = {m.code: MaterialStatus.PRESENTED for m in item.materials}
    applicant = Applicant(ApplicantType.PERSON, person_id(RNG), "李四")
    if any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials):
        applicant = Applicant(ApplicantType.ORG, "91110000600037341L", "北京测试有限公司")
    decision = rt.acceptance.accept(AcceptanceRequest(item.code, applicant, full), dt.date(2026, 12, 20))
    assert decision.outcome is Outcome.ACCEPTED
    case = rt.cases.get(decision.case_no or "", dt.date(2026, 12, 20))
    assert case.due_date is not None and case.due_date.year == 2027
    assert case.due_provisional is True
