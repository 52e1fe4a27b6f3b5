"""Publishing reference data: a new catalogue revision or a year's holiday arrangement, each
announced in the change feed to every station (``catalog``; ``holidays`` with the arrangement inline)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from hall_server import storage
from hall_server.domain.reference import CATALOG, HOLIDAYS, load_catalog, load_holidays
from hall_server.storage import write_transaction
from models.sync import CatalogDocument, ChangeKind, HolidayDocument


def publish_catalog(engine: Engine, path: Path, now: dt.datetime) -> CatalogDocument:
    """Publish a catalogue file: a new revision and a ``catalog`` change for every station."""
    data = load_catalog(path)
    with write_transaction(engine) as conn:
        revision = storage.insert_document(conn, CATALOG, CATALOG, storage.dumps(data), now)
        document = CatalogDocument(version=data["version"], catalog=data, revision=revision)
        storage.append_changes(
            conn,
            [
                storage.NewChange(
                    ChangeKind.CATALOG, CATALOG, {"version": data["version"], "revision": revision}
                )
            ],
            now,
        )
    return document


def publish_holidays(engine: Engine, path: Path, now: dt.datetime) -> HolidayDocument:
    """Publish a year's arrangement: a new version and a ``holidays`` change (inline) for all."""
    arrangement = load_holidays(path).model_dump(mode="json")
    year = arrangement["year"]
    with write_transaction(engine) as conn:
        version = storage.insert_document(conn, HOLIDAYS, str(year), storage.dumps(arrangement), now)
        document = HolidayDocument(year=year, version=version, arrangement=arrangement)
        storage.append_changes(
            conn, [storage.NewChange(ChangeKind.HOLIDAYS, str(year), document.model_dump(mode="json"))], now
        )
    return document
