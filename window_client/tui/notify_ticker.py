"""The counter's background reminders: ``notify run`` every few minutes, like the sync.

Every ``[notify] interval_seconds`` (default 300; 0: never — then only ``window-client notify
run`` sends) a thread worker of the group ``notify`` queues what the station's rules ask for and
sends what is pending (:class:`window_client.services.notify.NotifyService`). A run already
going elsewhere (the CLI) is skipped; an unusable ``[notify]`` is said once in the status
notice, in Chinese, and nothing is sent until it is fixed; anything unexpected goes to the one
error handler (:mod:`window_client.tui.errors`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from models.notify import NotifyConfigError, RunBusy

if TYPE_CHECKING:
    from textual.app import App

    from window_client.services.runtime import Runtime

NOTIFY_GROUP = "notify"
DEFAULT_INTERVAL_SECONDS = 300.0
TEXT: dict[str, Any] = {
    "config": "短信提醒未发送：{detail}（请管理员检查 config.toml 的 [notify]）",
    "interval": "[notify] interval_seconds 须为不小于 0 的秒数，已按 300 秒执行",
}


def interval_of(raw: Any) -> tuple[float, str | None]:
    """The period of the background run from ``[notify]`` (and a warning when it is unusable)."""
    if raw is None:
        return DEFAULT_INTERVAL_SECONDS, None
    value = raw.get("interval_seconds", DEFAULT_INTERVAL_SECONDS) if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return DEFAULT_INTERVAL_SECONDS, TEXT["interval"]
    return float(value), None


class NotifyTicker:
    """Runs the station's reminders in the background of ``app`` (see the module text)."""

    def __init__(self, app: App[Any], runtime: Runtime, today: Callable[[], dt.date]) -> None:
        self.app = app
        self.runtime = runtime
        self.today = today
        self._said: str | None = None

    def start(self) -> None:
        """Schedule the runs (the first one after one period: the counter opens first)."""
        interval, warning = interval_of(self.runtime.settings.config.get("notify"))
        if warning is not None:
            self.app.notify(warning, severity="warning")
        if interval > 0:
            self.app.set_interval(interval, self.tick, name="notify")

    def tick(self) -> None:
        """One run in a thread worker (skipped while the previous one is still going)."""
        self.app.run_worker(
            self._run, thread=True, group=NOTIFY_GROUP, exclusive=True, exit_on_error=False, name="notify run"
        )

    def _run(self) -> None:
        try:
            self.runtime.notify.run(self.today())
        except RunBusy:
            return  # the CLI is sending right now: the next tick sends what is left
        except NotifyConfigError as exc:
            message = TEXT["config"].format(detail=exc.zh)
            if message != self._said:
                self._said = message
                self.app.call_from_thread(self.app.notify, message, severity="warning", timeout=10)
