"""The workbench reads the store in a thread worker: the table fills when the worker's answer
arrives, a refresh diffs it in place, and a read that fails is told in Chinese while the screen
keeps working. The real App on a real store file, driven with Pilot."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable, Static

from screens.dialogs import ErrorDialog
from screens.workbench import TEXT, WorkbenchScreen
from tests.functional.test_tui_more import accept
from tests.functional.tui_helpers import SIZE, make_app, settle, sign_in
from window_client.app import WindowClientApp
from window_client.services.runtime import Runtime


def title(app: WindowClientApp) -> str:
    return str(app.screen.query_one("#today-title", Static).render())


def case_rows(app: WindowClientApp) -> list[str]:
    table = app.screen.query_one("#today-cases", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def rename_cases(rt: Runtime, old: str, new: str) -> None:
    """Rename the cases table behind the App's back: every read of it fails until renamed back."""
    db = sqlite3.connect(rt.store.path, timeout=30)
    try:
        db.execute(f"ALTER TABLE {old} RENAME TO {new}")
        db.commit()
    finally:
        db.close()


async def test_the_table_fills_when_the_worker_has_read_the_store(rt: Runtime) -> None:
    first = [accept(rt, tolerated=True), accept(rt, tolerated=False)]
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, WorkbenchScreen)
        assert sorted(case_rows(app)) == sorted(first)
        assert title(app) == TEXT["today"].format(count=2)
        assert "待补正 1 件" in str(app.screen.query_one("#queue", Static).render())
        later = accept(rt, tolerated=False, window="02")  # another window of the hall, same store
        screen = app.screen
        assert isinstance(screen, WorkbenchScreen)
        screen.refresh_data()  # what F5 does
        # The call only starts the worker: its answer is a message the screen has not had yet.
        assert later not in case_rows(app) and title(app) == TEXT["today"].format(count=2)
        await settle(pilot)
        assert case_rows(app)[0] == later  # the newest on top, the others kept in place
        assert sorted(case_rows(app)) == sorted([*first, later])
        assert title(app) == TEXT["today"].format(count=3)


async def test_a_refresh_that_fails_says_so_in_chinese_and_the_screen_goes_on(rt: Runtime) -> None:
    cases = [accept(rt, tolerated=False), accept(rt, tolerated=True)]
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert sorted(case_rows(app)) == sorted(cases)
        rename_cases(rt, "cases", "cases_away")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)  # the App's one handler: logged, told
        assert "操作未完成" in app.screen.message
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkbenchScreen)
        assert title(app) == TEXT["failed"] == "今日办件未能读取（按 F5 重试）"
        assert sorted(case_rows(app)) == sorted(cases)  # what was shown stays
        assert "no such table: cases" in (rt.settings.home / "errors.log").read_text(encoding="utf-8")
        await pilot.press("f5")  # still failing: the title says so, no dialog after dialog
        await settle(pilot)
        assert isinstance(app.screen, WorkbenchScreen) and title(app) == TEXT["failed"]
        rename_cases(rt, "cases_away", "cases")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, WorkbenchScreen)
        assert title(app) == TEXT["today"].format(count=2)
        assert sorted(case_rows(app)) == sorted(cases)
