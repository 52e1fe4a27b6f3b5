"""The station's sync thread as the App sees it: one thread worker (group ``sync``) runs
:class:`~window_client.services.sync.background.BackgroundSync` for the whole session; its
status snapshots and reports come back as :class:`SyncStatusChanged` and :class:`SyncFinished`
messages, so no frame waits on the network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from screens.status import StatusBar, SyncDataChanged

if TYPE_CHECKING:
    from textual.app import App

    from window_client.services.runtime import Runtime
    from window_client.services.staff import StaffMember
    from window_client.services.sync import BackgroundSync, SyncReport, SyncStatus

    _AppBase = App[None]
else:
    _AppBase = object

TEXT: dict[str, Any] = {
    "sync_now": "同步",
    "auth_paused": "大厅要求重新登录，同步已暂停：按 Ctrl+L 锁屏后输入密码，或在同步页（F8）按 F6",
    "refused": "大厅退回了 {count} 项操作（已保留），请在同步页（F8）查看原因和处理办法",
    "synced": "同步完成：上传 {pushed} 项，下载 {pulled} 项，待同步 {pending} 项",
    "sync_failed": "同步未完成：{reason}",
    "sync_crashed": "后台同步出错：{error}（详细信息已记录在 {log}），稍后自动重试",
    "bad_server": (
        "大厅地址无效（{detail}），只能离线工作；请检查 WINDOW_CLIENT_SERVER 或 config.toml 的 server"
    ),
}
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


def background_sync(runtime: Runtime) -> BackgroundSync | None:
    """The station's background sync at the configured interval; None when the hall's URL is
    unusable. Builds the HTTP client: call it off the UI thread."""
    from window_client.hall_client import BadServerURL
    from window_client.services.sync.background import DEFAULT_INTERVAL, BackgroundSync

    try:
        service = runtime.sync
    except BadServerURL:
        return None
    raw = runtime.settings.config.get("sync", {})
    interval = raw.get("interval_seconds", DEFAULT_INTERVAL) if isinstance(raw, dict) else DEFAULT_INTERVAL
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        interval = DEFAULT_INTERVAL
    return BackgroundSync(service, float(interval))


class SyncEvents(_AppBase):
    """App mixin: starts the sync thread and turns its messages into what staff see."""

    background: BackgroundSync | None
    sync_status: SyncStatus | None
    sync_problem: str | None
    member: StaffMember | None
    demo: bool
    _manual_sync: bool

    if TYPE_CHECKING:  # the App's own (start-up and errors)

        @property
        def base(self) -> Runtime: ...

        def _log_error(self, error: BaseException) -> Path: ...

    def _start_sync(self, runtime: Runtime, background: BackgroundSync | None) -> None:
        if background is None:
            from window_client.hall_client import BadServerURL, check_server_url

            try:
                check_server_url(runtime.settings.server)
            except BadServerURL as exc:
                self.sync_problem = TEXT["bad_server"].format(detail=exc.zh())
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
