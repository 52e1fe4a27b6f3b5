"""What the screens need from the application that hosts them.

Screens type against :class:`Counter` and reach it with :func:`counter`; they never import the
App class (``window_client.app`` imports the screens, an import-linter contract keeps it that
way). ``WindowClientApp`` implements the protocol; a test can host a screen in any App that does.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from window_client.services.runtime import Runtime
    from window_client.services.staff import StaffMember
    from window_client.services.sync import BackgroundSync, SignInOutcome, SyncStatus


class Counter(Protocol):
    """The counter as its screens see it: the services, who is signed in, the working day, the
    sync status, and the session's moves (sign-in, lock, sign-out, sync now)."""

    @property
    def services(self) -> Runtime:
        """Services acting as the signed-in staff member (the station's before sign-in)."""
        ...

    @property
    def member(self) -> StaffMember | None:
        """The signed-in staff member."""
        ...

    @property
    def sync_status(self) -> SyncStatus | None:
        """The last sync status snapshot (None before the station's sync started)."""
        ...

    @property
    def sync_problem(self) -> str | None:
        """Why there is no sync at all (a bad hall URL), in Chinese."""
        ...

    @property
    def background(self) -> BackgroundSync | None:
        """The station's background sync (None without a usable hall URL)."""
        ...

    @property
    def is_started(self) -> bool:
        """Whether the station's store and catalogue are open."""
        ...

    def today(self) -> dt.date:
        """The working day."""
        ...

    async def wait_started(self) -> Runtime | None:
        """The station's runtime once it is open; None when opening it failed."""
        ...

    async def sign_in(self, staff_no: str, password: str) -> SignInOutcome:
        """Check a sign-in (at the hall, else against the cached hash); raises ``SignInError``."""
        ...

    async def unlock(self, member: StaffMember, password: str) -> SignInOutcome:
        """The same staff member's password after the idle lock; raises ``SignInError``."""
        ...

    def lock(self, reauth: bool = False) -> None:
        """Cover the screen until the same staff member signs in again."""
        ...

    def sign_out(self) -> None:
        """Back to the sign-in screen."""
        ...

    def report_error(self, error: BaseException, restart: bool = False) -> None:
        """Log an unexpected failure (a screen's worker) and tell staff in a Chinese dialog."""
        ...

    def refresh_status_bars(self) -> None:
        """Redraw the status line of every open screen."""
        ...

    def action_sync_now(self) -> None:
        """Sync now, in the background."""
        ...


def counter(node: DOMNode) -> Counter:
    """The counter hosting ``node`` (its App)."""
    return cast("Counter", node.app)
