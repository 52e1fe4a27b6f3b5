"""The ``window-client queue`` contracts (exact JSON keys, exit codes, Chinese by default) and the
calling board, against the local store and against the real hall on loopback."""

# Test functions take the imported fixtures as parameters, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.test_sync_client import fresh_hall, seeded_hall_db  # noqa: F401
from tests.hall import HallProcess
from window_client.cli import app
from window_client.services.runtime import Runtime

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_take_and_list_print_the_contract(home: Path) -> None:
    code, stdout, _ = run("queue", "take", "A", "--json")
    assert code == 0
    taken = json.loads(stdout)
    assert set(taken) == {"ticket", "category", "taken_at"}
    assert (taken["ticket"], taken["category"]) == ("A001", "A")
    assert json.loads(run("queue", "take", "SCJG-001", "--json")[1])["category"] == "B"  # an item code
    assert json.loads(run("queue", "take", "综合", "--phone", "13800138000", "--json")[1])["ticket"] == "A002"
    assert json.loads(run("queue", "take", "B", "--appointment", "YY-1", "--json")[1])["ticket"] == "V001"
    code, stdout, _ = run("queue", "call", "01")
    assert code == 0 and "请V001号到01号窗口" in stdout
    code, stdout, _ = run("queue", "list", "--json")
    tickets = json.loads(stdout)["tickets"]
    assert [set(t) for t in tickets] == [
        {"ticket", "category", "state", "window", "taken_at", "called_at"}
    ] * 4
    assert [(t["ticket"], t["state"], t["window"]) for t in tickets] == [
        ("A001", "waiting", None),
        ("B001", "waiting", None),
        ("A002", "waiting", None),
        ("V001", "called", "01"),
    ]
    assert tickets[3]["called_at"] is not None and tickets[0]["called_at"] is None
    code, stdout, _ = run("queue", "list")
    assert code == 0 and "预约/绿色通道" in stdout and "已叫号" in stdout


def test_bad_input_gets_a_clear_message_and_exit_2(home: Path) -> None:
    code, stdout, stderr = run("queue", "take", "Z9")
    assert code == 2 and "未知的排队类别或事项：Z9" in stderr and stdout == ""
    code, _, stderr = run("--lang", "en", "queue", "take", "Z9")
    assert code == 2 and "unknown queue category or item: Z9" in stderr
    code, _, stderr = run("queue", "take", "A", "--phone", "123")
    assert code == 2 and "手机号码格式不正确" in stderr
    code, _, stderr = run("queue", "take", "A", "--appointment", "\x1b]0;x\x07")
    assert code == 2 and "\x1b" not in stderr and "appointment" in stderr
    code, _, stderr = run("queue", "skip", "A404", "--window", "01")
    assert code == 2 and "找不到号票：A404" in stderr
    code, _, stderr = run("queue", "board", "--interval", "0")
    assert code == 2 and "刷新间隔" in stderr
    assert json.loads(run("queue", "list", "--json")[1]) == {"tickets": []}  # nothing was written
    for stream in (stdout, stderr):
        assert "Traceback" not in stream


def test_refusals_exit_1_and_an_empty_queue_is_no_error(home: Path) -> None:
    code, stdout, _ = run("queue", "call", "01")
    assert code == 0 and "当前没有等候的号票" in stdout
    run("queue", "take", "A")
    run("queue", "call", "01")
    code, _, stderr = run("queue", "finish", "A001", "--window", "01")  # called, not serving yet
    assert code == 1 and "不能办结" in stderr
    code, _, stderr = run("queue", "pause", "02", "--reason", "午休")
    assert code == 0
    code, _, stderr = run("queue", "call", "02")
    assert code == 1 and "暂停服务（午休）" in stderr
    assert run("queue", "start", "A001", "-w", "01")[0] == 0
    code, stdout, _ = run("queue", "finish", "A001", "-w", "01", "--json")
    assert code == 0 and json.loads(stdout)["ticket"]["state"] == "done"


def test_the_board_from_the_local_store(home: Path) -> None:
    for category in ("A", "A", "B", "V"):
        run("queue", "take", category)
    run("queue", "call", "01")
    run("queue", "pause", "03", "--reason", "系统维护")
    code, stdout, _ = run("queue", "board", "--once", "--source", "local")
    assert code == 0
    assert "01号窗口" in stdout and "V001" in stdout and "已叫号" in stdout
    assert "03号窗口" in stdout and "暂停服务：系统维护" in stdout
    assert "请准备：A001  A002  B001" in stdout and "数据来源：本地" in stdout


@pytest.fixture
def hall(tmp_path: Path, seeded_hall_db: Path) -> Iterator[HallProcess]:
    process = fresh_hall(tmp_path, seeded_hall_db)
    try:
        yield process
    finally:
        process.stop()


def test_the_board_from_the_hall_when_online(home: Path, rt: Runtime, hall: HallProcess) -> None:
    """The station syncs its queue; a second screen elsewhere reads the hall's board (and falls
    back to its own store, saying why, when the hall does not answer)."""
    rt.queue.take("A")
    rt.queue.take("B")
    rt.queue.call_next("02")
    station = Runtime(dataclasses.replace(rt.settings, server=hall.url), actor="C001", _store=rt.store)
    station.sync.sign_in_online("C001", "demo-1234")
    report = station.sync_once()
    assert report.completed and report.refused == 0 and report.pending == 0
    rt.queue.take("V")  # not synced yet: the hall does not know it
    env = {
        "WINDOW_CLIENT_SERVER": hall.url,
        "WINDOW_CLIENT_USER": "C001",
        "WINDOW_CLIENT_PASSWORD": "demo-1234",
    }
    code, stdout, stderr = run("queue", "board", "--once", env=env)
    assert code == 0, stderr
    assert "数据来源：大厅" in stdout and "02号窗口" in stdout and "A001" in stdout
    assert "请准备：B001" in stdout and "V001" not in stdout
    hall.stop()
    code, stdout, _ = run("queue", "board", "--once", env=env)
    assert code == 0 and "数据来源：本地" in stdout and "大厅无法访问" in stdout and "V001" in stdout
