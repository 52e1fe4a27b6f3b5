"""The Textual App: the composition root of the counter.

It receives its runtime (store, catalogue, settings) through the constructor so tests can pass
a temporary store; screens reach services only through :attr:`WindowClientApp.services`, typed
against :class:`screens.context.Counter` (they never import this module).

Start-up is lazy on purpose: the sign-in screen is on the terminal before SQLAlchemy, the
catalogue, argon2 or any working screen is imported. Without a runtime from the caller, the
station (settings, store, catalogue, demo seeding) is opened in a worker thread after the first
frame; a sign-in submitted before it is ready waits for it. Only this module, its parts in
:mod:`window_client.tui` and the sign-in screen are imported eagerly, and they keep their heavy
imports inside functions.

The App composes: sign-in and the idle lock (:mod:`window_client.tui.session`), the sync thread
and its messages (:mod:`window_client.tui.sync_events`; no frame waits on the network), the key
hand-out (:mod:`window_client.tui.keys`), the command palette (:mod:`window_client.tui.palette`)
and the one handler that turns failures into error dialogs (:mod:`window_client.tui.errors`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.timer import Timer

from models.problems import DomainError
from screens.dialogs import ErrorDialog
from screens.login import LoginScreen
from window_client.tui.errors import STARTUP_GROUP, ErrorReporting
from window_client.tui.keys import KeyOrder
from window_client.tui.notify_ticker import NotifyTicker
from window_client.tui.palette import BindingCommands
from window_client.tui.session import Session
from window_client.tui.sync_events import TEXT as SYNC_TEXT
from window_client.tui.sync_events import SyncEvents, background_sync

if TYPE_CHECKING:
    from screens.context import Counter
    from window_client.services.runtime import Runtime
    from window_client.services.staff import StaffMember
    from window_client.services.sync import BackgroundSync, SignInOutcome, SyncStatus

TEXT: dict[str, Any] = {
    "title": "全科综合窗口",
    "quit": "退出",
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
# At exit the sync thread gets this long to finish a run before the store is closed under it.
UNMOUNT_SYNC_WAIT_SECONDS = 5.0


def _prepare_station(runtime: Runtime, samples: bool, today: dt.date) -> BackgroundSync | None:
    """Open the store and catalogue; give a new station its demo accounts (and, for the demo
    command, sample cases in every state) so there is someone to sign in and something to see.
    Returns the station's background sync, or None when the hall's URL is unusable."""
    from window_client.services.staff import seed_demo_staff

    station = runtime.station  # an unknown station code fails here, before anyone signs in
    if runtime.staff.count() == 0:
        seed_demo_staff(runtime.staff, station.code)
    if samples:
        from window_client.services.demo_seed import seed_demo_station

        seed_demo_station(runtime, today)
    return background_sync(runtime)


class WindowClientApp(Session, SyncEvents, ErrorReporting, App[None]):
    """The counter application.

    Args:
        runtime: the station's services; by default built from the environment
            (``WINDOW_CLIENT_HOME`` …) in the background after the first frame.
        today: the working day (fixed in tests).
        idle_seconds: lock the screen after this long without a key (0: never); by default
            from the station's configuration.
        samples: fill an empty station with sample cases in every state (the demo command).
        demo: the hall is the demo hall started with the counter: sync the sample cases to it
            as soon as it answers, before anyone signs in.
    """

    TITLE = TEXT["title"]
    CSS_PATH = str(Path(__file__).resolve().parent.parent / "screens" / "app.tcss")
    # Only the current screen's own actions: Textual's system commands (themes, maximise, …)
    # are English and not for a counter; quitting is one of the app's keys anyway.
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", TEXT["quit"], id="app.quit", tooltip="退出程序"),
        # Every screen syncs on Ctrl+Y; the footer has no room for it (the palette lists it).
        Binding(
            "ctrl+y",
            "sync_now",
            SYNC_TEXT["sync_now"],
            show=False,
            id="app.sync_now",
            tooltip="立即与大厅同步（上传待同步的操作，下载大厅的决定）",
        ),
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
        demo: bool = False,
    ) -> None:
        super().__init__()
        self._base = runtime
        self._services: Runtime | None = None
        self.samples = samples
        self.demo = demo
        self.member: StaffMember | None = None
        self.background: BackgroundSync | None = None
        self.sync_status: SyncStatus | None = None
        self.sync_problem: str | None = None  # why there is no sync at all (a bad URL)
        self._last_sign_in: tuple[SignInOutcome, str] | None = None
        self._manual_sync = False
        self._today = today or dt.date.today
        self._idle_override = idle_seconds
        self.idle_seconds = 0.0  # known once the station's settings are read
        self._idle_timer: Timer | None = None
        self.last_activity = time.monotonic()
        self.locked = False
        self._started = asyncio.Event()
        self._keys = KeyOrder(self)

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
                background = _prepare_station(self._base, self.samples, self.today())
            except Exception as exc:  # e.g. an unknown station code: a dialog, then exit
                self._start_failed(exc)
                return
            self._station_ready(self._base, background)

    def on_ready(self) -> None:
        """The sign-in screen has been drawn: open the station in the background a moment
        later. The import-heavy thread holds the GIL most of the time, so started at once it
        would slow the writer thread that is still putting the first frame on the terminal
        (tens of milliseconds); nobody signs in within the delay."""
        if self._base is None:
            self.set_timer(STATION_OPEN_DELAY_SECONDS, self._open_station)

    @work(thread=True, exclusive=True, exit_on_error=False, group=STARTUP_GROUP, name="open station")
    def _open_station(self) -> None:
        from window_client.services.runtime import Runtime
        from window_client.services.settings import Settings

        runtime = Runtime(Settings.from_env(), actor="tui")
        try:
            background = _prepare_station(runtime, self.samples, self.today())
        except BaseException:
            runtime.close()
            raise
        self.call_from_thread(self._station_ready, runtime, background)

    def _station_ready(self, runtime: Runtime, background: BackgroundSync | None) -> None:
        self._base = runtime
        self._start_sync(runtime, background)
        NotifyTicker(self, runtime, self.today).start()  # 短信提醒 in the background, like the sync
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
        # The long-lived objects (modules, catalogue, store) are all there now: keep them out of
        # the collector's full passes, which otherwise walk them all and stall whatever screen
        # is opening at that moment for a tenth of a second (undone in on_unmount). No collection
        # first: that would be the same stall, now, while the clerk types the staff number.
        gc.freeze()
        self._started.set()

    def _start_failed(self, error: BaseException) -> None:
        from window_client.services.runtime import UnknownStationError
        from window_client.services.settings import SettingsError

        self._log_error(error)
        self._started.set()  # a waiting sign-in gives up instead of hanging
        if isinstance(error, UnknownStationError):
            message = TEXT["unknown_station"].format(detail=error.zh())
        elif isinstance(error, SettingsError):
            message = TEXT["bad_settings"].format(detail=error.zh())
        else:
            message = error.problem.zh() if isinstance(error, DomainError) else str(error)
        self.push_screen(
            ErrorDialog(TEXT["start_failed"].format(error=message)),
            lambda _: self.exit(return_code=2),
        )

    async def on_event(self, event: events.Event) -> None:
        """Any key or click counts as activity for the idle lock; keys are handed out in turn
        (:class:`~window_client.tui.keys.KeyOrder`)."""
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = time.monotonic()
        if isinstance(event, events.Key) and not event.is_forwarded and self._keys.hold(event):
            return
        await super().on_event(event)

    def on_unmount(self) -> None:
        """Stop the sync thread; release the store (shared by both runtimes) and the rest."""
        gc.unfreeze()
        if self.background is not None:
            self.background.stop()
            self.background.wait_stopped(UNMOUNT_SYNC_WAIT_SECONDS)
        if self._services is not None:
            self._services.close()
        if self._base is not None:
            self._base.close()


if TYPE_CHECKING:

    def _hosts_the_screens(app: WindowClientApp) -> Counter:
        """mypy checks here that the App is what the screens expect of it."""
        return app
