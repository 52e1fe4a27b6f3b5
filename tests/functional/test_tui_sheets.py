"""Sheets staff print, saved from the counter in a worker: the 日结单 (F8 on the day close) and
the 催办清单 (F6 on the ledger); a folder that cannot be written is an error dialog."""

from __future__ import annotations

from textual.widgets import DataTable

from screens.dayclose import DayCloseScreen
from screens.dialogs import ErrorDialog
from screens.ledger import LedgerScreen
from tests.conftest import TODAY
from tests.functional.test_tui_more import accept
from tests.functional.tui_helpers import SIZE, make_app, settle, sign_in
from window_client.services.runtime import Runtime


async def test_day_close_sheet_is_saved_and_announced(rt: Runtime) -> None:
    accept(rt, tolerated=False, window="01")
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "S001", "demo-5678")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, DayCloseScreen)
        assert app.screen.query_one("#dayclose-table", DataTable).row_count == 2  # 01号 and 合计
        await pilot.press("f8")
        await settle(pilot)
        assert any("日结单已保存" in n.message for n in app._notifications)
    sheet = rt.settings.home / "documents" / f"日结-{TODAY.isoformat()}.txt"
    lines = sheet.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"日结单 · {TODAY.isoformat()}")
    assert lines[3].split("\t")[:2] == ["01号", "1"] and lines[4].split("\t")[:2] == ["合计", "1"]


async def test_reminder_list_is_saved_from_the_ledger(rt: Runtime) -> None:
    case_no = accept(rt, tolerated=True)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, LedgerScreen)
        await pilot.press("f6")
        await settle(pilot)
        assert any("催办清单已保存" in n.message for n in app._notifications)
    sheet = rt.settings.home / "documents" / f"催办清单-{TODAY.isoformat()}.txt"
    text = sheet.read_text(encoding="utf-8")
    assert text.startswith(f"容缺受理催办清单（{TODAY.isoformat()}）")
    # Its 补正 deadline is three days off: yellow, so it is on the list with its applicant.
    [line] = [line for line in text.splitlines() if case_no in line]
    assert line.startswith("黄  2026-11-23  ") and "赵敏" in line


async def test_a_sheet_that_cannot_be_written_is_an_error_dialog(rt: Runtime) -> None:
    rt.settings.home.mkdir(parents=True, exist_ok=True)
    (rt.settings.home / "documents").write_text("not a folder", encoding="utf-8")
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "S001", "demo-5678")
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
