"""The Textual App: the composition root of the counter.

It receives its runtime (store, catalogue, settings) through the constructor so tests can pass
a temporary store; screens reach services only through :attr:`WindowClientApp.services`.

Start-up is lazy on purpose: the sign-in screen is on the terminal before SQLAlchemy, the
catalogue, argon2 or any working screen is imported. Without a runtime from the caller, the
station (settings, store, catalogue, demo seeding) is opened in a worker thread after the first
frame; a sign-in submitted before it is ready waits for it. Only this module and the sign-in
screen are imported eagerly, and they keep their heavy imports inside functions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import traceback
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from models.problems import DomainError
from screens.dialogs import ErrorDialog
from screens.login import LockScreen, LoginScreen

if TYPE_CHECKING:
    from window_client.services.runtime import Runtime
    from window_client.services.staff import StaffMember

TEXT: dict[str, Any] = {
    "title": "全科综合窗口",
    "quit": "退出",
    "unexpected": "操作未完成：{error}\n（详细信息已记录在 {log}）",
    "start_failed": "无法打开本站数据，程序将退出：\n{error}",
    "unknown_station": (
        "本机设置的站点代码不在事项目录中，"
        "请检查 WINDOW_CLIENT_STATION 或 config.toml 的 station。\n（{detail}）"
    ),
    "bad_settings": "配置文件有误，请联系管理员：\n{detail}",
    "palette": "命令",
    "palette_hint": "输入操作名称查找，回车执行",
}
# The interval of the idle-lock check: often enough for a short test lock, never busy.
MAX_IDLE_CHECK_SECONDS = 5.0
STATION_OPEN_DELAY_SECONDS = 0.15


class BindingCommands(Provider):
    """Every key of the current screen, listed and searchable in the command palette (Ctrl+P)."""

    def _commands(self) -> Iterable[tuple[str, Callable[[], Any], str]]:
        seen: set[tuple[str, int]] = set()
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            # The footer's keys (cursor keys of tables and inputs are not actions); not the
            # palette's own key, which would only open another palette.
            if not (binding.show and binding.description and active.enabled):
                continue
            if binding.action == "command_palette":
                continue
            # One entry per action and node: "space,enter" style bindings appear once.
            if (binding.action, id(active.node)) in seen:
                continue
            seen.add((binding.action, id(active.node)))
            key = self.app.get_key_display(binding)
            text = f"{binding.description}（{key}）"
            yield text, partial(self.app.run_action, binding.action, active.node), binding.tooltip

    async def discover(self) -> Hits:
        """Ctrl+P with nothing typed lists every action of the screen."""
        for text, run, help_text in self._commands():
            yield DiscoveryHit(text, run, help=help_text or None)

    async def search(self, query: str) -> Hits:
        """Match the Chinese descriptions (with the key) and the tooltips."""
        matcher = self.matcher(query)
        for text, run, help_text in self._commands():
            score = max(matcher.match(text), matcher.match(help_text) if help_text else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, help=help_text or None)


def _prepare_station(runtime: Runtime, samples: bool) -> None:
    """Open the store and catalogue; give a new station its demo accounts (and, for the demo
    command, the bundled sample cases) so there is someone to sign in and something to see."""
    from window_client.services.staff import seed_demo_staff

    station = runtime.station  # an unknown station code fails here, before anyone signs in
    if samples:
        from importlib import resources

        from offline_cache.repositories import CaseFilter
        from window_client.services.batch import BatchRunner
        from window_client.services.runtime import Runtime

        if runtime.cases.count(CaseFilter()) == 0:
            sample = Path(runtime.settings.home) / "sample_batch.csv"
            sample.parent.mkdir(parents=True, exist_ok=True)
            data = resources.files("window_client") / "data" / "sample_batch.csv"
            sample.write_bytes(data.read_bytes())
            # Accepted by "demo", as `window-client sample` does: the receipts say who.
            demo = Runtime(runtime.settings, actor="demo", _store=runtime.store)
            BatchRunner(demo.acceptance).run(sample, dt.date.today())
    if runtime.staff.count() == 0:
        seed_demo_staff(runtime.staff, station.code)


class WindowClientApp(App[None]):
    """The counter application.

    Args:
        runtime: the station's services; by default built from the environment
            (``WINDOW_CLIENT_HOME`` …) in the background after the first frame.
        today: the working day (fixed in tests).
        idle_seconds: lock the screen after this long without a key (0: never); by default
            from the station's configuration.
        samples: accept the bundled sample cases into an empty station (the demo command).
    """

    TITLE = TEXT["title"]
    CSS_PATH = str(Path(__file__).resolve().parent.parent / "screens" / "app.tcss")
    # Only the current screen's own actions: Textual's system commands (themes, maximise, …)
    # are English and not for a counter; quitting is one of the app's keys anyway.
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", TEXT["quit"], id="app.quit", tooltip="退出程序"),
        # Declared here (Textual adds an English one otherwise); the footer shows it on the right.
        Binding(
            "ctrl+p",
            "command_palette",
            TEXT["palette"],
            show=False,
            priority=True,
            id="app.command_palette",
            tooltip="列出本屏的全部操作",
        ),
    ]

    def __init__(
        self,
        runtime: Runtime | None = None,
        today: Callable[[], dt.date] | None = None,
        idle_seconds: float | None = None,
        *,
        samples: bool = False,
    ) -> None:
        super().__init__()
        self._base = runtime
        self._services: Runtime | None = None
        self.samples = samples
        self.member: StaffMember | None = None
        self.online = False  # the sync engine (issue 4) sets this
        self._today = today or dt.date.today
        self._idle_override = idle_seconds
        self.idle_seconds = 0.0  # known once the station's settings are read
        self._idle_timer: Timer | None = None
        self.last_activity = time.monotonic()
        self.locked = False
        self._started = asyncio.Event()

    # ------------------------------------------------------------ services

    @property
    def base(self) -> Runtime:
        """The station's runtime before sign-in (sign-in, seeding); see :meth:`wait_started`."""
        if self._base is None:
            raise RuntimeError("the station is still being opened")
        return self._base

    @property
    def runtime(self) -> Runtime:
        """The station's runtime before sign-in (sign-in, seeding)."""
        return self.base

    @property
    def services(self) -> Runtime:
        """Services acting as the signed-in staff member (the station's before sign-in)."""
        return self._services if self._services is not None else self.base

    @property
    def is_started(self) -> bool:
        """Whether the station's store and catalogue are open."""
        return self._started.is_set() and self._base is not None

    async def wait_started(self) -> Runtime | None:
        """The runtime once the station is open; None when opening it failed."""
        await self._started.wait()
        return self._base

    def today(self) -> dt.date:
        """The working day (fixed in tests)."""
        return self._today()

    # ------------------------------------------------------------ start-up

    def get_key_display(self, binding: Binding) -> str:
        """Function keys as printed on the keyboard (F2, not f2)."""
        display = super().get_key_display(binding)
        return display.upper() if display[:1] == "f" and display[1:].isdigit() else display

    def action_command_palette(self) -> None:
        """Ctrl+P: the palette of the current screen's actions, in Chinese."""
        if self.use_command_palette and not any(isinstance(s, CommandPalette) for s in self.screen_stack):
            self.push_screen(CommandPalette(placeholder=TEXT["palette_hint"], id="--command-palette"))

    def on_mount(self) -> None:
        """Ask for a sign-in at once; open the station now (given runtime), or once the first
        frame is on the terminal (:meth:`on_ready`)."""
        self.push_screen(LoginScreen(), self._signed_in)
        if self._base is not None:
            try:
                _prepare_station(self._base, self.samples)
            except Exception as exc:  # e.g. an unknown station code: a dialog, then exit
                self._start_failed(exc)
                return
            self._station_ready(self._base)

    def on_ready(self) -> None:
        """The sign-in screen has been drawn: open the station in the background a moment
        later. The import-heavy thread holds the GIL most of the time, so started at once it
        would slow the writer thread that is still putting the first frame on the terminal
        (tens of milliseconds); nobody signs in within the delay."""
        if self._base is None:
            self.set_timer(STATION_OPEN_DELAY_SECONDS, self._open_station)

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup", name="open station")
    def _open_station(self) -> None:
        from window_client.services.runtime import Runtime
        from window_client.services.settings import Settings

        runtime = Runtime(Settings.from_env(), actor="tui")
        try:
            _prepare_station(runtime, self.samples)
        except BaseException:
            runtime.close()
            raise
        self.call_from_thread(self._station_ready, runtime)

    def _station_ready(self, runtime: Runtime) -> None:
        self._base = runtime
        settings = runtime.settings
        if settings.keymap:
            self.set_keymap(settings.keymap)
        self.idle_seconds = (
            self._idle_override if self._idle_override is not None else settings.idle_lock_seconds
        )
        if self.idle_seconds > 0:
            interval = max(0.1, min(MAX_IDLE_CHECK_SECONDS, self.idle_seconds / 4))
            self._idle_timer = self.set_interval(interval, self._check_idle)
        for screen in self.screen_stack:
            if isinstance(screen, LoginScreen):
                screen.show_station(runtime.station.name)
        self._started.set()

    def _start_failed(self, error: BaseException) -> None:
        from window_client.services.runtime import UnknownStationError
        from window_client.services.settings import SettingsError

        self._log_error(error)
        self._started.set()  # a waiting sign-in gives up instead of hanging
        if isinstance(error, UnknownStationError):
            message = TEXT["unknown_station"].format(detail=error)
        elif isinstance(error, SettingsError):
            message = TEXT["bad_settings"].format(detail=error)
        else:
            message = error.problem.zh() if isinstance(error, DomainError) else str(error)
        self.push_screen(
            ErrorDialog(TEXT["start_failed"].format(error=message)),
            lambda _: self.exit(return_code=2),
        )

    # ------------------------------------------------------------ sign-in, lock

    def _signed_in(self, member: StaffMember | None) -> None:
        if member is None:
            self.exit()
            return
        from screens.workbench import WorkbenchScreen
        from window_client.services.runtime import Runtime

        self.member = member
        # Services act as the signed-in staff member (audit trail, case clerk).
        base = self.base
        self._services = Runtime(base.settings, actor=member.staff_no, _store=base.store)
        self.last_activity = time.monotonic()
        self.push_screen(WorkbenchScreen())

    def sign_out(self) -> None:
        """Back to the sign-in screen with nothing of the last staff member left on screen."""
        self.member = None
        self._services = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        login = LoginScreen()
        self.push_screen(login, self._signed_in)
        if self.is_started:
            login.show_station(self.base.station.name)

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

    # ------------------------------------------------------------ errors

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed background task becomes an error dialog (workers run with
        ``exit_on_error=False``), and is logged like any other unexpected failure."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            if event.worker.group == "startup":
                self._start_failed(event.worker.error)
            else:
                self.report_error(event.worker.error)

    def _log_path(self) -> Path:
        if self._base is not None:
            return self._base.settings.home / "errors.log"
        from window_client.services.settings import Settings

        try:
            return Settings.from_env().home / "errors.log"
        except ValueError:  # the configuration itself is what failed
            return Path.home() / ".window-client" / "errors.log"

    def _log_error(self, error: BaseException) -> Path:
        log = self._log_path()
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(f"--- {dt.datetime.now().isoformat()}\n")
                fh.write("".join(traceback.format_exception(error)))
        except OSError:
            pass
        return log

    def report_error(self, error: BaseException, restart: bool = False) -> None:
        """Log the traceback for the maintainers and show staff a dialog; with ``restart`` the
        screens are rebuilt from the sign-in afterwards."""
        log = self._log_error(error)
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
        """Release the store (shared by both runtimes) and anything else they hold."""
        if self._services is not None:
            self._services.close()
        if self._base is not None:
            self._base.close()
