"""Pilot helpers shared by the TUI tests: the App on a test runtime, typing, signing in."""

from __future__ import annotations

import time

from textual.pilot import Pilot

from tests.conftest import TODAY
from window_client.app import WindowClientApp
from window_client.services.runtime import Runtime

SIZE = (80, 24)
# The worker groups that read or write the store for a screen (the status line's counts, the
# workbench, the day close, saved sheets): a test waits for them before it looks. The sync thread
# runs all along.
DATA_GROUPS = frozenset({"status-bar", "workbench", "workbench-page", "dayclose", "sheets"})
SETTLE_LIMIT_SECONDS = 30.0


def make_app(rt: Runtime) -> WindowClientApp:
    """The real App on ``rt``, on the tests' fixed day, with the idle lock off."""
    return WindowClientApp(runtime=rt, today=lambda: TODAY, idle_seconds=0)


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type ``text`` one key at a time, as a clerk would."""
    for ch in text:
        await pilot.press(ch)


async def enter_credentials(pilot: Pilot[None], staff_no: str, password: str) -> None:
    """Staff number, Enter, password, Enter on the sign-in screen."""
    await type_text(pilot, staff_no)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")


async def sign_in(pilot: Pilot[None], staff_no: str = "C001", password: str = "demo-1234") -> None:
    """Sign in offline-capable and let the workbench appear."""
    await enter_credentials(pilot, staff_no, password)
    await pilot.pause()
    await settle(pilot)


async def settle(pilot: Pilot[None]) -> None:
    """Let the screens' data workers finish and their results arrive on screen."""
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    while any(w.group in DATA_GROUPS and not w.is_finished for w in pilot.app.workers):
        if time.monotonic() > deadline:
            raise AssertionError("the screen's data workers did not finish")
        await pilot.pause(0.01)
    await pilot.pause()
