"""The sync algorithm for one station: push the outbox (:mod:`.push`), then pull the change feed
(:mod:`.pull`, applied by :mod:`.appliers`), so a crash at any point loses nothing and
re-applies nothing twice. Failures end a run early and set the backoff (:mod:`.backoff`); the
status snapshots (:mod:`.status`) go to whoever subscribed (the TUI posts them as messages).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from models.sync import MAX_PULL_LIMIT, MAX_PUSH_BATCH, Change
from offline_cache import Store, UnitOfWork, sync_repo
from window_client.hall_client import AuthRequired, HallClient, HallError, Unreachable
from window_client.services.certificate_keys import StationKeys
from window_client.services.key_vault import KeyVault, StationSecret
from window_client.services.sync.anchors import AnchorKeeper, read_alarm
from window_client.services.sync.appliers import ChangeAppliers
from window_client.services.sync.backoff import Backoff
from window_client.services.sync.pull import DEFAULT_PULL_LIMIT, Puller
from window_client.services.sync.push import Pusher
from window_client.services.sync.status import (
    SYNC_ACTOR,
    Clock,
    SyncReport,
    SyncStatus,
    describe_error,
    utc_now,
)


class SyncEngine:
    """Push and pull for one station's store against one hall server.

    Args:
        store: the station's store.
        client: the hall client (holding the token once staff signed in).
        station: this station's code.
        batch_size: operations per push (at most :data:`MAX_PUSH_BATCH`).
        pull_limit: changes per pull page (at most :data:`MAX_PULL_LIMIT`).
        clock: the time source (tests inject one).
        backoff: the retry schedule after failures.
        catalog_ok: checks a fetched catalogue before it is cached (e.g. that this station is
            still in it); a catalogue it rejects is not cached and the shipped one stays.
    """

    def __init__(
        self,
        store: Store,
        client: HallClient,
        station: str,
        *,
        batch_size: int = MAX_PUSH_BATCH,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        catalog_ok: Callable[[dict[str, Any]], bool] | None = None,
        keys: StationKeys | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_PUSH_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_PUSH_BATCH}")
        if not 1 <= pull_limit <= MAX_PULL_LIMIT:
            raise ValueError(f"pull_limit must be between 1 and {MAX_PULL_LIMIT}")
        self.store = store
        self.client = client
        self.station = station
        self.clock = clock or utc_now
        self.backoff = backoff or Backoff()
        self._run_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._status = SyncStatus()
        vault = KeyVault(StationSecret(store.path.parent))  # the data directory holds the store
        self.anchors = AnchorKeeper(store, station, keys or StationKeys(store, station, vault))
        self.appliers = ChangeAppliers(station, catalog_ok)
        progress = partial(self._update, online=True)
        self.pusher = Pusher(store, client, station, self.anchors, batch_size, progress)
        self.puller = Puller(store, client, pull_limit, self.appliers, progress)
        self.refresh_counts()

    # ------------------------------------------------------------ status

    @property
    def status(self) -> SyncStatus:
        """The current status snapshot."""
        return self._status

    def subscribe(self, listener: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``listener`` with every new status (from the syncing thread); returns an
        unsubscribe function. The TUI posts a message from it rather than touching widgets."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _update(self, **changes: Any) -> None:
        with self._status_lock:
            self._status = replace(self._status, **changes)
            status = self._status
        for listener in list(self._listeners):
            listener(status)

    def refresh_counts(self) -> SyncStatus:
        """Re-read the pending and refused counts and the last sync time from the store."""
        with self.store.reading() as conn:
            pending, refused = sync_repo.count_outbox(conn)
            last = sync_repo.parse_time(sync_repo.get_meta(conn, sync_repo.LAST_SUCCESS_KEY))
            alarm = read_alarm(conn)
        self._update(
            pending=pending, refused=refused, last_sync_at=last, audit_alarm=alarm.zh() if alarm else None
        )
        return self._status

    def due(self, now: dt.datetime | None = None) -> bool:
        """Whether an automatic attempt may run now (not waiting for sign-in or a backoff)."""
        status = self._status
        if status.auth_required:
            return False
        return status.next_retry_at is None or (now or self.clock()) >= status.next_retry_at

    def signed_in(self) -> None:
        """Staff signed in again: the paused sync may resume where it stopped."""
        self._update(auth_required=False, next_retry_at=None, last_error=None)

    def run_forever(self, stop: threading.Event, interval: float = 60.0) -> None:
        """Sync every ``interval`` seconds until ``stop`` is set, honouring the backoff and
        waiting while a sign-in is needed (for a background worker)."""
        next_regular = self.clock()
        while not stop.is_set():
            now = self.clock()
            if self.due(now) and (self._status.next_retry_at is not None or now >= next_regular):
                self.run_once()
                next_regular = self.clock() + dt.timedelta(seconds=interval)
            stop.wait(1.0)

    # ------------------------------------------------------------ one run

    def run_once(self) -> SyncReport:
        """Push everything pending, then pull everything new. Failures end the run early
        (recorded in the status and the report), never with lost or wrongly marked data."""
        report = SyncReport()
        with self._run_lock:
            self._update(running=True)
            try:
                self.pusher.push(report)
                self.puller.pull(report)
            except HallError as exc:
                report.error = exc
                self._failed(exc)
            else:
                report.completed = True
                now = self.clock()
                with self.store.transaction(SYNC_ACTOR) as unit:
                    sync_repo.set_meta(unit, sync_repo.LAST_SUCCESS_KEY, now.isoformat())
                self.backoff.success()
                self._update(online=True, last_error=None, next_retry_at=None, auth_required=False)
            finally:
                status = self.refresh_counts()
                report.pending = status.pending
                with self.store.reading() as conn:
                    report.audit_alarm = read_alarm(conn)
                self._update(running=False)
        return report

    def _failed(self, error: HallError) -> None:
        if isinstance(error, AuthRequired):
            # No retry until staff sign in: repeating a refused token only fills the logs.
            self._update(
                online=True,
                auth_required=True,
                next_retry_at=None,
                last_error=describe_error(error, None).zh(),
            )
            return
        delay = self.backoff.failure()
        self._update(
            online=not isinstance(error, Unreachable),
            next_retry_at=self.clock() + dt.timedelta(seconds=delay),
            last_error=describe_error(error, delay).zh(),
        )

    def apply(self, unit: UnitOfWork, change: Change, fetched: dict[str, Any], report: SyncReport) -> None:
        """Apply one pulled change inside ``unit`` (see :class:`ChangeAppliers`)."""
        self.appliers.apply(unit, change, fetched, report)
