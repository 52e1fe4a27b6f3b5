"""Composition of the services for one station: the CLI and the TUI build them here."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from models.catalog import Catalog, Station
from models.enums import Channel
from models.problems import DomainError, Problem
from offline_cache import Store
from offline_cache import repositories as repo
from window_client.services.acceptance import AcceptanceService
from window_client.services.cases import CaseService
from window_client.services.catalog import CatalogSearch, load_shipped_catalog
from window_client.services.settings import Settings
from window_client.services.staff import StaffService
from window_client.services.workdays import (
    ArrangementError,
    WorkdayCalendar,
    YearArrangement,
    parse_arrangement,
    shipped_arrangements,
)


class UnknownStationError(ValueError):
    """WINDOW_CLIENT_STATION names a station the catalogue does not have."""


@dataclass
class Runtime:
    """Lazily built services of one station and one staff member."""

    settings: Settings
    actor: str = "system"
    _store: Store | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        """The station's local store (opened and migrated on first use)."""
        if self._store is None:
            self._store = Store(self.settings.db_path)
        return self._store

    @cached_property
    def catalog(self) -> Catalog:
        """The catalogue in force."""
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
            raise UnknownStationError(f"unknown station {code!r} (known: {known})")
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
    def cases(self) -> CaseService:
        """Case queries and transitions by :attr:`actor`."""
        return CaseService(self.store, self.calendar, self.actor, self.settings.policy.warning_workdays)

    def import_arrangement(self, path: Path) -> YearArrangement:
        """Import a year's official holiday arrangement (JSON) into the store."""
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArrangementError(f"cannot read {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ArrangementError("an arrangement file holds one JSON object")
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
        """Outbox operations not yet acknowledged by the hall server."""
        with self.store.reading() as conn:
            return int(
                conn.exec_driver_sql("SELECT COUNT(*) FROM outbox WHERE status != 'acked'").scalar_one()
            )

    def close(self) -> None:
        """Release the store."""
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
