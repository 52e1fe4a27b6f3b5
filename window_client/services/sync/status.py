"""What a sync run tells staff: the status snapshot, the report of one run, the error text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from models.problems import Problem
from window_client.hall_client import AuthRequired, HallError, ServerError, Unreachable
from window_client.services.sync.anchors import AuditAlarm

Clock = Callable[[], dt.datetime]
# The actor of the audit events a sync writes (adopted states, refusals, cursors).
SYNC_ACTOR = "sync"


def utc_now() -> dt.datetime:
    """The default clock."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows; a snapshot, replaced as a whole on every change.

    Attributes:
        online: the last attempt reached the server (None before the first attempt).
        pending: outbox operations not yet pushed.
        refused: refused operations nobody has reviewed yet.
        last_sync_at: the end of the last complete push and pull.
        auth_required: the server wants a new sign-in; sync waits for it.
        last_error: what went wrong last, in Chinese (None after a good sync).
        next_retry_at: when the next automatic attempt is due (backoff), or None.
        running: a sync is under way.
        audit_alarm: the hall rejected this station's audit head (Chinese), until it accepts one.
    """

    online: bool | None = None
    pending: int = 0
    refused: int = 0
    last_sync_at: dt.datetime | None = None
    auth_required: bool = False
    last_error: str | None = None
    next_retry_at: dt.datetime | None = None
    running: bool = False
    audit_alarm: str | None = None


@dataclass
class SyncReport:
    """What one run did. ``as_contract()`` is the ``window-client sync --json`` output.

    Attributes:
        pushed: operations the server applied.
        duplicates: operations it already had (a repeated push after a lost answer).
        refused: operations it refused (kept locally as conflicts).
        pulled: changes applied from the feed.
        pending: operations still waiting after the run.
        completed: the push and the pull both ran to the end.
        error: why the run stopped early, if it did.
        catalog_changed: a new catalogue was cached.
        calendar_changed: a holiday arrangement was saved.
        audit_alarm: the hall rejected this station's audit head (not part of the JSON contract).
    """

    pushed: int = 0
    duplicates: int = 0
    refused: int = 0
    pulled: int = 0
    pending: int = 0
    completed: bool = False
    error: HallError | None = None
    catalog_changed: bool = False
    calendar_changed: bool = False
    audit_alarm: AuditAlarm | None = None

    def as_contract(self) -> dict[str, int]:
        """``{"pushed", "duplicates", "refused", "pulled", "pending"}`` (DESIGN.md §6)."""
        return {
            "pushed": self.pushed,
            "duplicates": self.duplicates,
            "refused": self.refused,
            "pulled": self.pulled,
            "pending": self.pending,
        }


def describe_error(error: HallError, retry_in: float | None) -> Problem:
    """The problem to show for a failed run (Chinese on screen, English in the CLI)."""
    seconds = max(0, round(retry_in or 0))
    if isinstance(error, Unreachable):
        return Problem("sync.unreachable", {"seconds": seconds})
    if isinstance(error, AuthRequired):
        return Problem("sync.auth_required", {"code": error.code})
    if isinstance(error, ServerError):
        return Problem(
            "sync.server_error", {"code": error.code, "message": error.message, "seconds": seconds}
        )
    return Problem("sync.protocol", {"message": error.message, "seconds": seconds})
