"""The Textual App: the composition root of the counter.

It receives its runtime (store, catalogue, settings) through the constructor so tests can pass
a temporary store; screens reach services only through :attr:`WindowClientApp.services`.

Start-up is lazy on purpose: the sign-in screen is on the terminal before SQLAlchemy, the
catalogue, argon2 or any working screen is imported. Without a runtime from the caller, the
station (settings, store, catalogue, demo seeding) is opened in a worker thread after the first
frame; a sign-in submitted before it is ready waits for it. Only this module and the sign-in
screen are imported eagerly, and they keep their heavy imports inside functions.

Sync never runs on the UI thread: sign-in asks the hall in a worker thread (falling back to the
cached hash when the hall does not answer), and one thread worker (group ``sync``) runs
:class:`~window_client.services.background_sync.BackgroundSync` for the whole session. Its
status snapshots and reports come back as :class:`SyncStatusChanged` and :class:`SyncFinished`
messages; no frame waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.message_pump import MessagePump
from textual.timer import Timer
from textual.worker import Worker, WorkerFailed, WorkerState

from models.problems import DomainError
from screens.dialogs import ErrorDialog
from screens.login import LockScreen, LoginScreen
from screens.status import StatusBar, SyncDataChanged

if TYPE_CHECKING:
    from window_client.services.background_sync import BackgroundSync, SignInOutcome
    from window_client.services.runtime import Runtime
    from window_client.services.staff import StaffMember
    from window_client.services.sync import SyncReport, SyncStatus

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
    "sync_now": "同步",
    "offline_sign_in": "离线登录：暂时无法连接大厅，已按上次联网登录的密码验证；联网后自动同步",
    "auth_paused": "大厅要求重新登录，同步已暂停：按 Ctrl+L 锁屏后输入密码，或在同步页（F8）按 F6",
    "refused": "大厅退回了 {count} 项操作（已保留），请在同步页（F8）查看原因和处理办法",
    "synced": "同步完成：上传 {pushed} 项，下载 {pulled} 项，待同步 {pending} 项",
    "sync_failed": "同步未完成：{reason}",
    "sync_unavailable": "未连接大厅：{reason}",
    "sync_crashed": "后台同步出错：{error}（详细信息已记录在 {log}），稍后自动重试",
    "bad_server": (
        "大厅地址无效（{detail}），只能离线工作；请检查 WINDOW_CLIENT_SERVER 或 config.toml 的 server"
    ),
}
# The interval of the idle-lock check: often enough for a short test lock, never busy.
MAX_IDLE_CHECK_SECONDS = 5.0
STATION_OPEN_DELAY_SECONDS = 0.15
# The sign-in waits this long for the hall (its connect timeout is 5 s) before checking the
# cached hash instead; a late answer from the hall is still used for the session's token.
SIGN_IN_WAIT_SECONDS = 6.0
# At exit the sync thread gets this long to finish a run before the store is closed under it.
UNMOUNT_SYNC_WAIT_SECONDS = 5.0
# How long a typed key waits at most for what the key before it set off (a handler that
# never answers must not freeze the keyboard).
KEY_SETTLE_TIMEOUT_SECONDS = 0.5
# Keys listed in the command palette although the footer has no room for them.
PALETTE_ONLY = frozenset({"app.sync_now", "workbench.refresh"})
# The demo signs in as this clerk to give the demo hall the sample cases (README: demo).
DEMO_SYNC_STAFF = "C001"


@dataclass
class SyncStatusChanged(Message):
    """A new sync status snapshot (posted from whichever thread changed it)."""

    status: SyncStatus


@dataclass
class SyncFinished(Message):
    """A sync run ended (completed, or stopped by an error it records)."""

    report: SyncReport


@dataclass
class SyncCrashed(Message):
    """The sync thread hit an unexpected error; it carries on with backoff."""

    error: BaseException


class BindingCommands(Provider):
    """Every key of the current screen, listed and searchable in the command palette (Ctrl+P)."""

    def _commands(self) -> Iterable[tuple[str, Callable[[], Any], str]]:
        seen: set[tuple[str, int]] = set()
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            # The footer's keys (cursor keys of tables and inputs are not actions); not the
            # palette's own key, which would only open another palette.
            listed = binding.show or binding.id in PALETTE_ONLY
            if not (listed and binding.description and active.enabled):
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
    return _background_sync(runtime)


def _background_sync(runtime: Runtime) -> BackgroundSync | None:
    from window_client.hall_client import BadServerURL
    from window_client.services.background_sync import DEFAULT_INTERVAL, BackgroundSync

    try:
        service = runtime.sync  # builds the HTTP client here, off the UI thread
    except BadServerURL:
        return None
    raw = runtime.settings.config.get("sync", {})
    interval = raw.get("interval_seconds", DEFAULT_INTERVAL) if isinstance(raw, dict) else DEFAULT_INTERVAL
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        interval = DEFAULT_INTERVAL
    return BackgroundSync(service, float(interval))


class WindowClientApp(App[None]):
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
            TEXT["sync_now"],
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
        self._typed: list[events.Key] = []  # read from the terminal, not yet handed out
        self._released: set[int] = set()  # ids of keys handed out, on their way back in
        self._typing: asyncio.Task[None] | None = None

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

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup", name="open station")
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

    def _start_sync(self, runtime: Runtime, background: BackgroundSync | None) -> None:
        if background is None:
            from window_client.hall_client import BadServerURL, check_server_url

            try:
                check_server_url(runtime.settings.server)
            except BadServerURL as exc:
                self.sync_problem = TEXT["bad_server"].format(detail=exc)
            return
        self.background = background
        self.sync_status = background.status
        background.subscribe(lambda status: self.post_message(SyncStatusChanged(status)))
        self._sync_worker(background)
        if self.demo:
            from window_client.services.demo_seed import demo_password

            background.bootstrap(DEMO_SYNC_STAFF, demo_password(DEMO_SYNC_STAFF), runtime.sync_once)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync", name="sync")
    def _sync_worker(self, background: BackgroundSync) -> None:
        """The station's sync thread, for the whole run of the App."""
        background.run(
            on_report=lambda report: self.post_message(SyncFinished(report)),
            on_error=lambda error: self.post_message(SyncCrashed(error)),
        )

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

    async def sign_in(self, staff_no: str, password: str) -> SignInOutcome:
        """Check a sign-in without blocking a frame: at the hall first (in a worker thread; a
        good answer refreshes the cached hash and gives sync its token), against the cached
        hash when the hall does not answer. Raises :class:`SignInError` (Chinese)."""
        from window_client.services.staff import SignInError

        worker = self._sign_in_worker(staff_no, password)
        try:
            result = await asyncio.wait_for(asyncio.shield(worker.wait()), SIGN_IN_WAIT_SECONDS)
        except TimeoutError:
            # The hall is there but slow: the cached hash decides now; the online sign-in
            # goes on in its thread and, if it succeeds, the session syncs with its token.
            offline = self.run_worker(
                partial(self._offline_sign_in, staff_no, password),
                thread=True,
                group="sign-in-offline",
                exit_on_error=False,
            )
            result = await offline.wait()
        except WorkerFailed as exc:
            raise exc.error from None
        if isinstance(result, SignInError):
            raise result
        self._last_sign_in = (result, password)
        return result

    def _offline_sign_in(self, staff_no: str, password: str) -> SignInOutcome | Exception:
        from window_client.services.background_sync import SignInOutcome
        from window_client.services.staff import SignInError

        try:
            return SignInOutcome(self.base.staff.sign_in(staff_no, password), online=False)
        except SignInError as exc:
            return exc

    # Not exclusive: a sign-in still waiting for a slow hall must finish (its token is used).
    @work(thread=True, exit_on_error=False, group="sign-in", name="sign in")
    def _sign_in_worker(self, staff_no: str, password: str) -> SignInOutcome | Exception:
        """Returns the outcome, or the :class:`SignInError` to show (not a worker failure)."""
        from window_client.services.staff import SignInError

        background = self.background
        if background is None:
            return self._offline_sign_in(staff_no, password)
        try:
            return background.sign_in(staff_no, password, self.base.staff.sign_in)
        except SignInError as exc:
            return exc

    def _signed_in(self, member: StaffMember | None) -> None:
        if member is None:
            self.exit()
            return
        from screens.workbench import WorkbenchScreen
        from window_client.services.runtime import Runtime

        self.member = member
        # Services act as the signed-in staff member (audit trail, case clerk); they share
        # the station's sync service (one token, one status).
        base = self.base
        background = self.background
        self._services = Runtime(
            base.settings,
            actor=member.staff_no,
            _store=base.store,
            _shared_sync=background.service if background is not None else None,
        )
        self.last_activity = time.monotonic()
        last, self._last_sign_in = self._last_sign_in, None
        online = last is not None and last[0].online
        if background is not None and last is not None:
            background.start_session(self._services.sync_once, last[0], last[1])
        self.push_screen(WorkbenchScreen())
        if not online:
            self.notify(TEXT["offline_sign_in"], timeout=8)

    async def unlock(self, member: StaffMember, password: str) -> SignInOutcome:
        """The idle lock (or the hall's request for a new sign-in): the same staff member's
        password. When sync waits for a sign-in the hall checks it and the sync resumes; else
        the cached hash does (no network). Raises :class:`SignInError`."""
        background = self.background
        if background is not None and (background.needs_sign_in or background.service.client.token is None):
            outcome = await self.sign_in(member.staff_no, password)
            self._last_sign_in = None
            background.resumed(outcome, password)
            return outcome
        worker = self.run_worker(
            partial(self._offline_sign_in, member.staff_no, password),
            thread=True,
            group="sign-in-offline",
            exit_on_error=False,
        )
        result = await worker.wait()
        if isinstance(result, Exception):
            raise result
        return result

    def sign_out(self) -> None:
        """Back to the sign-in screen with nothing of the last staff member left on screen."""
        self.member = None
        self._services = None
        if self.background is not None:
            self.background.end_session()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        login = LoginScreen()
        self.push_screen(login, self._signed_in)
        if self.is_started:
            login.show_station(self.base.station.name)

    def lock(self, reauth: bool = False) -> None:
        """Cover the screen until the same staff member signs in again (``reauth``: because
        the hall asked for a new sign-in, which the password then gives it)."""
        if self.member is None or self.locked:
            return
        self.locked = True
        reauth = reauth or (self.background is not None and self.background.needs_sign_in)

        def unlocked(ok: bool | None) -> None:
            self.locked = False
            self.last_activity = time.monotonic()
            if not ok:
                self.sign_out()

        self.push_screen(LockScreen(self.member, reauth=reauth), unlocked)

    def _check_idle(self) -> None:
        if self.idle_seconds > 0 and time.monotonic() - self.last_activity > self.idle_seconds:
            self.lock()

    async def on_event(self, event: events.Event) -> None:
        """Any key or click counts as activity for the idle lock; keys are handed out in turn
        (:meth:`_hand_out_keys`)."""
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = time.monotonic()
        if isinstance(event, events.Key) and not event.is_forwarded:
            if id(event) in self._released:
                self._released.discard(id(event))
            else:
                self._typed.append(event)
                if self._typing is None or self._typing.done():
                    self._typing = asyncio.create_task(self._hand_out_keys())
                return
        await super().on_event(event)

    async def _hand_out_keys(self) -> None:
        """Hand typed keys to the screen one at a time, each once what the last one set off is
        done.

        Textual gives a key to the widget focused when the key is read, while what an earlier
        key does (a field's Enter handled by its screen, a Tab or a ``focus()``) happens a few
        message hops later. Keys that arrive together would all land in the first field:
        typed while the counter opens, by a card reader or by a quick typist, "C001<Tab>
        demo-1234" became the staff number "C001demo-1234", and an item chosen with Enter
        followed by the applicant's ID put the ID into the search box. Keys typed at human
        speed pass straight through: the wait is over before the next key arrives.
        """
        while self._typed:
            key = self._typed.pop(0)
            self._released.add(id(key))
            if not self.post_message(key):
                self._released.discard(id(key))
                return
            await self._settle()

    async def _settle(self) -> None:
        """Wait until the App has handed on the last key, the focused widget and its ancestors
        have handled what it set off (a Submitted bubbling to the screen), and the App has run
        the callbacks those posted (``focus()``); twice, for a screen that opens on the way."""
        for _ in range(2):
            await self._drained(self)
            focused = self.screen.focused
            chain = list(focused.ancestors_with_self) if focused is not None else [self.screen]
            for node in chain:
                if node is not self:
                    await self._drained(node)
            await self._drained(self)

    @staticmethod
    async def _drained(pump: MessagePump) -> None:
        """Wait until ``pump`` has handled the messages posted to it so far (not if it closed)."""
        done = asyncio.Event()
        if pump.call_later(done.set):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), KEY_SETTLE_TIMEOUT_SECONDS)

    # ------------------------------------------------------------ sync

    def action_sync_now(self) -> None:
        """Ctrl+Y: sync now (in the background; the status bar shows how it goes)."""
        if self.background is None:
            if self.sync_problem:
                self.notify(self.sync_problem, severity="warning")
            return
        if self.member is None:
            return
        self._manual_sync = True
        self.background.sync_now()

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        """Keep the status bars current; say once when the hall wants a new sign-in."""
        previous = self.sync_status
        self.sync_status = message.status
        if message.status.auth_required and not (previous and previous.auth_required) and self.member:
            self.notify(TEXT["auth_paused"], severity="warning", timeout=10)
        self.refresh_status_bars()

    def refresh_status_bars(self) -> None:
        """Redraw the status line of every open screen."""
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.refresh_status()

    def on_sync_finished(self, message: SyncFinished) -> None:
        """Show what the sync brought: screens reload, refusals are announced."""
        report = message.report
        if report.catalog_changed or report.calendar_changed:
            self.base.refresh()  # the staff member's runtime refreshed itself in the thread
        if report.pulled or report.refused or report.pushed:
            for screen in self.screen_stack:
                screen.post_message(SyncDataChanged())
        if report.refused:
            self.notify(TEXT["refused"].format(count=report.refused), severity="warning", timeout=10)
        if self._manual_sync and self.member is not None:
            self._manual_sync = False
            if report.error is None:
                self.notify(TEXT["synced"].format(**report.as_contract()))
            else:
                reason = self.sync_status.last_error if self.sync_status else None
                self.notify(
                    TEXT["sync_failed"].format(reason=reason or report.error.message), severity="warning"
                )
        self.refresh_status_bars()

    def on_sync_crashed(self, message: SyncCrashed) -> None:
        """Logged for the maintainers; staff see a short note (the thread goes on)."""
        log = self._log_error(message.error)
        self.notify(TEXT["sync_crashed"].format(error=message.error, log=log), severity="error", timeout=10)

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
        """Stop the sync thread; release the store (shared by both runtimes) and the rest."""
        gc.unfreeze()
        if self.background is not None:
            self.background.stop()
            self.background.wait_stopped(UNMOUNT_SYNC_WAIT_SECONDS)
        if self._services is not None:
            self._services.close()
        if self._base is not None:
            self._base.close()
