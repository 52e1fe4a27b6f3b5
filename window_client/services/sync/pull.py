"""Pull: the hall's change feed after the stored cursor, a page at a time, each page applied
and its cursor stored in one transaction (a crash re-applies nothing twice)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from models.sync import Change, ChangeKind
from offline_cache import Store, sync_repo
from window_client.hall_client import HallClient
from window_client.services.sync.appliers import ChangeAppliers, inline_arrangement
from window_client.services.sync.status import SYNC_ACTOR, SyncReport

DEFAULT_PULL_LIMIT = 1000


class Puller:
    """Pulls the change feed into one station's store.

    Args:
        store: the station's store.
        client: the hall client.
        limit: changes per page.
        appliers: what applies each change.
        progress: called after every page (the hall answered).
    """

    def __init__(
        self,
        store: Store,
        client: HallClient,
        limit: int,
        appliers: ChangeAppliers,
        progress: Callable[[], None],
    ) -> None:
        self.store = store
        self.client = client
        self.limit = limit
        self.appliers = appliers
        self.progress = progress

    def pull(self, report: SyncReport) -> None:
        """Every page after the stored cursor; counts the changes in ``report``."""
        with self.store.reading() as conn:
            after = sync_repo.cursor(conn)
        while True:
            page = self.client.changes(after, self.limit)
            fetched = self.fetch_documents(page.changes)
            with self.store.transaction(SYNC_ACTOR) as unit:
                for change in page.changes:
                    self.appliers.apply(unit, change, fetched, report)
                sync_repo.set_cursor(unit, page.cursor)
            report.pulled += len(page.changes)
            self.progress()
            if not page.more or page.cursor == after:
                return
            after = page.cursor

    def fetch_documents(self, changes: Sequence[Change]) -> dict[str, Any]:
        """Fetch what a page of changes refers to before the write transaction opens (a
        network call must never hold the store's write lock)."""
        fetched: dict[str, Any] = {}
        if any(c.kind is ChangeKind.CATALOG for c in changes):
            fetched["catalog"] = self.client.catalog()
        for change in changes:
            if change.kind is ChangeKind.HOLIDAYS and inline_arrangement(change.payload) is None:
                year = change.payload.get("year", change.key)
                try:
                    fetched[f"holidays:{change.seq}"] = self.client.holidays(int(year))
                except (TypeError, ValueError):
                    continue  # no year to ask for: the change is kept raw by its applier
        return fetched
