"""Screens at 80x24, compared with the committed SVG snapshots (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/snapshots --snapshot-update`` and review
the SVGs in the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.conftest import TODAY
from window_client.app import WindowClientApp
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings

SIZE = (80, 24)


def make_app(home: Path) -> WindowClientApp:
    runtime = Runtime(Settings.from_env(), actor="C001")
    return WindowClientApp(runtime=runtime, today=lambda: TODAY, idle_seconds=0)


async def _sign_in(pilot: Pilot[None]) -> None:
    for ch in "C001":
        await pilot.press(ch)
    await pilot.press("enter")
    for ch in "demo-1234":
        await pilot.press(ch)
    await pilot.press("enter")
    await pilot.pause()


def test_login_screen(snap_compare: Callable[..., bool], home: Path) -> None:
    assert snap_compare(make_app(home), terminal_size=SIZE)


def test_workbench_empty_station(snap_compare: Callable[..., bool], home: Path) -> None:
    assert snap_compare(make_app(home), terminal_size=SIZE, run_before=_sign_in)


def test_accept_form_with_verdict(snap_compare: Callable[..., bool], home: Path) -> None:
    async def fill(pilot: Pilot[Any]) -> None:
        await _sign_in(pilot)
        await pilot.press("f2")
        for ch in "bdcdj":
            await pilot.press(ch)
        await pilot.press("enter")
        for ch in "11010519491231002X":
            await pilot.press(ch)
        await pilot.press("enter")
        for ch in "wang":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(home), terminal_size=SIZE, run_before=fill)
