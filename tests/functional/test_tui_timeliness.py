"""The counter shows the hall's 承诺时限 supervision and the 提醒记录: a real hall on loopback
assigns a 首办负责人 and publishes its 红黄绿, the station pulls it, the 容缺台账 shows the hall's
flag (厅) and the case detail the flag, the pause, the handler and the reminders sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import DataTable, Static

from models.enums import Tolerance
from screens.find import CaseDetailScreen
from screens.ledger import LedgerScreen
from screens.tables import FLAG_STYLE
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.functional.test_notify import _eve
from tests.functional.test_sync_client import hall, hall_cli, online, seeded_hall_db, station
from tests.functional.tui_helpers import SIZE, make_app, settle, sign_in
from tests.hall import HallProcess

__all__ = ["hall", "seeded_hall_db"]  # the fixtures, shared with the sync tests


async def test_ledger_and_case_detail_show_the_halls_flag_handler_and_reminders(
    tmp_path: Path, hall: HallProcess
) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    tolerated = rt.acceptance.accept(request(item, (missing.code,)), TODAY).case_no
    assert tolerated is not None
    online(rt)
    assert rt.sync_once().completed
    assigned = hall_cli(hall, "cases", "assign", tolerated, "--to", "C002", "--by", "S001")
    assert assigned.exit_code == 0, assigned.output
    assert rt.sync_once().completed  # pulls the case.timeliness change
    with sqlite3.connect(rt.store.path) as conn:
        ((flag, paused, handler),) = conn.execute(
            "SELECT flag, paused, handler FROM hall_timeliness WHERE case_no = ?", (tolerated,)
        ).fetchall()
    assert flag in ("red", "yellow", "green") and paused and handler == "C002"
    supplement_due = rt.cases.get(tolerated, TODAY).supplement_due
    assert supplement_due is not None
    assert len(rt.notify.run(_eve(rt, supplement_due)).sent) == 1
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, LedgerScreen)
        ledger = app.screen.query_one(DataTable)
        assert ledger.row_count == 1
        assert str(ledger.get_row(tolerated)[1]) == FLAG_STYLE[flag][0]  # the 厅 column
        app.push_screen(CaseDetailScreen(tolerated))
        await pilot.pause()
        await settle(pilot)
        head = str(app.screen.query_one("#detail-head", Static).render())
        assert f"大厅时效：{FLAG_STYLE[flag][0]}" in head
        assert "补正中，暂停计时" in head and "首办负责人：李娜（C002）" in head
        reminders = str(app.screen.query_one("#detail-reminders", Static).render())
        assert "补正到期提醒" in reminders and "138****8000" in reminders and "已发送" in reminders
