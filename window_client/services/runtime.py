"""Composition of the services for one station: the CLI and the TUI build them here."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from models.catalog import Catalog, Station, catalog_from_dict
from models.enums import Channel
from models.problems import DomainError, Problem, ProblemValueError
from offline_cache import Store, sync_repo
from offline_cache import repositories as repo
from window_client.hall_client import HallError
from window_client.services.acceptance import AcceptanceService
from window_client.services.assistance import AssistanceService
from window_client.services.cases import CaseService
from window_client.services.catalog import CatalogSearch, load_shipped_catalog
from window_client.services.certificate_keys import StationKeys
from window_client.services.certificates import CertificateService, PublishReport
from window_client.services.key_vault import KeyVault, StationSecret, seal_plaintext_keys
from window_client.services.notify import NotifyService
from window_client.services.queue import QueueService
from window_client.services.ratings import RatingService
from window_client.services.settings import Settings
from window_client.services.staff import StaffService
from window_client.services.sync import SyncReport, SyncService
from window_client.services.workdays import (
    ArrangementError,
    WorkdayCalendar,
    YearArrangement,
    parse_arrangement,
    shipped_arrangements,
)


class UnknownStationError(ProblemValueError):
    """WINDOW_CLIENT_STATION names a station the catalogue does not have."""


@dataclass
class Runtime:
    """Lazily built services of one station and one staff member."""

    settings: Settings
    actor: str = "system"
    _store: Store | None = field(default=None, repr=False)
    # The counter's runtimes (the station's and the signed-in staff member's) share one sync
    # service: one token, one engine status, one background thread.
    _shared_sync: SyncService | None = field(default=None, repr=False)
    last_publish: PublishReport | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        """The station's local store (opened and migrated on first use)."""
        if self._store is None:
            store = Store(self.settings.db_path)
            try:
                # A store from before keys were sealed: seal them now, before anything signs.
                seal_plaintext_keys(store, self.key_vault)
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    @cached_property
    def key_vault(self) -> KeyVault:
        """Seals this station's signing keys with the station secret (kept out of the store)."""
        return KeyVault(StationSecret(self.settings.home))

    @cached_property
    def catalog(self) -> Catalog:
        """The catalogue in force: the hall's, as last pulled, else the shipped one."""
        with self.store.reading() as conn:
            cached = sync_repo.load_document(conn, sync_repo.CATALOG_DOCUMENT)
        if cached is not None:
            try:
                catalog = catalog_from_dict(json.loads(cached[1]))
            except (KeyError, TypeError, ValueError):
                catalog = None  # unreadable: the shipped catalogue keeps the counter working
            if catalog is not None and (
                not self.settings.station or self.settings.station in catalog.stations
            ):
                return catalog
        return load_shipped_catalog()

    @cached_property
    def station(self) -> Station:
        """This station's profile."""
        code = self.settings.station
        if not code:
            return self.catalog.default_station()
        station = self.catalog.stations.get(code)
        if station is None:
            known = ", ".join(self.catalog.stations)
            raise UnknownStationError("settings.station", code=code, known=known)
        return station

    @cached_property
    def calendar(self) -> WorkdayCalendar:
        """Shipped arrangements, overridden by those the hall imported into the store."""
        arrangements = {a.year: a for a in shipped_arrangements()}
        with self.store.reading() as conn:
            for year, (source, days) in repo.load_arrangements(conn).items():
                arrangements[year] = YearArrangement(
                    year,
                    source,
                    {d: n for d, k, n in days if k == "holiday"},
                    {d: n for d, k, n in days if k == "workday"},
                )
        return WorkdayCalendar(arrangements)

    @cached_property
    def search(self) -> CatalogSearch:
        """Search over what this station may accept."""
        return CatalogSearch(self.catalog.acceptable_at(self.station), self.catalog.keywords_of)

    @cached_property
    def acceptance(self) -> AcceptanceService:
        """Acceptance at this station by :attr:`actor`."""
        return AcceptanceService(
            self.store,
            self.catalog,
            self.calendar,
            self.station,
            self.actor,
            self.settings.window,
            self.settings.policy,
            max_unsynced_days=self.settings.max_unsynced_days,
        )

    @property
    def channel(self) -> Channel:
        """窗口 at a hall, 驿站 at a park station."""
        return Channel.WINDOW if self.station.kind == "hall" else Channel.STATION

    @cached_property
    def staff(self) -> StaffService:
        """Staff accounts cached on this station."""
        return StaffService(self.store)

    @cached_property
    def assistance(self) -> AssistanceService:
        """Identity checks of cases and the enterprises' 办事专员 at this station."""
        return AssistanceService(self.store, self.station.code)

    @cached_property
    def cases(self) -> CaseService:
        """Case queries and transitions by :attr:`actor`."""
        return CaseService(self.store, self.calendar, self.actor, self.settings.policy.warning_workdays)

    @cached_property
    def certificates(self) -> CertificateService:
        """统一出证 at this station by :attr:`actor` (issue, print, hand over, revoke, verify)."""
        return CertificateService(
            self.store, self.catalog, self.station, self.cases, self.actor, self.key_vault
        )

    @cached_property
    def ratings(self) -> RatingService:
        """好差评 at this station, recorded by :attr:`actor`."""
        return RatingService(self.store, self.station.code, self.actor)

    @cached_property
    def queue(self) -> QueueService:
        """排队叫号 at this station by :attr:`actor` (tickets, calls, the board)."""
        return QueueService(self.store, self.station.code, self.actor, self.catalog)

    @cached_property
    def notify(self) -> NotifyService:
        """Reminders of this station's rules and the hall's timeliness of its cases."""
        raw = self.settings.config.get("notify")
        return NotifyService(self.store, self.station, self.calendar, self.settings.home, raw, self.actor)

    def import_arrangement(self, path: Path) -> YearArrangement:
        """Import a year's official holiday arrangement (JSON) into the store."""
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArrangementError("arrangement.unreadable", path=path, detail=exc) from exc
        if not isinstance(data, dict):
            raise ArrangementError("arrangement.object")
        arrangement = parse_arrangement(data)
        days = [(d, "holiday", n) for d, n in arrangement.holidays.items()]
        days += [(d, "workday", n) for d, n in arrangement.workdays.items()]
        with self.store.transaction(self.actor) as unit:
            repo.save_arrangement(unit, arrangement.year, arrangement.source, days)
            unit.audit(
                "calendar.import",
                str(arrangement.year),
                {"source": arrangement.source, "days": len(days)},
            )
        self.__dict__.pop("calendar", None)
        return arrangement

    def pending_operations(self) -> int:
        """Outbox operations not yet pushed to the hall server (refused ones are counted by
        :meth:`refused_operations`: they are kept, but never sent again)."""
        with self.store.reading() as conn:
            return sync_repo.count_outbox(conn)[0]

    def refused_operations(self) -> int:
        """Operations the hall refused that nobody has reviewed yet."""
        with self.store.reading() as conn:
            return sync_repo.count_outbox(conn)[1]

    @cached_property
    def sync(self) -> SyncService:
        """Sync with the hall server at ``settings.server`` (the client connects lazily)."""
        if self._shared_sync is not None:
            return self._shared_sync
        station = self.station.code
        return SyncService(
            self.store,
            station,
            self.settings.server,
            batch_size=self.settings.sync_batch_size,
            pull_limit=self.settings.sync_pull_limit,
            timeout=self.settings.sync_timeout_seconds,
            catalog_ok=lambda data: any(s.get("code") == station for s in data.get("stations", [])),
            keys=StationKeys(self.store, station, self.key_vault),
        )

    def sync_once(self) -> SyncReport:
        """One full push and pull, then this station's certificate keys and revocations to the
        hall (so certificates issued offline verify elsewhere); reloads the catalogue and
        calendar when they changed. ``window-client sync`` and the counter both run this."""
        report = self.sync.run_once()
        if report.completed:
            self.last_publish = self.publish_certificates()
        if report.catalog_changed or report.calendar_changed:
            self.refresh()
        return report

    def publish_certificates(self) -> PublishReport | None:
        """Register unpublished keys and send local revocations with the sync's token.

        Returns None when there was nothing to send or the hall could not take it now; what
        was not sent stays marked unpublished and goes with the next sync (``cert publish``
        reports the same refusals in detail).
        """
        from window_client.services.certificate_publish import HttpHallCertificates

        keys, revocations = self.certificates.unpublished()
        if not keys and not revocations:
            return None
        try:
            hall = HttpHallCertificates(self.sync.client, timeout=self.settings.sync_timeout_seconds)
        except HallError:
            return None  # not signed in: the next sync after a sign-in sends them
        try:
            return self.certificates.publish(hall)
        except HallError:
            return None
        finally:
            hall.close()

    def refresh(self) -> None:
        """Forget the cached catalogue, calendar and the services built on them (after a sync
        brought new ones)."""
        for name in (
            "catalog",
            "calendar",
            "search",
            "acceptance",
            "cases",
            "certificates",
            "queue",
            "notify",
        ):
            self.__dict__.pop(name, None)

    def close(self) -> None:
        """Release the store and the hall connection."""
        sync = self.__dict__.get("sync")
        if sync is not None and sync is not self._shared_sync:
            sync.close()
        if self._store is not None:
            self._store.close()


def parse_day(text: str | None) -> dt.date:
    """``YYYY-MM-DD`` or today."""
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(Problem("field.invalid", {"field": "date", "value": text[:40]})) from None
