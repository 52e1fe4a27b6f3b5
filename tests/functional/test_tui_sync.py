"""The counter's sync, driven for real: the App under run_test() and Pilot against the real hall
server subprocess on loopback (tests/hall.py), the back office through the real ``hall-server``
CLI, and real station stores. Nothing is mocked.

Sync runs in the App's worker thread, so the tests wait for what the user would see (the status
line, a table cell) with :func:`until`, which polls with a generous limit; nothing asserts on
time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from models.catalog import ServiceItem
from models.enums import CaseState, ItemKind, Tolerance
from offline_cache import sync_repo
from screens.accept import AcceptScreen
from screens.dialogs import DocumentDialog, ErrorDialog
from screens.find import FindScreen
from screens.login import LockScreen, LoginScreen
from screens.sync import SyncScreen
from screens.tables import STATE_SHORT
from screens.workbench import WorkbenchScreen
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.functional.test_sync_client import (  # noqa: F401 (fixtures)
    fresh_hall,
    hall,
    hall_cases,
    hall_cli,
    seeded_hall_db,
)
from tests.functional.tui_helpers import enter_credentials, make_app, settle, type_text
from tests.hall import HallProcess
from window_client.app import WindowClientApp
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
from window_client.services.staff import seed_demo_staff
from window_client.services.state_machine import CaseEvent

SIZE = (80, 24)
WAIT = 60.0  # the most any step may take on a loaded machine before the test gives up


# ---------------------------------------------------------------- helpers


def station(tmp_path: Path, server: str, **settings: Any) -> Runtime:
    """GXZX's runtime on its own store, pointed at ``server``."""
    return Runtime(
        Settings(home=tmp_path / "station", station="GXZX", server=server, **settings), actor="tui"
    )


def clerk(rt: Runtime, staff_no: str = "C001") -> Runtime:
    """The same station's services acting as ``staff_no`` (what the counter's keys call)."""
    return Runtime(rt.settings, actor=staff_no, _store=rt.store)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the App run until ``condition`` holds (the sync thread posts its results)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}; screen: {pilot.app.screen!r}")
        await pilot.pause(0.05)


async def sign_in(pilot: Pilot[None], staff_no: str = "C001", password: str = "demo-1234") -> None:
    await enter_credentials(pilot, staff_no, password)
    await until(pilot, lambda: isinstance(pilot.app.screen, WorkbenchScreen), "the workbench")
    await settle(pilot)


def status_line(app: WindowClientApp) -> str:
    return str(app.screen.query_one("StatusBar", Static).render())


def synced_clean(app: WindowClientApp) -> Callable[[], bool]:
    """The status line says 在线 with nothing left to push."""
    return lambda: "在线" in status_line(app) and "待同步 0 项" in status_line(app)


def instant_item(rt: Runtime) -> ServiceItem:
    """A 即办件 for a person, acceptable here."""
    for item in rt.catalog.items.values():
        licence = any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials)
        if item.kind is ItemKind.INSTANT and rt.station.accepts(item.code) and not licence:
            return item
    raise AssertionError("no instant person item")


def workbench_state(app: WindowClientApp, case_no: str) -> str:
    table = app.screen.query_one("#today-cases", DataTable)
    return str(table.get_row(case_no)[3])


@pytest.fixture
def short_token_hall(tmp_path: Path, seeded_hall_db: Path) -> Iterator[HallProcess]:  # noqa: F811
    """The real hall server handing out tokens valid for 3 seconds."""
    process = fresh_hall(tmp_path / "short", seeded_hall_db, token_ttl=3)
    try:
        yield process
    finally:
        process.stop()


# ---------------------------------------------------------------- online and offline


async def test_online_sign_in_syncs_at_once_and_shows_the_hall(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    case_no = clerk(rt).acceptance.accept(request(tolerable_item(rt)), TODAY).case_no
    assert case_no and rt.pending_operations() == 1
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert not any("离线登录" in n.message for n in app._notifications)
        await until(pilot, synced_clean(app), "在线 and 待同步 0 项")
        assert "张敏" in status_line(app) and "需重新登录" not in status_line(app)
    assert case_no in hall_cases(hall)
    db = sqlite3.connect(rt.store.path)
    # The online sign-in refreshed the station's cached hash, so C001 can sign in offline later.
    assert db.execute("SELECT detail FROM audit_events WHERE action = 'staff.sign_in'").fetchall()
    assert db.execute("SELECT DISTINCT status FROM outbox").fetchall() == [("acked",)]


async def test_hall_down_goes_offline_acceptance_still_works_then_catches_up(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await until(pilot, synced_clean(app), "the first sync")
        hall.stop()
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "离线" in status_line(app), "离线")
        # A case accepted offline, with the real keys: it queues, and the line counts it.
        await pilot.press("f2")
        await type_text(pilot, "bdcdj")
        await pilot.press("enter")
        await type_text(pilot, "11010519491231002X")
        await pilot.press("enter")
        await type_text(pilot, "王小明")
        await pilot.press("enter", "f7", "f12")
        await until(pilot, lambda: isinstance(app.screen, DocumentDialog), "the receipt")
        case_no = app.screen.documents[0].case_no
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AcceptScreen), "the form again")
        await pilot.press("escape")
        await until(pilot, lambda: "待同步 1 项" in status_line(app), "待同步 1 项")
        assert "离线" in status_line(app)
        assert app.sync_status is not None and app.sync_status.last_error
        assert "无法连接大厅" in app.sync_status.last_error
        hall.restart()
        await pilot.press("ctrl+y")
        await until(pilot, synced_clean(app), "back online with nothing queued")
    assert case_no in hall_cases(hall)


async def test_back_office_decision_arrives_in_the_workbench_and_find(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    case_no = clerk(rt).acceptance.accept(request(tolerable_item(rt)), TODAY).case_no
    assert case_no
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await until(pilot, synced_clean(app), "the case pushed")
        assert workbench_state(app, case_no) == STATE_SHORT[CaseState.ACCEPTED]
        await pilot.press("f4")
        await type_text(pilot, case_no)
        await pilot.press("enter")
        find = app.screen
        assert isinstance(find, FindScreen)
        decided = hall_cli(hall, "cases", "decide", case_no, "approve", "--by", "审批科")
        assert decided.exit_code == 0, decided.output
        await pilot.press("ctrl+y")

        def find_shows_approved() -> bool:
            row = find.query_one(DataTable).get_row(case_no)
            return STATE_SHORT[CaseState.APPROVED] in map(str, row)

        await until(pilot, find_shows_approved, "the decision in the search results")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WorkbenchScreen), "the workbench")
        assert workbench_state(app, case_no) == STATE_SHORT[CaseState.APPROVED]
    assert rt.cases.get(case_no, TODAY).state == CaseState.APPROVED


# ---------------------------------------------------------------- refused operations


async def test_sync_screen_lists_a_refused_operation_and_records_who_read_it(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    c001 = clerk(rt)
    case_no = c001.acceptance.accept(request(instant_item(rt)), TODAY).case_no
    assert case_no
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await until(pilot, synced_clean(app), "the case pushed")
        # The back office refuses while the counter finishes the same 即办件 (a conflict: the
        # hall keeps 不予许可 and refuses the counter's 办结).
        assert hall_cli(hall, "cases", "decide", case_no, "refuse").exit_code == 0
        c001.cases.transition(case_no, CaseEvent.APPROVE, TODAY, at_counter=True)
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "冲突/退回 1 项" in status_line(app), "冲突/退回 1 项")
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen), "the sync screen")
        screen = app.screen
        table = screen.query_one("#refused-table", DataTable)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[0] == case_no and row[1] == "办结（准予）" and row[2].startswith("case.conflict")
        detail = str(screen.query_one("#refused-detail", Static).render())
        assert "原因：" in detail and "处理：" in detail and "大厅已按规则采用另一项变更" in detail
        assert "1 项未阅" in str(screen.query_one("#refused-title", Static).render())
        await pilot.press("enter")
        await until(
            pilot, lambda: "0 项未阅" in str(screen.query_one("#refused-title", Static).render()), "已阅"
        )
        assert str(table.get_row_at(0)[4]) == "C001"  # kept, with who read it
        await settle(pilot)
        assert "冲突/退回" not in status_line(app)
    db = sqlite3.connect(rt.store.path)
    assert db.execute("SELECT status, reviewed_by FROM outbox WHERE kind = 'case.transition'").fetchall() == [
        ("conflict", "C001")
    ]
    assert rt.cases.get(case_no, TODAY).state == CaseState.REFUSED  # the hall's state


# ---------------------------------------------------------------- staleness


async def test_a_stale_station_says_why_instead_of_the_form(tmp_path: Path) -> None:
    rt = station(tmp_path, "http://127.0.0.1:9")  # nobody there: offline
    case_no = clerk(rt).acceptance.accept(request(tolerable_item(rt)), TODAY).case_no
    ten_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10, hours=1)
    with rt.store.transaction("test") as unit:
        sync_repo.set_meta(unit, sync_repo.LAST_SUCCESS_KEY, ten_days_ago.isoformat())
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog), "the explanation")
        message = str(app.screen.query_one("#error-message", Static).render())
        assert "超过10天未与大厅同步" in message and "请先同步" in message and "暂停受理新办件" in message
        await pilot.press("escape")
        assert isinstance(app.screen, WorkbenchScreen) and app.member is not None  # not signed out
        assert workbench_state(app, str(case_no)) == STATE_SHORT[CaseState.ACCEPTED]  # data stays
    assert rt.pending_operations() == 1


# ---------------------------------------------------------------- token expiry


async def test_expired_token_pauses_sync_until_the_password_is_given_again(
    tmp_path: Path, short_token_hall: HallProcess
) -> None:
    rt = station(tmp_path, short_token_hall.url)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await until(pilot, synced_clean(app), "the first sync")
        case_no = clerk(rt).acceptance.accept(request(tolerable_item(rt)), TODAY).case_no
        await asyncio.sleep(3.5)  # the hall's 3-second token has expired
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "需重新登录" in status_line(app), "需重新登录")
        assert "待同步 1 项" in status_line(app)
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen), "the sync screen")
        assert "大厅要求重新登录" in str(app.screen.query_one("#sync-state", Static).render())
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the password prompt")
        await type_text(pilot, "demo-1234")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SyncScreen), "back on the sync screen")
        await until(pilot, synced_clean(app), "the sync resumed")
        assert "需重新登录" not in status_line(app)
    assert case_no in hall_cases(short_token_hall)


async def test_offline_sign_in_says_so_and_signs_in_online_once_the_hall_answers(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    hall.stop()
    rt = station(tmp_path, hall.url)
    case_no = clerk(rt).acceptance.accept(request(tolerable_item(rt)), TODAY).case_no
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        assert any("离线登录" in n.message for n in app._notifications)
        assert "离线" in status_line(app) and "待同步 1 项" in status_line(app)
        hall.restart()
        await pilot.press("ctrl+y")
        await until(pilot, synced_clean(app), "the kept sign-in used once the hall answers")
    assert case_no in hall_cases(hall)


async def test_wrong_password_at_the_hall_is_refused_without_offline_fallback(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "C001")
        await pilot.press("enter")
        await type_text(pilot, "not-the-password")
        await pilot.press("enter")
        await until(
            pilot, lambda: "工号或密码错误" in str(app.screen.query_one("#login-message").render()), "refusal"
        )
        assert isinstance(app.screen, LoginScreen) and app.member is None


# ---------------------------------------------------------------- certificates with the sync


def test_sync_also_publishes_the_station_key_so_the_hall_verifies_offline_certificates(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    c001 = clerk(rt)
    case_no = c001.acceptance.accept(request(instant_item_with_certificate(rt)), TODAY).case_no
    assert case_no
    c001.cases.transition(case_no, CaseEvent.APPROVE, TODAY, at_counter=True)
    seed_demo_staff(rt.staff, "GXZX")
    s001 = rt.staff.verify_supervisor("S001", "demo-5678")  # approves the station's first key
    qr = c001.certificates.issue([case_no], TODAY, approver=s001)[0].qr  # offline: a new station key
    before = httpx.get(f"{hall.url}/api/v1/certificates/verify", params={"qr": qr}, timeout=10).json()
    assert before["status"] == "unknown_key"
    c001.sync.sign_in_online("C001", "demo-1234")
    report = c001.sync_once()  # what `window-client sync` runs
    assert report.completed and c001.last_publish is not None and c001.last_publish.keys == 1
    after = httpx.get(f"{hall.url}/api/v1/certificates/verify", params={"qr": qr}, timeout=10).json()
    assert after["status"] == "valid"
    assert c001.certificates.unpublished() == ([], [])
    c001.close()


def instant_item_with_certificate(rt: Runtime) -> ServiceItem:
    """A 即办件 for a person that results in a certificate."""
    for item in rt.catalog.items.values():
        licence = any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials)
        instant = item.kind is ItemKind.INSTANT and rt.station.accepts(item.code)
        if instant and item.certificate_type and not licence:
            return item
    raise AssertionError("no instant person item with a certificate")


def lock_at_hall(hall: HallProcess, staff_no: str = "C001") -> None:  # noqa: F811
    """Someone guesses at ``staff_no`` until the hall locks it."""
    with httpx.Client(base_url=hall.url, timeout=30) as http:
        for n in range(5):
            answer = http.post(
                "/api/v1/auth/token", json={"staff_no": staff_no, "password": f"guess-{n}", "station": "GXZX"}
            )
            assert answer.status_code == 401


async def test_an_account_locked_at_the_hall_is_told_in_chinese_and_not_signed_in_offline(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
) -> None:
    rt = station(tmp_path, hall.url)
    rt.sync.sign_in_online("C001", "demo-1234")  # the station caches C001's hash: offline would pass
    lock_at_hall(hall)
    app = make_app(rt)
    async with app.run_test(size=SIZE) as pilot:
        await enter_credentials(pilot, "C001", "demo-1234")
        message = lambda: str(app.screen.query_one("#login-message").render())  # noqa: E731
        await until(pilot, lambda: "已被大厅锁定" in message(), "the hall's lock")
        assert "分钟后再试" in message()
        assert isinstance(app.screen, LoginScreen) and app.member is None
    assert hall_cli(hall, "staff", "unlock", "C001").exit_code == 0
    again = station(tmp_path, hall.url)  # the App closed its runtime on exit
    try:
        assert again.sync.sign_in_online("C001", "demo-1234").staff_no == "C001"
    finally:
        again.close()


def test_sync_from_the_cli_says_the_account_is_locked(
    tmp_path: Path,
    hall: HallProcess,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from window_client.cli import app as cli_app

    lock_at_hall(hall)
    home = tmp_path / "cli-station"
    env = {"WINDOW_CLIENT_HOME": str(home), "WINDOW_CLIENT_STATION": "GXZX", "WINDOW_CLIENT_SERVER": hall.url}
    env |= {"WINDOW_CLIENT_USER": "C001", "WINDOW_CLIENT_PASSWORD": "demo-1234"}
    monkeypatch.delenv("WINDOW_CLIENT_STATION_SECRET", raising=False)
    result = CliRunner().invoke(cli_app, ["sync"], env=env)
    assert result.exit_code == 2, result.output
    assert "已锁定C001" in result.output and "已被大厅锁定" in result.output  # Chinese by default
    english = CliRunner().invoke(cli_app, ["--lang", "en", "sync"], env=env)
    assert english.exit_code == 2 and "locked the sign-in of C001" in english.output
