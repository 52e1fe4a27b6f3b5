"""The CLI contracts of 好差评: ``window-client evaluate`` and ``window-client ratings report``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from window_client.cli import app
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings

runner = CliRunner()
DAY = ["--today", TODAY.isoformat()]


@pytest.fixture
def cases(home: Path) -> list[str]:
    """Two cases accepted at window 01 of the default station."""
    rt = Runtime(Settings.from_env(), actor="C001")
    try:
        numbers = []
        for _ in range(2):
            decision = rt.acceptance.accept(request(tolerable_item(rt)), TODAY)
            assert decision.case_no is not None
            numbers.append(decision.case_no)
        return numbers
    finally:
        rt.close()


def ratings(home: Path) -> list[tuple[str, str, int | None]]:
    conn = sqlite3.connect(home / "station.db")
    try:
        return conn.execute("SELECT case_no, channel, level FROM ratings ORDER BY id").fetchall()
    finally:
        conn.close()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--lang", "zh", *args])
    return result.exit_code, result.stdout, result.stderr


def test_recorded_is_exit_0_with_json(cases: list[str], home: Path) -> None:
    code, out, _ = run("evaluate", cases[0], "--level", "2", "--reason", "服务态度", "--reason", "guide",
                       "--text", "材料清单不清楚", "--json", *DAY)  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "recorded"
    assert (data["case_no"], data["level"], data["channel"]) == (cases[0], 2, "pad")
    assert data["reasons"] == ["attitude", "guide"] and data["reasons_zh"] == ["服务态度", "办事指南"]
    assert ratings(home) == [(cases[0], "pad", 2)]


def test_refusals_are_exit_1_and_say_which(cases: list[str], home: Path) -> None:
    assert run("evaluate", cases[0], "--level", "5", *DAY)[0] == 0
    code, _, err = run("evaluate", cases[0], "--level", "4", *DAY)
    assert code == 1 and "已在“窗口评价器”评价过" in err
    code, _, err = run("evaluate", "GXZX-20261120-09999", "--level", "4", *DAY)
    assert code == 1 and "找不到办件：GXZX-20261120-09999" in err
    code, _, err = run("evaluate", "--code", "AAAAA-BBBBB", "--level", "4", *DAY)
    assert code == 1 and "评价码AAAAA-BBBBB无效" in err
    assert ratings(home) == [(cases[0], "pad", 5)]


@pytest.mark.parametrize(
    "args",
    [
        ["--level", "6"],
        ["--level", "0"],
        ["--level", "1"],  # a 差评 without a reason
        ["--level", "4", "--reason", "attitude"],
        ["--level", "1", "--reason", "rude"],
        ["--level", "1", "--reason", "other", "--text", "\x1b]52;c;cm0gLXJm\x07"],
        [],  # no level
        ["--level", "3", "--decline"],
        ["--level", "3", "--window", "1"],
    ],
)
def test_bad_usage_is_exit_2_and_writes_nothing(cases: list[str], home: Path, args: list[str]) -> None:
    code, _, err = run("evaluate", cases[0], *args, *DAY)
    assert code == 2, err
    assert err.startswith("错误：")
    assert ratings(home) == []


def test_the_code_on_the_receipt_rates_through_its_own_channel(cases: list[str], home: Path) -> None:
    code, out, _ = run("ratings", "code", cases[1], "--json")
    assert code == 0
    evaluation = json.loads(out)["code"]
    receipt = runner.invoke(app, ["cases", "show", cases[1], "--documents"])
    assert f"评价码：{evaluation}" in receipt.stdout
    assert run("evaluate", "--code", evaluation.lower(), "--level", "4", *DAY)[0] == 0
    assert run("evaluate", cases[1], "--decline", *DAY)[0] == 0
    assert ratings(home) == [(cases[1], "code", 4), (cases[1], "pad", None)]


def test_the_report_contract(cases: list[str], home: Path) -> None:
    run("evaluate", cases[0], "--level", "1", "--reason", "efficiency", *DAY)
    run("evaluate", cases[1], "--decline", *DAY)
    code, out, _ = run("ratings", "report", "--from", TODAY.isoformat(), "--to", TODAY.isoformat(), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["counts"] == {"5": 0, "4": 0, "3": 0, "2": 0, "1": 1}
    assert (report["unrated"], report["good_rate"]) == (1, 0.0)
    for key in ("by_window", "by_staff", "by_item", "open_rectifications"):
        assert key in report
    assert [r["case_no"] for r in report["open_rectifications"]] == [cases[0]]
    assert run("ratings", "report", "--from", "2026-13-01", "--json")[0] == 2
    code, out, _ = run("ratings", "report")
    assert code == 0 and "好评率" in out
