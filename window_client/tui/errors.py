"""The one place unexpected failures end up: logged with their traceback for the maintainers,
shown to staff as a Chinese dialog, never as a traceback on the counter."""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.worker import Worker, WorkerState

from models.problems import DomainError
from screens.dialogs import ErrorDialog

if TYPE_CHECKING:
    from textual.app import App

    from window_client.services.runtime import Runtime

    _AppBase = App[None]
else:
    _AppBase = object

TEXT: dict[str, Any] = {
    "unexpected": "操作未完成：{error}\n（详细信息已记录在 {log}）",
}
# The worker group that opens the station: its failure ends the program (after a dialog).
STARTUP_GROUP = "startup"


def error_log_path(runtime: Runtime | None) -> Path:
    """Where tracebacks go: ``errors.log`` in the station's data directory."""
    if runtime is not None:
        return runtime.settings.home / "errors.log"
    from window_client.services.settings import Settings

    try:
        return Settings.from_env().home / "errors.log"
    except ValueError:  # the configuration itself is what failed
        return Path.home() / ".window-client" / "errors.log"


def write_error_log(log: Path, error: BaseException) -> Path:
    """Append ``error``'s traceback to ``log`` (a full disk loses the entry, not the dialog)."""
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now().isoformat()}\n")
            fh.write("".join(traceback.format_exception(error)))
    except OSError:
        pass
    return log


class ErrorReporting(_AppBase):
    """App mixin: worker failures and exceptions in handlers become error dialogs."""

    _base: Runtime | None

    if TYPE_CHECKING:  # the App's own (session and start-up)

        def _start_failed(self, error: BaseException) -> None: ...

        def sign_out(self) -> None: ...

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed background task becomes an error dialog (workers run with
        ``exit_on_error=False``), and is logged like any other unexpected failure."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            if event.worker.group == STARTUP_GROUP:
                self._start_failed(event.worker.error)
            else:
                self.report_error(event.worker.error)

    def _log_error(self, error: BaseException) -> Path:
        return write_error_log(error_log_path(self._base), error)

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
