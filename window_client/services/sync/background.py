"""Sync for the counter: one background thread that keeps the station in step with the hall.

:class:`BackgroundSync` wraps a :class:`~window_client.services.sync.service.SyncService` for a program
that stays up all day (the TUI). It decides *when* to sync — at once after a sign-in, then every
``interval`` seconds, sooner when staff ask, later while the engine backs off, never while the
hall wants a new sign-in — and it covers what the engine cannot see: a staff member who signed
in offline has no token yet, so the thread signs them in online as soon as the hall answers.

The password of an offline sign-in is kept in memory only until that first online sign-in
succeeds (or the hall refuses it); a token that expires later pauses the sync until staff sign
in again (DESIGN.md §4, "Tokens that expire mid-sync pause the sync until staff sign in").

It never imports Textual: the App runs :meth:`BackgroundSync.run` in a thread worker and turns
the status snapshots of :meth:`subscribe` into messages.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from models.problems import Problem
from offline_cache import sync_repo
from window_client.hall_client import AuthRequired, HallError, Unreachable
from window_client.services.staff import SignInError, StaffMember
from window_client.services.sync.backoff import Backoff
from window_client.services.sync.service import SyncService
from window_client.services.sync.status import SyncReport, SyncStatus, describe_error

DEFAULT_INTERVAL = 60.0
# A case accepted (or changed) at the counter goes to the hall this soon, not at the next
# regular sync: the back office sees it while the applicant is still at the window.
PUSH_SOON_SECONDS = 3.0
# How often the thread looks at the clock when nothing wakes it: backoff deadlines are seconds
# apart, and "sync now" and stopping wake it at once.
TICK_SECONDS = 1.0
# A demo hall that is still starting is asked this often, for at most BOOTSTRAP_WAIT seconds.
BOOTSTRAP_POLL_SECONDS = 0.5
BOOTSTRAP_WAIT_SECONDS = 90.0

Clock = Callable[[], dt.datetime]
Listener = Callable[[SyncStatus], object]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """A sign-in at the counter: who, and whether the hall itself checked the password."""

    member: StaffMember
    online: bool


class BackgroundSync:
    """When to sync, for one station's counter; see the module docstring.

    Args:
        service: the station's sync service (its client holds the token).
        interval: seconds between regular syncs.
        clock: the time source.
        backoff: the retry schedule of online sign-in attempts after an offline sign-in (the
            engine keeps its own for push and pull).
    """

    def __init__(
        self,
        service: SyncService,
        interval: float = DEFAULT_INTERVAL,
        *,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the sync interval must be positive")
        self.service = service
        self.interval = interval
        self.clock = clock or _utc_now
        self.backoff = backoff or Backoff()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._started = False
        self._finished = threading.Event()
        # Serialises sign-ins and the demo's first sync: a token set by one must not be used or
        # dropped by the other half-way.
        self._session_lock = threading.RLock()
        self._run: Callable[[], SyncReport] | None = None
        # Bumped at every sign-in and sign-out: a sign-in at the hall that finishes after its
        # session ended must not leave its token for the next staff member.
        self._generation = 0
        self._credentials: tuple[str, str] | None = None
        self._overrides: dict[str, Any] = {}
        self._online_hint: bool | None = None
        self._listeners: list[Listener] = []
        self._bootstrap: tuple[tuple[str, str], Callable[[], SyncReport]] | None = None
        self._retry_at: dt.datetime | None = None  # the next online sign-in attempt
        self._last_run = self.clock()
        self._unsubscribe = service.engine.subscribe(lambda _status: self._emit())

    # ------------------------------------------------------------ status

    @property
    def status(self) -> SyncStatus:
        """What staff should see: the engine's status, corrected while there is no token."""
        status = self.service.engine.status
        if status.online is None and self._online_hint is not None:
            status = replace(status, online=self._online_hint)
        if self._overrides:
            status = replace(status, **self._overrides)
        return status

    @property
    def active(self) -> bool:
        """Whether a staff member's session is syncing."""
        return self._run is not None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every new status (from whichever thread changed it)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self) -> None:
        status = self.status
        for listener in list(self._listeners):
            listener(status)

    def _set_overrides(self, **overrides: Any) -> None:
        self._overrides = overrides
        self._emit()

    # ------------------------------------------------------------ sign-in and sessions

    def sign_in(
        self, staff_no: str, password: str, offline: Callable[[str, str], StaffMember]
    ) -> SignInOutcome:
        """Online sign-in when the hall answers (refreshing the cached hash), else ``offline``.

        Blocks on the network: call it from a worker thread. Raises :class:`SignInError`.
        """
        # The previous staff member's token was dropped at sign-out (:meth:`end_session`); the
        # same member unlocking keeps theirs until the hall hands out a new one.
        with self._session_lock:
            member, online = self.service.sign_in(staff_no, password, offline)
        self._online_hint = online
        return SignInOutcome(member, online)

    def start_session(self, run: Callable[[], SyncReport], outcome: SignInOutcome, password: str) -> None:
        """Sync for a signed-in staff member with ``run`` (their runtime's ``sync_once``); after
        an offline sign-in the password is kept to sign in online once the hall answers."""
        self._generation += 1
        self._run = run
        self._credentials = None if outcome.online else (outcome.member.staff_no, password)
        self._bootstrap = None  # a staff member's own sync pushes whatever the demo had queued
        self.backoff.success()
        self._set_overrides()
        self.sync_now()

    def resumed(self, outcome: SignInOutcome, password: str) -> None:
        """The same staff member signed in again (the idle lock, or the hall asked for it)."""
        if self._run is None:
            return
        if outcome.online:
            self._credentials = None
            self._set_overrides()
        elif self.service.client.token is None:
            self._credentials = (outcome.member.staff_no, password)
        self.sync_now()

    def end_session(self) -> None:
        """Sign-out: no more syncing, and nothing of the staff member's sign-in is kept.

        Called on the UI thread, so it takes no lock (a sign-in at a slow hall may hold it):
        a sign-in still under way sees the new generation and drops its token itself.
        """
        self._generation += 1
        self._run = None
        self._credentials = None
        self.service.client.token = None
        self._set_overrides()

    @property
    def needs_sign_in(self) -> bool:
        """The hall wants a new sign-in before sync can go on."""
        return self.status.auth_required

    def bootstrap(self, staff_no: str, password: str, run: Callable[[], SyncReport]) -> None:
        """Demo: sync once as ``staff_no`` as soon as the (starting) demo hall answers, so the
        hall has the sample cases before anyone signs in; skipped once somebody signs in."""
        self._bootstrap = ((staff_no, password), run)
        self._wake.set()

    # ------------------------------------------------------------ the thread

    def sync_now(self) -> None:
        """Run a sync as soon as possible (ignores the regular interval and the backoff wait)."""
        self._retry_at = None
        self._wake.set()

    def stop(self) -> None:
        """End :meth:`run` (it returns once a sync under way has finished)."""
        self._stop.set()
        self._wake.set()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def wait_stopped(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for :meth:`run` to return; True when it has (or never
        started)."""
        return not self._started or self._finished.wait(timeout)

    def run(
        self,
        on_report: Callable[[SyncReport], object],
        on_error: Callable[[BaseException], object],
    ) -> None:
        """The worker's body: sync until :meth:`stop`. ``on_report`` gets every finished run;
        ``on_error`` an unexpected failure, after which the thread carries on (with backoff)."""
        self._started = True
        next_regular = self.clock()
        try:
            while not self._stop.is_set():
                woken = self._wake.is_set()
                self._wake.clear()
                try:
                    if self._bootstrap is not None and self._run is None:
                        self._run_bootstrap(on_report)
                    elif self._run is not None and (woken or self._due(next_regular)):
                        report = self._attempt()
                        next_regular = self.clock() + dt.timedelta(seconds=self.interval)
                        if report is not None:
                            on_report(report)
                except Exception as exc:  # a bug or a broken store: reported, retried later
                    delay = self.backoff.failure()
                    self._retry_at = self.clock() + dt.timedelta(seconds=delay)
                    next_regular = self._retry_at
                    on_error(exc)
                self._wake.wait(TICK_SECONDS)
        finally:
            self._unsubscribe()
            self._finished.set()

    def _due(self, next_regular: dt.datetime) -> bool:
        now = self.clock()
        if self.service.client.token is None:
            if self._credentials is None:
                return False  # wait for staff to sign in
            return self._retry_at is None or now >= self._retry_at
        status = self.service.engine.status
        if status.auth_required:
            return False
        if status.next_retry_at is not None:
            return now >= status.next_retry_at
        if now >= next_regular:
            return True
        soon = now >= self._last_run + dt.timedelta(seconds=PUSH_SOON_SECONDS)
        return soon and self._queued_since_last_run(status.pending)

    def _queued_since_last_run(self, after_last_run: int) -> bool:
        """Whether operations were queued since the last run (an index range count); ones that
        were already waiting then (e.g. of a kind this client cannot send) do not count."""
        with self.service.store.reading() as conn:
            return sync_repo.count_outbox(conn)[0] > after_last_run

    def _attempt(self) -> SyncReport | None:
        run, generation = self._run, self._generation
        if run is None:
            return None
        with self._session_lock:
            if self.service.client.token is None and not self._sign_in_again():
                return None
            if generation != self._generation:
                self.service.client.token = None  # signed out meanwhile: not theirs to keep
                return None
            token = self.service.client.token
        try:
            report = run()
        finally:
            self._last_run = self.clock()
        if isinstance(report.error, AuthRequired) and self.service.client.token != token:
            # Staff signed in again while this run was still using the old token: the pause
            # the engine just recorded is already over.
            self.service.engine.signed_in()
            self._wake.set()
        return report

    def _sign_in_again(self) -> bool:
        """After an offline sign-in: try the kept password at the hall. True once signed in."""
        credentials = self._credentials
        if credentials is None:
            self._set_overrides(
                auth_required=True,
                last_error=Problem("sync.auth_required", {"code": "auth.missing"}).zh(),
                next_retry_at=None,
            )
            return False
        try:
            self.service.sign_in_online(*credentials)
        except SignInError as exc:
            # The hall no longer takes this password (changed, account closed): staff decide.
            self._credentials = None
            self._set_overrides(
                online=True,
                auth_required=True,
                next_retry_at=None,
                last_error=Problem("sync.sign_in_refused", {"reason": exc.message}).zh(),
            )
            return False
        except HallError as exc:
            delay = self.backoff.failure()
            self._retry_at = self.clock() + dt.timedelta(seconds=delay)
            self._online_hint = not isinstance(exc, Unreachable)
            self._set_overrides(
                online=self._online_hint,
                next_retry_at=self._retry_at,
                last_error=describe_error(exc, delay).zh(),
            )
            return False
        self._credentials = None
        self._retry_at = None
        self._online_hint = True
        self.backoff.success()
        self._set_overrides()
        return True

    def _run_bootstrap(self, on_report: Callable[[SyncReport], object]) -> None:
        assert self._bootstrap is not None
        (staff_no, password), run = self._bootstrap
        deadline = self.clock() + dt.timedelta(seconds=BOOTSTRAP_WAIT_SECONDS)
        while self._run is None and not self._stop.is_set():
            try:
                self.service.client.health()
                break
            except HallError:
                if self.clock() >= deadline:
                    self._bootstrap = None  # the demo hall did not come up: staff see 离线
                    return
                self._stop.wait(BOOTSTRAP_POLL_SECONDS)
        with self._session_lock:
            if self._run is not None or self._stop.is_set() or self._bootstrap is None:
                return  # somebody signed in meanwhile: their session syncs
            self._bootstrap = None
            try:
                self.service.sign_in_online(staff_no, password)
            except (SignInError, HallError):
                return
            try:
                report = run()
            finally:
                self.service.client.token = None
        on_report(report)
