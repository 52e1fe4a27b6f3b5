"""More of the counter driven for real: termination, audited unmasking, the idle lock, keymaps,
the command palette, the day close per window, and the lazy start (no runtime given)."""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, Label, Static

from models.approval import Approval, ApprovalAct, check_approval, derive_approval_key
from models.enums import ApplicantType, MaterialStatus
from screens.dayclose import DayCloseScreen
from screens.dialogs import ErrorDialog, SupervisorDialog
from screens.find import CaseDetailScreen, FindScreen
from screens.ledger import LedgerScreen
from screens.login import LockScreen, LoginScreen
from screens.workbench import WorkbenchScreen
from tests.conftest import TODAY
from tests.functional.test_tui import tolerable_item
from tests.functional.tui_helpers import SIZE, make_app, settle, sign_in, type_text
from window_client.app import WindowClientApp
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings

RNG = random.Random(11)


def accept(rt: Runtime, *, tolerated: bool, name: str = "赵敏", window: str | None = None) -> str:
    """Accept a case through the acceptance service (as another clerk did earlier); returns its
    number. ``tolerated`` leaves one tolerable material missing against a signed commitment."""
    code, row = tolerable_item(rt)
    item = rt.catalog.items[code]
    runtime = rt
    if window is not None:  # the same store, seen from another window of the hall
        runtime = Runtime(dataclasses.replace(rt.settings, window=window), actor="C002", _store=rt.store)
    presented = {m.code: MaterialStatus.PRESENTED for m in item.materials}
    if tolerated:
        presented[item.materials[row].code] = MaterialStatus.MISSING
    applicant = Applicant(ApplicantType.PERSON, person_id(RNG), name, "13800138000", "", "")
    request = AcceptanceRequest(code, applicant, presented, tolerated, runtime.channel)
    decision = runtime.acceptance.decide(request, TODAY, runtime.acceptance.standing_of(applicant.id))
    runtime.acceptance.commit([decision], TODAY)
    assert decision.case_no is not None
    return decision.case_no


def db_rows(rt: Runtime, sql: str, *params: object) -> list[tuple[object, ...]]:
    db = sqlite3.connect(rt.store.path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def test_clerk_terminates_with_a_supervisor_signing_in(rt: Runtime) -> None:
    case_no = accept(rt, tolerated=True)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)  # C001, a clerk
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, LedgerScreen)
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, SupervisorDialog)
        await pilot.press("escape")  # nobody came: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, LedgerScreen)
        assert db_rows(rt, "SELECT state FROM cases WHERE case_no = ?", case_no) == [("accepted_tolerated",)]
        await pilot.press("f7")
        await pilot.pause()
        await type_text(pilot, "S001")
        await pilot.press("enter")
        await type_text(pilot, "demo-5678")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LedgerScreen)
        assert app.screen.query_one(DataTable).row_count == 0
    assert db_rows(rt, "SELECT state, closed_by FROM cases WHERE case_no = ?", case_no) == [
        ("terminated", "S001")
    ]
    # The clerk acted; the supervisor's approval is on the audit event.
    events = db_rows(rt, "SELECT actor, detail FROM audit_events WHERE action = 'case.terminate'")
    assert len(events) == 1 and events[0][0] == "C001" and '"approved_by":"S001"' in str(events[0][1])
    # The operation for the hall carries the supervisor's signed approval of this termination.
    [(payload,)] = db_rows(
        rt, "SELECT payload FROM outbox WHERE kind = 'case.transition' AND case_no = ?", case_no
    )
    approval = Approval.from_dict(json.loads(payload)["approval"])
    assert approval is not None
    assert (approval.act, approval.subject, approval.station, approval.by) == (
        ApprovalAct.TERMINATE,
        case_no,
        "GXZX",
        "S001",
    )
    key = derive_approval_key("S001", "demo-5678")
    assert check_approval(approval, ApprovalAct.TERMINATE, case_no, "GXZX", [key.public_hex])


async def test_full_id_is_shown_on_request_and_audited(rt: Runtime) -> None:
    case_no = accept(rt, tolerated=False, name="钱多多")
    full_id = str(db_rows(rt, "SELECT applicant_id FROM cases WHERE case_no = ?", case_no)[0][0])
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, FindScreen)
        await type_text(pilot, "钱多多")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("down", "enter")  # to the results, open the case
        await pilot.pause()
        assert isinstance(app.screen, CaseDetailScreen)
        head = str(app.screen.query_one("#detail-head", Static).render())
        assert full_id not in head and full_id[:6] + "********" in head
        assert db_rows(rt, "SELECT COUNT(*) FROM audit_events WHERE action = 'id.view'") == [(0,)]
        await pilot.press("f6")
        await pilot.pause()
        assert full_id in str(app.screen.query_one("#detail-head", Static).render())
    assert db_rows(rt, "SELECT actor, subject FROM audit_events WHERE action = 'id.view'") == [
        ("C001", case_no)
    ]


async def test_find_keeps_the_query_focused_for_the_next_search(rt: Runtime) -> None:
    first = accept(rt, tolerated=False, name="钱多多")
    second = accept(rt, tolerated=False, name="孙小美")
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f4")
        await pilot.pause()
        find = app.screen
        assert isinstance(find, FindScreen)
        table = find.query_one(DataTable)
        # One query after another, as a clerk types them: every key lands in the query.
        # The query is selected after a search: the next one typed replaces it.
        await pilot.press(*"钱多多", "enter", *"孙小美", "enter")
        await pilot.pause()
        assert app.screen is find  # no case opened
        assert find.query_one("#find-query", Input).value == "孙小美"
        assert list(table.rows) == [second] and find.focused is find.query_one("#find-query", Input)
        assert "找到 1 件" in str(find.query_one("#find-count", Static).render())
        await pilot.press("enter")  # Enter again searches again; it opens nothing
        await pilot.pause()
        assert app.screen is find and list(table.rows) == [second]
        await pilot.press("down")  # the clerk moves to the results …
        assert find.focused is table
        await pilot.press("enter")  # … and Enter opens the case under the cursor
        await pilot.pause()
        assert isinstance(app.screen, CaseDetailScreen) and app.screen.case_no == second
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("shift+tab", "ctrl+u", *"钱多多", "enter", "tab", "enter")  # Tab works too
        await pilot.pause()
        assert isinstance(app.screen, CaseDetailScreen) and app.screen.case_no == first


async def test_idle_screen_locks_and_needs_the_password(rt: Runtime) -> None:
    app = WindowClientApp(runtime=rt, today=lambda: TODAY, idle_seconds=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        for _ in range(100):  # the check runs every 0.1 s; allow a slow machine plenty of time
            if isinstance(app.screen, LockScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, LockScreen)
        assert isinstance(app.screen_stack[-2], WorkbenchScreen)  # covered, not closed
        app.idle_seconds = 0  # no second lock while the test looks at the unlocked screen
        await type_text(pilot, "wrong")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "错误" in str(app.screen.query_one("#lock-message", Label).render())
        await type_text(pilot, "demo-1234")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkbenchScreen)
        assert app.member is not None and app.member.staff_no == "C001"


async def test_keymap_from_config_moves_a_binding(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[keymap]\n"workbench.ledger" = "f11"\n', encoding="utf-8")
    rt = Runtime(Settings.from_env(), actor="C001")
    try:
        app = make_app(rt)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot)
            assert isinstance(app.screen, WorkbenchScreen)
            await pilot.press("f3")  # the old key does nothing now
            await pilot.pause()
            assert isinstance(app.screen, WorkbenchScreen)
            footer_keys = [b.binding.key for b in app.screen.active_bindings.values() if b.binding.show]
            assert "f11" in footer_keys and "f3" not in footer_keys
            await pilot.press("f11")
            await pilot.pause()
            assert isinstance(app.screen, LedgerScreen)
    finally:
        rt.close()


async def test_command_palette_lists_the_screen_actions_and_runs_one(rt: Runtime) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        commands = app.screen.query_one(CommandList)
        for _ in range(50):  # the palette gathers its commands in a worker
            if commands.option_count:
                break
            await pilot.pause(0.05)
        listed = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        for expected in ("受理（F2）", "容缺台账（F3）", "查找（F4）", "锁屏（^l）", "注销（F10）"):
            assert any(expected in text for text in listed), (expected, listed)
        assert not any("日结" in text for text in listed)  # a clerk has no day close
        await type_text(pilot, "容缺台账")
        for _ in range(50):
            await pilot.pause(0.05)
            if commands.option_count == 1:
                break
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LedgerScreen)


async def test_day_close_per_window(rt: Runtime) -> None:
    accept(rt, tolerated=False)
    accept(rt, tolerated=True)
    accept(rt, tolerated=False, window="02")
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "C001", "demo-1234")
        await pilot.press("f9")  # not for a clerk
        await pilot.pause()
        assert isinstance(app.screen, WorkbenchScreen)
        app.sign_out()
        await pilot.pause()
        await sign_in(pilot, "S001", "demo-5678")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, DayCloseScreen)
        table = app.screen.query_one("#dayclose-table", DataTable)
        rows = {
            str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)[1:]]
            for i in range(table.row_count)
        }
        # 受理 容缺 不予受理 出证 领取 待领取 红 黄 绿 未同步
        assert rows["01号"][:3] == ["1", "1", "0"] and rows["02号"][:3] == ["1", "0", "0"]
        assert rows["01号"][-1] == "2" and rows["02号"][-1] == "1"  # nothing synced yet
        assert rows["合计"][:3] == ["2", "1", "0"]
        await pilot.press("f5")  # the day before: nothing accepted
        await settle(pilot)
        assert "2026-11-19" in str(app.screen.query_one("#dayclose-title", Static).render())
        table = app.screen.query_one("#dayclose-table", DataTable)
        totals = [str(c) for c in table.get_row_at(table.row_count - 1)]
        assert totals[:4] == ["合计", "0", "0", "0"]


async def test_invalid_name_keeps_the_cursor(rt: Runtime) -> None:
    code, _ = tolerable_item(rt)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f2")
        await type_text(pilot, code)
        await pilot.press("enter")
        await type_text(pilot, person_id(RNG))
        await pilot.press("enter")
        await type_text(pilot, "张三3")
        await pilot.press("enter")
        name = app.screen.query_one("#applicant-name", Input)
        assert app.screen.focused is name
        assert "不允许的字符" in str(app.screen.query_one("#name-problem", Label).render())
        await pilot.press("backspace")
        await pilot.press("enter")
        assert app.screen.focused is app.screen.query_one("#checklist", DataTable)


async def test_started_without_a_runtime_opens_the_station_in_the_background(home: Path) -> None:
    app = WindowClientApp(today=lambda: TODAY, idle_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        # Typed at once: the sign-in waits for the station's data, then goes through.
        await sign_in(pilot)
        for _ in range(100):
            if isinstance(app.screen, WorkbenchScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, WorkbenchScreen)
        await settle(pilot)
        assert "张敏" in str(app.screen.query_one("StatusBar").render())
    assert (home / "station.db").exists()


async def test_a_bad_station_code_is_a_dialog_then_exit_code_2(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINDOW_CLIENT_STATION", "NOPE")
    app = WindowClientApp(today=lambda: TODAY, idle_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            if isinstance(app.screen, ErrorDialog):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, ErrorDialog)
        assert "站点代码" in app.screen.message and "NOPE" in app.screen.message
        # The detail is said in Chinese too, not in the log's English.
        assert "未知的站点代码" in app.screen.message and "unknown" not in app.screen.message.lower()
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 2


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_long_item_names_are_cut_to_fit(rt: Runtime, size: tuple[int, int]) -> None:
    """No table needs horizontal scrolling: the widest row fits the screen."""
    for _ in range(3):
        accept(rt, tolerated=True, name="西安秦创原氢能源科技研发中心有限公司" if size[0] > 100 else "孙")
    app = make_app(rt)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        for key, table_id in (("", "#today-cases"), ("f3", "#ledger-table")):
            if key:
                await pilot.press(key)
                await pilot.pause()
            table = app.screen.query_one(table_id, DataTable)
            assert table.row_count == 3
            assert table.virtual_size.width <= table.size.width, (table_id, table.virtual_size, table.size)
