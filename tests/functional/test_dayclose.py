"""The day close (日结) per window: the service's counts against the store, and the CLI."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from tests.conftest import TODAY
from tests.functional.test_tui_more import accept
from window_client.cli import app
from window_client.services.runtime import Runtime
from window_client.services.state_machine import CaseEvent

runner = CliRunner()


def test_day_close_counts_each_window(rt: Runtime) -> None:
    accept(rt, tolerated=False)
    accept(rt, tolerated=True)
    accept(rt, tolerated=True, window="03")
    close = rt.cases.day_close(rt.station.code, TODAY, TODAY)
    rows = {r.window: r for r in close.windows}
    assert set(rows) == {"01", "03"}
    assert (rows["01"].accepted, rows["01"].tolerated, rows["01"].not_accepted) == (1, 1, 0)
    assert (rows["03"].accepted, rows["03"].tolerated) == (0, 1)
    assert close.totals.accepted == 1 and close.totals.tolerated == 2
    # Every case written locally is one operation waiting to be pushed.
    assert close.totals.unsynced == 3 == rows["01"].unsynced + rows["03"].unsynced
    # The ledger: each open case has exactly one flag.
    assert close.totals.red + close.totals.yellow + close.totals.green == 3
    # Another day's close has no acceptances, but the open ledger is the same.
    before = rt.cases.day_close(rt.station.code, TODAY - dt.timedelta(days=1), TODAY)
    assert before.totals.accepted == before.totals.tolerated == 0
    assert before.totals.red + before.totals.yellow + before.totals.green == 3


def test_a_case_accepted_and_finished_the_same_day_still_counts_as_accepted(rt: Runtime) -> None:
    case_no = accept(rt, tolerated=False)
    rt.cases.transition(case_no, CaseEvent.APPROVE, TODAY, at_counter=True)  # 即办 at the counter
    close = rt.cases.day_close(rt.station.code, TODAY, TODAY)
    assert close.totals.accepted == 1 and close.totals.awaiting_handover == 1


def test_cli_day_close_json(rt: Runtime) -> None:
    accept(rt, tolerated=True)
    accept(rt, tolerated=False, window="02")
    result = runner.invoke(
        app, ["cases", "day-close", "--day", TODAY.isoformat(), "--today", TODAY.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["day"] == TODAY.isoformat() and data["station"] == rt.station.code
    assert [(w["window"], w["accepted"], w["tolerated"]) for w in data["windows"]] == [
        ("01", 0, 1),
        ("02", 1, 0),
    ]
    assert data["totals"]["accepted"] == 1 and data["totals"]["unsynced"] == 2
    table = runner.invoke(app, ["cases", "day-close", "--today", TODAY.isoformat()])
    assert table.exit_code == 0 and "01号" in table.output and "合计" in table.output


def test_cli_day_close_rejects_a_bad_date(rt: Runtime) -> None:
    result = runner.invoke(app, ["cases", "day-close", "--day", "2026-13-01"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
