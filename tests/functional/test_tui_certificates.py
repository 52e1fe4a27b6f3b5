"""统一出证 and 领取 at the counter, driven for real: the App under run_test() and Pilot."""

from __future__ import annotations

import random
import sqlite3

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Static

from models.enums import ApplicantType, MaterialStatus, Tolerance
from screens.certificate import CertificateScreen, HandoverDialog, QrDialog, VerifyDialog
from screens.dialogs import ConfirmDialog, ErrorDialog, SupervisorDialog
from tests.conftest import TODAY
from tests.functional.tui_helpers import SIZE, make_app, settle, sign_in, type_text
from window_client.app import WindowClientApp
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.staff import StaffMember, seed_demo_staff
from window_client.services.state_machine import CaseEvent

RNG = random.Random(36903)


def approved_case(rt: Runtime, pid: str) -> str:
    item = rt.catalog.items["CL-001"]
    presented = {
        m.code: MaterialStatus.PRESENTED for m in item.materials if m.tolerance is not Tolerance.OPTIONAL
    }
    applicant = Applicant(ApplicantType.PERSON, pid, "王小明")
    decision = rt.acceptance.accept(AcceptanceRequest(item.code, applicant, presented), TODAY)
    assert decision.case_no is not None
    rt.cases.transition(decision.case_no, CaseEvent.APPROVE, TODAY)
    return decision.case_no


def supervisor(rt: Runtime) -> StaffMember:
    """S001 re-authenticates at the counter (the demo accounts, as a new station has them)."""
    if rt.staff.count() == 0:
        seed_demo_staff(rt.staff, rt.station.code)
    return rt.staff.verify_supervisor("S001", "demo-5678")


def rows(app: WindowClientApp, table_id: str) -> list[str]:
    table = app.screen.query_one(table_id, DataTable)
    return [str(key.value) for key in table.rows]


async def open_certificates(pilot: Pilot[None], app: WindowClientApp) -> CertificateScreen:
    await sign_in(pilot)
    await pilot.press("f6")
    await pilot.pause()
    assert isinstance(app.screen, CertificateScreen)
    return app.screen


async def test_issue_show_qr_save_print_and_collect_in_person(rt: Runtime) -> None:
    pid = person_id(RNG)
    case_no = approved_case(rt, pid)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await open_certificates(pilot, app)
        assert rows(app, "#awaiting-table") == [case_no]
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
        # The station's first key: the supervisor re-authenticates at the counter to approve it.
        assert isinstance(app.screen, SupervisorDialog)
        assert "签章密钥" in " ".join(str(w.render()) for w in app.screen.query(Static))
        await type_text(pilot, "S001")
        await pilot.press("enter")
        await type_text(pilot, "demo-5678")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QrDialog)
        drawing = str(app.screen.query_one("#qr-drawing", Static).render())
        assert "█" in drawing and ("▀" in drawing or "▄" in drawing)
        details = str(app.screen.query_one("#qr-details", Static).render())
        assert "王小明" in details and "1.2.156.3005.2." in details and pid not in details
        await pilot.press("ctrl+s")  # save the printable page, back to the queues
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        pages = list((rt.settings.home / "documents").glob("证照-*.html"))
        assert len(pages) == 1 and "size: A4" in pages[0].read_text(encoding="utf-8")
        assert rows(app, "#awaiting-table") == []
        (identifier,) = rows(app, "#waiting-table")

        await pilot.press("tab")  # to the waiting queue
        app.screen.query_one("#waiting-table", DataTable).focus()
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, HandoverDialog)
        await type_text(pilot, pid)
        check = str(app.screen.query_one("#collector-id-check", Label).render())
        assert "与持证人一致" in check
        await pilot.press("enter")
        await type_text(pilot, "王小明")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert rows(app, "#waiting-table") == []
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT kind, collector_id FROM certificate_handovers").fetchall() == [("holder", pid)]
    assert db.execute("SELECT state FROM cases WHERE case_no = ?", (case_no,)).fetchone() == ("delivered",)
    actions = {a for (a,) in db.execute("SELECT action FROM audit_events WHERE subject = ?", (identifier,))}
    assert {"cert.issue", "cert.print", "cert.handover"} <= actions
    ((approval,),) = db.execute("SELECT approval FROM signing_keys WHERE origin = 'own'").fetchall()
    assert '"by": "S001"' in approval and '"act": "key.register"' in approval


async def test_without_the_supervisor_nothing_is_issued(rt: Runtime) -> None:
    case_no = approved_case(rt, person_id(RNG))
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await open_certificates(pilot, app)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, SupervisorDialog)
        await pilot.press("escape")  # the supervisor is not there
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert rows(app, "#awaiting-table") == [case_no]
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT COUNT(*) FROM signing_keys").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM certificates").fetchone() == (0,)


async def test_a_supervisor_at_the_counter_approves_the_key_without_signing_in_again(rt: Runtime) -> None:
    approved_case(rt, person_id(RNG))
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "S001", "demo-5678")
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, QrDialog)
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT COUNT(*) FROM certificates").fetchone() == (1,)
    ((approval,),) = db.execute("SELECT approval FROM signing_keys").fetchall()
    assert '"by": "S001"' in approval


async def test_an_agent_needs_f5_and_a_refusal_keeps_the_form(rt: Runtime) -> None:
    case_no = approved_case(rt, person_id(RNG))
    (view,) = rt.certificates.issue([case_no], TODAY, approver=supervisor(rt))
    agent_id = person_id(RNG)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await open_certificates(pilot, app)
        app.screen.query_one("#waiting-table", DataTable).focus()
        await pilot.press("f3")
        await pilot.pause()
        await type_text(pilot, agent_id)
        assert "他人代领请按F5" in str(app.screen.query_one("#collector-id-check", Label).render())
        await pilot.press("enter")
        await type_text(pilot, "李四")
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, HandoverDialog)  # refused, nothing lost
        message = str(app.screen.query_one("#handover-message", Label).render())
        assert "代领" in message
        assert app.screen.query_one("#collector-name", Input).value == "李四"
        await pilot.press("f5")
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT identifier, kind FROM certificate_handovers").fetchall() == [
        (view.identifier, "agent")
    ]


async def test_mail_and_verify_a_scanned_code(rt: Runtime) -> None:
    (view,) = rt.certificates.issue([approved_case(rt, person_id(RNG))], TODAY, approver=supervisor(rt))
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await open_certificates(pilot, app)
        app.screen.query_one("#waiting-table", DataTable).focus()
        await pilot.press("f4")
        await pilot.pause()
        await type_text(pilot, "12")
        await pilot.press("enter")
        await pilot.pause()
        assert "快递单号格式不正确" in str(app.screen.query_one("#handover-message", Label).render())
        await type_text(pilot, "34567890")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)

        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, VerifyDialog)
        box = app.screen.query_one("#verify-text", Input)
        box.value = view.qr  # a USB scanner types the code and presses Enter
        await pilot.press("enter")
        await pilot.pause()
        result = str(app.screen.query_one("#verify-result", Static).render())
        assert "有效" in result and "王小明" in result
        box.value = view.qr[:-15]
        await pilot.press("enter")
        await pilot.pause()
        result = str(app.screen.query_one("#verify-result", Static).render())
        assert "无法识别" in result and "截断" in result
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT kind, tracking_no FROM certificate_handovers").fetchall() == [
        ("mail", "1234567890")
    ]
    assert db.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'cert.verify'").fetchone() == (2,)


async def test_day_close_counts_issued_and_handed_over(rt: Runtime) -> None:
    first = approved_case(rt, person_id(RNG))
    second = approved_case(rt, person_id(RNG))
    rt.certificates.issue([first], TODAY, approver=supervisor(rt))
    rt.certificates.issue([second], TODAY)
    rt.certificates.handover(first, TODAY, tracking_no="SF1234567890")
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "S001", "demo-5678")
        await pilot.press("f9")
        await settle(pilot)
        table = app.screen.query_one("#dayclose-table", DataTable)
        totals = {
            str(column.label): str(table.get_cell("totals", key)) for key, column in table.columns.items()
        }
    assert totals["出证"] == "2"  # issued today
    assert totals["领取"] == "1"  # handed over today
    assert totals["待领取"] == "1"  # still waiting


async def test_a_wrong_station_secret_is_told_in_chinese_and_issues_nothing(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.certificates.issue(
        [approved_case(rt, person_id(RNG))], TODAY, approver=supervisor(rt)
    )  # the key, sealed
    case_no = approved_case(rt, person_id(RNG))
    monkeypatch.setenv("WINDOW_CLIENT_STATION_SECRET", "not this station's secret")
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await open_certificates(pilot, app)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ErrorDialog)
        message = str(app.screen.query_one("#error-message", Static).render())
        assert "保护口令不正确" in message and "未生成新密钥" in message
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CertificateScreen)
        assert rows(app, "#awaiting-table") == [case_no]
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT COUNT(*) FROM signing_keys WHERE origin = 'own'").fetchone() == (1,)
    assert db.execute("SELECT state FROM cases WHERE case_no = ?", (case_no,)).fetchone() == ("approved",)
