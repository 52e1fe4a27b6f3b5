"""Signing in and out at the counter, and the idle lock.

Sign-in never blocks a frame: it asks the hall in a worker thread (a good answer refreshes the
cached hash and gives sync its token) and falls back to the cached hash when the hall does not
answer in time. Services then act as the signed-in staff member.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import WorkerFailed

from screens.login import LockScreen, LoginScreen

if TYPE_CHECKING:
    from textual.app import App

    from window_client.services.runtime import Runtime
    from window_client.services.staff import StaffMember
    from window_client.services.sync import BackgroundSync, SignInOutcome

    _AppBase = App[None]
else:
    _AppBase = object

TEXT: dict[str, Any] = {
    "offline_sign_in": "离线登录：暂时无法连接大厅，已按上次联网登录的密码验证；联网后自动同步",
}
# The sign-in waits this long for the hall (its connect timeout is 5 s) before checking the
# cached hash instead; a late answer from the hall is still used for the session's token.
SIGN_IN_WAIT_SECONDS = 6.0


class Session(_AppBase):
    """App mixin: who is signed in, sign-in and sign-out, the idle lock."""

    member: StaffMember | None
    background: BackgroundSync | None
    locked: bool
    last_activity: float
    idle_seconds: float
    _services: Runtime | None
    _last_sign_in: tuple[SignInOutcome, str] | None

    if TYPE_CHECKING:  # the App's own (start-up)

        @property
        def base(self) -> Runtime: ...

        @property
        def is_started(self) -> bool: ...

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
        from window_client.services.staff import SignInError
        from window_client.services.sync.background import SignInOutcome

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
