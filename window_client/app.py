"""The Textual App: the composition root of the counter.

It receives its runtime (store, catalogue, settings) through the constructor so tests can pass
a temporary store; screens reach services only through :attr:`WindowClientApp.services`.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from models.problems import DomainError
from screens.dialogs import ErrorDialog
from screens.login import LockScreen, LoginScreen
from screens.workbench import WorkbenchScreen
from window_client.services.runtime import Runtime
from window_client.services.settings import Settings
from window_client.services.staff import StaffMember, seed_demo_staff

TEXT: dict[str, Any] = {
    "title": "全科综合窗口",
    "quit": "退出",
    "unexpected": "操作未完成：{error}\n（详细信息已记录在 {log}）",
}


class BindingCommands(Provider):
    """Every key of the current screen, searchable in the command palette (Ctrl+P)."""

    async def search(self, query: str) -> Hits:
        """Match the Chinese descriptions and the action names."""
        matcher = self.matcher(query)
        screen = self.screen
        for _key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or not active.enabled:
                continue
            text = f"{binding.description}（{binding.key_display or binding.key}）"
            score = max(matcher.match(text), matcher.match(binding.action))
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self.app.run_action, binding.action, active.node),
                )


class WindowClientApp(App[None]):
    """The counter application."""

    TITLE = TEXT["title"]
    CSS_PATH = str(Path(__file__).resolve().parent.parent / "screens" / "app.tcss")
    COMMANDS = App.COMMANDS | {BindingCommands}
    BINDINGS = [Binding("ctrl+q", "quit", TEXT["quit"], id="app.quit")]

    def __init__(
        self,
        runtime: Runtime | None = None,
        today: Callable[[], dt.date] | None = None,
        idle_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.base = runtime or Runtime(Settings.from_env(), actor="tui")
        self.services = self.base
        self.member: StaffMember | None = None
        self.online = False  # the sync engine (issue 4) sets this
        self._today = today or dt.date.today
        self.idle_seconds = idle_seconds if idle_seconds is not None else self.base.settings.idle_lock_seconds
        self.last_activity = time.monotonic()
        self.locked = False

    @property
    def runtime(self) -> Runtime:
        """The station's runtime before sign-in (sign-in, seeding)."""
        return self.base

    def today(self) -> dt.date:
        """The working day (fixed in tests)."""
        return self._today()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands minus the ones that do not belong at a counter."""
        for command in super().get_system_commands(screen):
            if command.title.lower() not in ("screenshot",):
                yield command

    def on_mount(self) -> None:
        """Seed demo staff on an empty station, apply the keymap, ask for a sign-in."""
        if self.base.staff.count() == 0:
            seed_demo_staff(self.base.staff, self.base.station.code)
        if self.base.settings.keymap:
            self.set_keymap(self.base.settings.keymap)
        self.set_interval(5, self._check_idle)
        self.push_screen(LoginScreen(), self._signed_in)

    def _signed_in(self, member: StaffMember | None) -> None:
        if member is None:
            self.exit()
            return
        self.member = member
        # Services act as the signed-in staff member (audit trail, case clerk).
        self.services = Runtime(self.base.settings, actor=member.staff_no, _store=self.base.store)
        self.last_activity = time.monotonic()
        self.push_screen(WorkbenchScreen())

    def sign_out(self) -> None:
        """Back to the sign-in screen with nothing of the last staff member left on screen."""
        self.member = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(LoginScreen(), self._signed_in)

    def lock(self) -> None:
        """Cover the screen until the same staff member signs in again."""
        if self.member is None or self.locked:
            return
        self.locked = True

        def unlocked(ok: bool | None) -> None:
            self.locked = False
            self.last_activity = time.monotonic()
            if not ok:
                self.sign_out()

        self.push_screen(LockScreen(self.member), unlocked)

    def _check_idle(self) -> None:
        if self.idle_seconds > 0 and time.monotonic() - self.last_activity > self.idle_seconds:
            self.lock()

    async def on_event(self, event: events.Event) -> None:
        """Any key or click counts as activity for the idle lock."""
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = time.monotonic()
        await super().on_event(event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed background task becomes an error dialog (workers run with
        ``exit_on_error=False``), and is logged like any other unexpected failure."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)

    def report_error(self, error: BaseException, restart: bool = False) -> None:
        """Log the traceback for the maintainers and show staff a dialog; with ``restart`` the
        screens are rebuilt from the sign-in afterwards."""
        log = self.base.settings.home / "errors.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(f"--- {dt.datetime.now().isoformat()}\n")
                fh.write("".join(traceback.format_exception(error)))
        except OSError:
            pass
        message = error.problem.zh() if isinstance(error, DomainError) else str(error)
        dialog = ErrorDialog(TEXT["unexpected"].format(error=message, log=log))
        self.push_screen(dialog, (lambda _: self.sign_out()) if restart else None)

    def _handle_exception(self, error: Exception) -> None:
        # An exception in a message handler stops that widget's message loop, so the screen
        # it happened on is dead: say so in a dialog (never a traceback on the counter), log
        # the traceback, and rebuild the screens from the sign-in.
        if self.is_running and len(self.screen_stack) > 1:
            self.report_error(error, restart=True)
        else:
            super()._handle_exception(error)

    def on_unmount(self) -> None:
        """Release the store."""
        self.base.close()
