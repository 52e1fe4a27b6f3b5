"""The counter driven for real: the App under run_test() and Pilot, on a real store."""

from __future__ import annotations

import json
import random
import sqlite3

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from models.approval import Approval, ApprovalAct, check_approval, derive_approval_key
from models.enums import ItemKind, Tolerance
from screens.accept import AcceptScreen
from screens.dialogs import DocumentDialog, ErrorDialog
from screens.ledger import LedgerScreen
from screens.login import LoginScreen
from screens.workbench import WorkbenchScreen
from tests.functional.tui_helpers import SIZE, make_app, sign_in, type_text
from window_client.app import WindowClientApp
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id

RNG = random.Random(3)


def cases(rt: Runtime) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(rt.store.path)
    return db.execute("SELECT case_no, state, approved_by FROM cases ORDER BY id").fetchall()


async def test_sign_in_wrong_password_then_lockout(rt: Runtime) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "C001", "wrong")
        for _ in range(3):  # the number stays; the cursor waits in the emptied password
            await type_text(pilot, "wrong")
            await pilot.press("enter")
        message = str(app.screen.query_one("#login-message", Label).render())
        assert "再错1次将锁定" in message
        await type_text(pilot, "wrong")
        await pilot.press("enter")
        assert "已锁定" in str(app.screen.query_one("#login-message", Label).render())
        await type_text(pilot, "demo-1234")  # the right password, but the account is locked
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert "已锁定" in str(app.screen.query_one("#login-message", Label).render())


async def test_offline_sign_in_shows_the_workbench_with_status(rt: Runtime) -> None:
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, WorkbenchScreen)
        status = str(app.screen.query_one("StatusBar").render())
        assert "张敏" in status and "离线" in status and "待同步 0 项" in status


@pytest.mark.parametrize("between", ["tab", "enter"])
async def test_keys_typed_ahead_in_one_burst_reach_their_fields(rt: Runtime, between: str) -> None:
    """All keys arrive before any is handled (typed while the counter opens, a card reader):
    the staff number, the password and the final Enter still go where they were meant."""
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = [*"C001", between, *"demo-1234", "enter"]
        for key in keys:  # posted at once, as the terminal driver posts a burst it has read
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, WorkbenchScreen), app.screen
        assert app.member is not None and app.member.staff_no == "C001"


async def test_a_whole_case_typed_in_one_burst_is_accepted(rt: Runtime) -> None:
    """The standard case's keys, all read before any is handled (a quick typist ahead of the
    screen): the item, the ID, the name and the checklist each get their own keys."""
    app = make_app(rt)
    pid = person_id(RNG)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        keys = ["f2", *"bdcdj", "enter", *pid, "enter", *"王小明", "enter", "f7", "f12"]
        for key in keys:
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        for _ in range(3):
            await pilot.pause()
        assert isinstance(app.screen, DocumentDialog), app.screen
        stored = cases(rt)
        assert len(stored) == 1 and stored[0][1] == "accepted"
        db = sqlite3.connect(rt.store.path)
        assert db.execute("SELECT applicant_id, applicant_name FROM cases").fetchall() == [(pid, "王小明")]


async def test_standard_case_in_twelve_keystrokes(rt: Runtime) -> None:
    """F2, five initials, Enter, [ID], Enter, [name], Enter, F7, F12, Esc: 12 keys."""
    app = make_app(rt)
    pid = person_id(RNG)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        keys = 0

        async def press(*names: str) -> None:
            nonlocal keys
            for name in names:
                await pilot.press(name)
                keys += 1

        await press("f2")
        await press(*"bdcdj")
        await press("enter")
        await type_text(pilot, pid)  # the applicant's own data
        await press("enter")
        await type_text(pilot, "王小明")
        await press("enter")
        await press("f7")
        await press("f12")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert app.screen.documents[0].title == "受理回执"
        await press("escape")
        await pilot.pause()
        assert keys == 12
        assert isinstance(app.screen, AcceptScreen)
        assert app.screen.focused is app.screen.query_one("#search", Input)
        assert app.screen.query_one("#applicant-id", Input).value == ""
        stored = cases(rt)
        assert len(stored) == 1 and stored[0][1] == "accepted"


async def _open_item(
    pilot: Pilot[None], app: WindowClientApp, code: str, pid: str, name: str = "李四"
) -> None:
    await pilot.press("f2")
    await type_text(pilot, code)
    await pilot.press("enter")
    await type_text(pilot, pid)
    await pilot.press("enter")
    await type_text(pilot, name)
    await pilot.press("enter")
    await pilot.pause()


def tolerable_item(rt: Runtime) -> tuple[str, int]:
    """A person item with a tolerable material; returns its code and that material's row."""
    for item in rt.catalog.items.values():
        if item.kind is not ItemKind.PROMISED:
            continue
        if any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials):
            continue
        for row, m in enumerate(item.materials):
            if m.tolerance is Tolerance.TOLERABLE:
                return item.code, row
    raise AssertionError("no tolerable item")


async def test_tolerable_with_consent_then_ledger_closes_it(rt: Runtime) -> None:
    code, row = tolerable_item(rt)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await _open_item(pilot, app, code, person_id(RNG))
        await pilot.press("f7")  # everything presented …
        table = app.screen.query_one("#checklist", DataTable)
        table.move_cursor(row=row)
        await pilot.press("x")  # … except one tolerable material
        verdict = str(app.screen.query_one("#verdict").render())
        assert "可容缺受理" in verdict
        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("y")  # the applicant signs the 承诺书
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert app.screen.documents[0].title == "容缺受理通知书"
        await pilot.press("escape")
        await pilot.press("escape")  # back to the workbench
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, LedgerScreen)
        ledger = app.screen.query_one(DataTable)
        assert ledger.row_count == 1
        await pilot.press("enter")  # 补正销号
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert ledger.row_count == 0
    assert [s for _, s, _ in cases(rt)] == ["supplemented"]


async def test_tolerance_needing_a_supervisor(rt: Runtime) -> None:
    code, _ = tolerable_item(rt)
    item = rt.catalog.items[code]
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await _open_item(pilot, app, code, person_id(RNG))
        await pilot.press("f7")
        table = app.screen.query_one("#checklist", DataTable)
        tolerable_rows = [i for i, m in enumerate(item.materials) if m.tolerance is Tolerance.TOLERABLE]
        if len(tolerable_rows) <= item.max_tolerable_missing:
            # Not enough to exceed the item's allowance: mark the applicant as a promise-breaker.
            with rt.store.transaction("S001") as unit:
                from offline_cache.repositories import close_commitment

                pid_input = app.screen.query_one("#applicant-id", Input).value
                unit.execute(
                    "INSERT INTO applicants (applicant_id, applicant_type, name, updated_at)"
                    " VALUES (?, 'person', '李四', '')",
                    (pid_input,),
                )
                close_commitment(unit, pid_input, fulfilled=False)
            app.screen.query_one("#applicant-id", Input).value = pid_input + " "
            await pilot.pause()
        for r in tolerable_rows:
            table.move_cursor(row=r)
            await pilot.press("x")
        assert "需值班长审批" in str(app.screen.query_one("#verdict").render())
        await pilot.press("f8")  # commitment signed beforehand
        await pilot.press("f12")
        await pilot.pause()
        await type_text(pilot, "C002")  # a clerk cannot approve
        await pilot.press("enter")
        await type_text(pilot, "demo-1234")
        await pilot.press("enter")
        await pilot.pause()
        assert "不是值班长" in str(app.screen.query_one("#sup-message", Label).render())
        for _ in range(4):
            await pilot.press("backspace")
        app.screen.query_one("#sup-no", Input).value = "S001"
        app.screen.query_one("#sup-password", Input).focus()
        await type_text(pilot, "demo-5678")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
    (case,) = cases(rt)
    assert case[1] == "accepted_tolerated" and case[2] == "S001"
    # The hall gets the supervisor's signature of this very case, not just a name.
    with sqlite3.connect(rt.store.path) as db:
        [(payload,)] = db.execute("SELECT payload FROM outbox WHERE kind = 'case.accept'").fetchall()
    approval = Approval.from_dict(json.loads(payload).get("approval"))
    key = derive_approval_key("S001", "demo-5678")
    assert approval is not None
    assert check_approval(approval, ApprovalAct.TOLERATE, case[0], rt.station.code, [key.public_hex])


async def test_not_acceptable_gives_the_one_time_notice(rt: Runtime) -> None:
    code, _ = tolerable_item(rt)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await _open_item(pilot, app, code, person_id(RNG))
        # nothing marked: core materials missing
        assert "不予受理" in str(app.screen.query_one("#verdict").render())
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        assert app.screen.documents[0].title == "一次性告知书"
    assert [s for _, s, _ in cases(rt)] == ["not_accepted"]


async def test_instant_item_finished_at_the_counter(rt: Runtime) -> None:
    item = next(
        i for i in rt.catalog.items.values()
        if i.kind is ItemKind.INSTANT
        and not any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in i.materials)
    )  # fmt: skip
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await _open_item(pilot, app, item.code, person_id(RNG))
        await pilot.press("f7", "f12")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog)
        await pilot.press("f8")  # 当场办结
        await pilot.pause()
    assert [s for _, s, _ in cases(rt)] == ["approved"]


async def test_invalid_input_is_shown_and_nothing_is_saved(rt: Runtime) -> None:
    code, _ = tolerable_item(rt)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f2")
        await type_text(pilot, code)
        await pilot.press("enter")
        id_input = app.screen.query_one("#applicant-id", Input)
        await type_text(pilot, "110105194912310021")
        await pilot.press("enter")  # an invalid ID: the cursor stays, the problem is shown
        assert app.screen.focused is id_input
        assert "校验位错误" in str(app.screen.query_one("#id-problem", Label).render())
        await pilot.press("tab")
        name_input = app.screen.query_one("#applicant-name", Input)
        assert app.screen.focused is name_input
        await pilot.press("enter")  # nothing typed: still here, told what is missing
        assert app.screen.focused is name_input
        assert str(app.screen.query_one("#name-problem", Label).render())
        await type_text(pilot, "[bold]张三[/bold]")
        await pilot.press("enter")
        assert app.screen.focused is name_input
        assert "不允许的字符" in str(app.screen.query_one("#name-problem", Label).render())
        app.screen.query_one("#phone", Input).value = "1" * 10_000  # a huge paste
        await pilot.press("f7", "f12")
        await pilot.pause()
        assert isinstance(app.screen, ErrorDialog)
        await pilot.press("escape")
        await pilot.press("f12")  # pressing commit again changes nothing
        await pilot.pause()
        await pilot.press("escape")
        await pilot.resize_terminal(80, 24)
    assert cases(rt) == []
