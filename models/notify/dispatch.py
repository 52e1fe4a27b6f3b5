"""One run over the pending notifications, and the lock that keeps runs one at a time."""

from __future__ import annotations

import datetime as dt
import fcntl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.notify.core import Notification, Sender, SendError


class RunBusy(Exception):
    """Another run holds the lock (the counter's background run, or a CLI run)."""


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold ``path``'s exclusive lock for one run; :class:`RunBusy` when another run has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunBusy(str(path)) from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class DispatchReport:
    """What one run sent (key, receipt) and what failed (key, reason: kept for the next run)."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Unreachable(SendError):
    """The sender cannot take anything now (the gateway does not answer, the log cannot be
    opened): the rest of the run is not tried, every remaining notification waits."""


def dispatch(
    pending: Sequence[Notification],
    sender: Sender,
    mark_sent: Callable[[Notification, str], None],
    mark_failed: Callable[[Notification, str], None],
) -> DispatchReport:
    """Deliver ``pending`` in order; each is marked right after its own delivery.

    The mark comes after the delivery, never before: a crash in between leaves the notification
    pending and the sender's idempotency (see :mod:`models.notify.senders`) absorbs the repeat.
    """
    report = DispatchReport()
    if not pending:
        return report
    try:
        entered = sender.__enter__()
    except OSError as exc:
        reason = f"the sender cannot start: {exc.strerror or exc}"
        for notification in pending:
            mark_failed(notification, reason)
            report.failed.append((notification.key, reason))
        return report
    try:
        stopped: str | None = None
        for notification in pending:
            if stopped is not None:
                mark_failed(notification, stopped)
                report.failed.append((notification.key, stopped))
                continue
            try:
                receipt = entered.deliver(notification)
            except SendError as exc:
                mark_failed(notification, str(exc))
                report.failed.append((notification.key, str(exc)))
                if isinstance(exc, Unreachable):
                    stopped = str(exc)
                continue
            mark_sent(notification, receipt)
            report.sent.append((notification.key, receipt))
    finally:
        sender.__exit__(None, None, None)
    return report


@dataclass
class NotifyRun:
    """One ``notify run`` (station or hall): what was queued (or would be), sent and failed
    (failures are kept and retried on the next run)."""

    sender: str
    today: dt.date
    dry_run: bool
    generated: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``notify run --json`` document."""
        return {
            "dry_run": self.dry_run,
            "today": self.today.isoformat(),
            "sender": self.sender,
            "generated": self.generated,
            "sent": self.sent,
            "failed": self.failed,
            "pending": self.pending,
        }
