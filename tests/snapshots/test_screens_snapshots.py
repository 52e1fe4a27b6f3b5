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


async def _type_and_enter(pilot: Pilot[Any], *fields: str) -> None:
    for text in fields:
        await pilot.press(*text, "enter")


async def _sign_in(pilot: Pilot[Any]) -> None:
    await _type_and_enter(pilot, "C001", "demo-1234")
    await pilot.pause()


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
