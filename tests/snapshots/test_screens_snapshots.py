"""Screens at 80x24, compared with the committed SVG snapshots (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/snapshots --snapshot-update`` and review
the SVGs in the diff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from models.enums import ApplicantType, ItemKind, MaterialStatus, Tolerance
from offline_cache import store as store_module
from tests.conftest import TODAY
from tests.functional.tui_helpers import settle
from window_client.app import WindowClientApp
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings

SIZE = (80, 24)
CLOCK = "2026-11-20T01:30:00.000+00:00"  # 09:30 at the hall (Asia/Shanghai)
NO_HALL = "http://127.0.0.1:9"  # nobody listens there: every screen shows the station offline


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hall (whatever runs on this machine's default port): sign-in falls back offline."""
    monkeypatch.setenv("WINDOW_CLIENT_SERVER", NO_HALL)


def make_app(home: Path) -> WindowClientApp:
    runtime = Runtime(Settings.from_env(), actor="C001")
    return WindowClientApp(runtime=runtime, today=lambda: TODAY, idle_seconds=0)


async def _type_and_enter(pilot: Pilot[Any], *fields: str) -> None:
    for text in fields:
        await pilot.press(*text, "enter")


async def _sign_in(pilot: Pilot[Any]) -> None:
    await _sign_in_as(pilot, "C001", "demo-1234")


def test_login_screen(snap_compare: Callable[..., bool], home: Path) -> None:
    assert snap_compare(make_app(home), terminal_size=SIZE)


def test_workbench_empty_station(snap_compare: Callable[..., bool], home: Path) -> None:
    assert snap_compare(make_app(home), terminal_size=SIZE, run_before=_sign_in)


def test_accept_form_with_verdict(snap_compare: Callable[..., bool], home: Path) -> None:
    async def fill(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f2")
        await _type_and_enter(pilot, "bdcdj", "11010519491231002X", "wang")
        await pilot.pause()

    assert snap_compare(make_app(home), terminal_size=SIZE, run_before=fill)


# ---------------------------------------------------------------- screens with cases
#
# The store is filled through the acceptance service, on fixed days, with applicants from a
# seeded generator; the audit clock and the time zone are fixed, so the SVGs never change
# unless a screen does.


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Audit timestamps at 09:30 on TODAY, shown in the hall's time zone."""
    monkeypatch.setattr(store_module, "utc_now", lambda: CLOCK)
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _tolerable_item(runtime: Runtime) -> tuple[str, int]:
    """The first promised person item with a tolerable material (code, material row)."""
    for item in runtime.catalog.items.values():
        if item.kind is not ItemKind.PROMISED:
            continue
        if any(m.code == "BIZ_LICENSE" and m.tolerance is Tolerance.CORE for m in item.materials):
            continue
        for row, m in enumerate(item.materials):
            if m.tolerance is Tolerance.TOLERABLE:
                return item.code, row
    raise AssertionError("no tolerable item in the catalogue")


def filled_app(home: Path, windows: tuple[str, ...] = ("01",)) -> WindowClientApp:
    """An app on a store with tolerated cases whose 补正 deadlines are red, yellow and green,
    and a normally accepted case, spread over ``windows``."""
    rng = random.Random(20261120)
    settings = Settings.from_env()
    runtime = Runtime(settings, actor="C001")
    code, row = _tolerable_item(runtime)
    item = runtime.catalog.items[code]
    cases = (  # (days before TODAY, name, tolerated)
        (14, "欧阳娜娜", True),
        (1, "西安秦创原氢能源科技研发中心有限公司", True),
        (0, "王小明", True),
        (0, "李四", False),
    )
    for n, (days_ago, name, tolerated) in enumerate(cases):
        window = windows[n % len(windows)]
        clerk = Runtime(dataclasses.replace(settings, window=window), actor="C001", _store=runtime.store)
        presented = {m.code: MaterialStatus.PRESENTED for m in item.materials}
        if tolerated:
            presented[item.materials[row].code] = MaterialStatus.MISSING
        applicant = Applicant(ApplicantType.PERSON, person_id(rng), name, "13912345678")
        request = AcceptanceRequest(code, applicant, presented, tolerated, clerk.channel)
        day = TODAY - dt.timedelta(days=days_ago)
        decision = clerk.acceptance.decide(request, day, clerk.acceptance.standing_of(applicant.id))
        clerk.acceptance.commit([decision], day)
    return WindowClientApp(runtime=runtime, today=lambda: TODAY, idle_seconds=0)


async def _sign_in_as(pilot: Pilot[Any], staff_no: str, password: str) -> None:
    await _type_and_enter(pilot, staff_no, password)
    await pilot.pause()
    await settle(pilot)  # the status line's counts
    # The 离线登录 notice is a toast over whatever screen follows; the screens are the subject.
    pilot.app.clear_notifications()
    await pilot.pause()


def test_workbench_with_cases(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=_sign_in)


def test_ledger(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def open_ledger(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f3")
        await pilot.pause()

    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=open_ledger)


def test_ledger_confirm_dialog(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def confirm(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("enter")  # 补正销号 of the most urgent case: asks first
        await pilot.pause()

    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=confirm)


def test_supervisor_dialog(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def terminate(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)  # a clerk: terminating needs a supervisor on the spot
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        await pilot.press(*"S001")
        await pilot.pause()

    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=terminate)


def test_find_screen(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def find(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f4")
        await pilot.pause()
        await _type_and_enter(pilot, "GXZX")
        await pilot.pause()

    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=find)


def test_case_detail(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def detail(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f4")
        await pilot.pause()
        await _type_and_enter(pilot, "王小明")
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=detail)


def test_document_dialog(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def documents(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f4")
        await pilot.pause()
        await _type_and_enter(pilot, "王小明")
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("f7")  # the 容缺受理通知书
        await pilot.pause()

    assert snap_compare(filled_app(home), terminal_size=SIZE, run_before=documents)


def test_day_close(snap_compare: Callable[..., bool], home: Path, fixed_clock: None) -> None:
    async def day_close(pilot: Pilot[Any]) -> None:
        await _sign_in_as(pilot, "S001", "demo-5678")
        await pilot.press("f9")
        await settle(pilot)  # the figures, read in a worker

    app = filled_app(home, windows=("01", "02"))
    assert snap_compare(app, terminal_size=SIZE, run_before=day_close)


def test_error_dialog(snap_compare: Callable[..., bool], home: Path) -> None:
    async def bad_input(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f2")
        await _type_and_enter(pilot, "bdcdj", "110105194912310021")  # a wrong check digit
        await pilot.press("f12")  # commit anyway: the problems in a dialog, nothing saved
        await pilot.pause()

    assert snap_compare(make_app(home), terminal_size=SIZE, run_before=bad_input)


# ---------------------------------------------------------------- sync


@pytest.fixture
def fixed_sync(monkeypatch: pytest.MonkeyPatch, fixed_clock: None) -> None:
    """The sync thread's clock stands still at 09:30 and its backoff has no jitter, so the
    retry time and the error text on the screen are the same on every run."""
    from window_client.services.sync import Backoff
    from window_client.services.sync import background as background_sync

    frozen = dt.datetime.fromisoformat(CLOCK)
    monkeypatch.setattr(background_sync, "_utc_now", lambda: frozen)
    monkeypatch.setattr(background_sync, "Backoff", lambda: Backoff(jitter=0.0))


def refused_app(home: Path) -> WindowClientApp:
    """The filled station, where a clerk's 终止 was refused by the hall (no supervisor)."""
    from models.problems import Problem
    from offline_cache import sync_repo
    from offline_cache.repositories import CaseFilter

    app = filled_app(home)
    runtime = app.base
    case = runtime.cases.list_cases(CaseFilter(state="accepted_tolerated"), TODAY, 1)[0]
    runtime.cases.terminate(case.case_no, TODAY, "申请人放弃补正", approved_by="C001")
    with runtime.store.transaction("sync") as unit:
        op_id = unit.execute("SELECT op_id FROM outbox ORDER BY seq DESC LIMIT 1").scalar_one()
        reason = Problem("case.needs_supervisor", {"case_no": case.case_no}).zh()
        sync_repo.record_push_results(
            unit, [sync_repo.PushOutcome(op_id, "refused", "case.needs_supervisor", reason)]
        )
    return app


async def _open_sync_screen(pilot: Pilot[Any]) -> None:
    await _sign_in(pilot)
    app: Any = pilot.app
    for _ in range(400):  # the sign-in attempt at the (absent) hall, in the sync thread
        if app.sync_status is not None and app.sync_status.last_error:
            break
        await pilot.pause(0.05)
    await pilot.press("f8")
    await pilot.pause()


def test_sync_screen_with_a_refused_operation(
    snap_compare: Callable[..., bool], home: Path, fixed_sync: None
) -> None:
    assert snap_compare(refused_app(home), terminal_size=SIZE, run_before=_open_sync_screen)


def test_workbench_of_a_supervisor_with_a_refusal(
    snap_compare: Callable[..., bool], home: Path, fixed_sync: None
) -> None:
    """The supervisor's footer (with F9 日结) and a full status line fit 80 columns."""
    assert snap_compare(
        refused_app(home),
        terminal_size=SIZE,
        run_before=lambda pilot: _sign_in_as(pilot, "S001", "demo-5678"),
    )
