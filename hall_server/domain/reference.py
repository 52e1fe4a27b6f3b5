"""Reference data the hall publishes to every station: the catalogue and holiday arrangements.

The catalogue in force is the newest published one, or, before any publication, the file the
server was started with (``--catalog PATH``, default :data:`SHIPPED_CATALOG`, a copy of the
client's shipped catalogue that a test keeps identical). Every publication is stored as a new
version and announced in the change feed to every station: ``catalog`` (fetch ``GET /catalog``)
and ``holidays`` (the arrangement inline), by :mod:`hall_server.services.publishing`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection

from hall_server import storage
from models.catalog import Catalog, catalog_from_dict
from models.shipped import CATALOG_PATH, HOLIDAYS_DIR
from models.sync import CatalogDocument, HolidayDocument
from models.workdays import ArrangementError, WorkdayCalendar, YearArrangement, parse_arrangement

SHIPPED_CATALOG = CATALOG_PATH
# The arrangements the client ships too: the hall counts deadlines with them until it publishes
# a year itself.
SHIPPED_HOLIDAYS = HOLIDAYS_DIR
CATALOG, HOLIDAYS = "catalog", "holidays"


class ReferenceDataError(Exception):
    """A catalogue or holiday file that cannot be published (message in English)."""


class HolidayGroup(BaseModel):
    """Days of one holiday (or one adjusted working weekend)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    dates: list[dt.date] = Field(min_length=1)


class HolidayArrangement(BaseModel):
    """A year's arrangement in the shape of ``models/data/holidays/2026.json``."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    source: str = ""
    holidays: list[HolidayGroup]
    workdays: list[HolidayGroup] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_year(self) -> HolidayArrangement:
        off = {day for group in self.holidays for day in group.dates}
        on = {day for group in self.workdays for day in group.dates}
        outside = sorted(day for day in off | on if day.year != self.year)
        if outside:
            raise ValueError(f"dates outside {self.year}: {', '.join(map(str, outside))}")
        if off & on:
            raise ValueError(f"dates both holiday and workday: {', '.join(map(str, sorted(off & on)))}")
        return self


def read_json(path: Path) -> Any:
    """The JSON content of ``path``, or a :class:`ReferenceDataError`."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ReferenceDataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferenceDataError(f"{path} is not valid UTF-8 JSON: {exc}") from exc


def load_catalog(path: Path) -> dict[str, Any]:
    """A catalogue file, checked with the same rules the client applies."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise ReferenceDataError(f"{path}: a catalogue is a JSON object with a string 'version'")
    try:
        catalog_from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReferenceDataError(f"{path}: not a usable catalogue: {exc!r}") from exc
    return data


def load_holidays(path: Path) -> HolidayArrangement:
    """A holiday arrangement file, validated."""
    data = read_json(path)
    try:
        return HolidayArrangement.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ReferenceDataError(f"{path}: not a holiday arrangement: {problems}") from exc


def current_catalog(conn: Connection, fallback: dict[str, Any]) -> CatalogDocument:
    """The newest published catalogue, or ``fallback`` (the server's file) as revision 0."""
    row = storage.latest_document(conn, CATALOG, CATALOG)
    if row is None:
        return CatalogDocument(version=str(fallback.get("version", "")), catalog=fallback, revision=0)
    data = json.loads(row.content)
    return CatalogDocument(version=str(data.get("version", "")), catalog=data, revision=row.version)


def catalog_revision(conn: Connection) -> int:
    """The revision of the catalogue in force (0: the server's file), in one small query."""
    return storage.latest_version(conn, CATALOG, CATALOG)


@functools.lru_cache(maxsize=8)
def parsed_catalog(content: str) -> Catalog:
    """A stored catalogue document, parsed once per content (pushes check accepts against it)."""
    return catalog_from_dict(json.loads(content))


@functools.cache
def shipped_catalog() -> Catalog:
    """:data:`SHIPPED_CATALOG`, parsed."""
    return catalog_from_dict(load_catalog(SHIPPED_CATALOG))


def catalog_in_force(conn: Connection, fallback: Catalog) -> Catalog:
    """The newest published catalogue, parsed, or ``fallback`` (the server's file)."""
    row = storage.latest_document(conn, CATALOG, CATALOG)
    return fallback if row is None else parsed_catalog(row.content)


@functools.cache
def shipped_arrangements() -> tuple[YearArrangement, ...]:
    """The holiday arrangements the hall ships with (:data:`SHIPPED_HOLIDAYS`)."""
    files = sorted(SHIPPED_HOLIDAYS.glob("*.json"))
    return tuple(parse_arrangement(json.loads(f.read_text(encoding="utf-8"))) for f in files)


@functools.lru_cache(maxsize=8)
def _calendar(published: tuple[str, ...]) -> WorkdayCalendar:
    years = list(shipped_arrangements())
    for text in published:
        try:
            years.append(parse_arrangement(json.loads(text)))
        except ArrangementError:
            continue  # stations cannot use it either (window_client.services.sync): weekends-only
    return WorkdayCalendar.from_arrangements(years)


def calendar_in_force(conn: Connection) -> WorkdayCalendar:
    """The shipped arrangements with every year's newest publication in their place."""
    return _calendar(tuple(storage.latest_documents(conn, HOLIDAYS)))


def holidays_of(conn: Connection, year: int) -> HolidayDocument | None:
    """The newest published arrangement of ``year``."""
    row = storage.latest_document(conn, HOLIDAYS, str(year))
    if row is None:
        return None
    return HolidayDocument(year=year, version=row.version, arrangement=json.loads(row.content))
