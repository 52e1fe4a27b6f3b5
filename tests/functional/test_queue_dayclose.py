"""The 日结's queue section (排队叫号 per window and category) on the screen, in its saved sheet
and in ``cases day-close --json``."""

from __future__ import annotations

import datetime as dt
import json

from textual.widgets import DataTable
from typer.testing import CliRunner

from screens.dayclose import DayCloseScreen
from tests.conftest import TODAY
from tests.functional.tui_helpers import SIZE, make_app, settle, sign_in
from window_client.cli import app as cli_app
from window_client.services.queue import QueueService
from window_client.services.runtime import Runtime

START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # TODAY, in the morning


def a_morning_of_tickets(rt: Runtime) -> None:
    """A001 served at window 01 (6 min wait, 10 min service), B001 skipped at 02 (15 min wait),
    A002 waiting."""
    clock = [START]
    queue = QueueService(rt.store, rt.station.code, "C001", rt.catalog, clock=lambda: clock[0])
    for category in ("A", "B", "A"):
        queue.take(category)
        clock[0] += dt.timedelta(minutes=1)
    clock[0] += dt.timedelta(minutes=3)
    queue.call_next("01")
    queue.start("A001", "01")
    clock[0] += dt.timedelta(minutes=10)
    queue.finish("A001", "01")
    queue.call_next("02")
    queue.skip("B001", "02")


async def test_the_day_close_shows_the_queue(rt: Runtime) -> None:
    a_morning_of_tickets(rt)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "S001", "demo-5678")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, DayCloseScreen)
        table = app.screen.query_one("#dayclose-queue", DataTable)
        assert table.display
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        # 窗口 类别 号票 已办结 过号 平均等候 P90等候 平均办理 (minutes)
        assert rows == [
            ["01号", "A 综合", "1", "1", "0", "6.0", "6.0", "10.0"],
            ["02号", "B 企业", "1", "0", "1", "15.0", "15.0", "-"],
            ["未叫号", "A 综合", "1", "0", "0", "-", "-", "-"],
        ]
        await pilot.press("f5")  # the day before had no tickets: no queue section
        await settle(pilot)
        assert not app.screen.query_one("#dayclose-queue", DataTable).display
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
    sheet = (rt.settings.home / "documents" / f"日结-{TODAY.isoformat()}.txt").read_text(encoding="utf-8")
    assert "排队叫号" in sheet and "01号\tA 综合\t1\t1\t0\t6.0\t6.0\t10.0" in sheet


def test_the_day_close_json_has_the_queue(rt: Runtime) -> None:
    a_morning_of_tickets(rt)
    day = TODAY.isoformat()
    result = CliRunner().invoke(cli_app, ["cases", "day-close", "--day", day, "--today", day, "--json"])
    assert result.exit_code == 0, result.output
    queue = json.loads(result.stdout)["queue"]
    assert [(r["window"], r["category"], r["tickets"], r["served"], r["skipped"]) for r in queue] == [
        ("01", "A", 1, 1, 0),
        ("02", "B", 1, 0, 1),
        ("", "A", 1, 0, 0),
    ]
    assert queue[0]["mean_wait_seconds"] == 360.0 and queue[0]["mean_service_seconds"] == 600.0
    table = CliRunner().invoke(cli_app, ["cases", "day-close", "--day", day, "--today", day])
    assert table.exit_code == 0 and "排队叫号" in table.stdout and "未叫号" in table.stdout
