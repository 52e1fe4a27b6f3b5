"""The hall service behind the routers: one object per app, built by :func:`hall_server.app.create_app`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hall_server import auth, reference, storage
from hall_server.auth import Principal
from hall_server.db import read_transaction, write_transaction
from hall_server.errors import ApiError
from hall_server.push import apply_batch, results_json
from hall_server.wire import Incoming
from models.catalog import catalog_from_dict
from models.sync import (
    CatalogDocument,
    HolidayDocument,
    TokenRequest,
    TokenResponse,
)

DEFAULT_TOKEN_TTL_SECONDS = 8 * 3600  # one working day


def utc_now() -> dt.datetime:
    """The server's clock (UTC)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Hall:
    """Storage, settings and the clock, with one method per API operation."""

    engine: Engine
    catalog_path: Path
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
    clock: Callable[[], dt.datetime] = utc_now
    catalog_file: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.storage = storage.Storage(self.engine)
        if not self.catalog_file:
            self.catalog_file = reference.load_catalog(self.catalog_path)
        self.parsed_catalog = catalog_from_dict(self.catalog_file)

    # ------------------------------------------------------------ auth

    def issue_token(self, request: TokenRequest) -> TokenResponse:
        """Sign a staff member in (401/403 :class:`ApiError` on failure)."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            storage.delete_expired_tokens(conn, now - dt.timedelta(days=1))
            return auth.issue_token(conn, request, now, self.token_ttl_seconds)

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller of a request (401 :class:`ApiError` when there is none)."""
        with read_transaction(self.engine) as conn:
            return auth.authenticate(conn, authorization, self.clock())

    # ------------------------------------------------------------ sync

    def push_json(self, principal: Principal, station: str, operations: Sequence[Incoming]) -> str:
        """Apply a batch from the principal's own station; :class:`PushResponse` JSON."""
        if station != principal.station:
            raise ApiError(
                403,
                "auth.forbidden",
                why=f"令牌属于站点{principal.station}，不能为站点{station}提交",
                why_en=f"the token is for station {principal.station}, not {station}",
            )
        now = self.clock()
        with write_transaction(self.engine) as conn:
            results = apply_batch(conn, principal, operations, now, self.parsed_catalog)
        return results_json(results, now)

    def pull_json(self, principal: Principal, after: int, limit: int) -> str:
        """The :class:`~models.sync.PullResponse` JSON, spliced from stored JSON payloads.

        The database writes each change as JSON (payloads are stored as JSON text), so a pull is
        a read of rows and a join of strings.
        """
        with read_transaction(self.engine) as conn:
            rows = storage.change_documents_after(conn, principal.station, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1][0] if rows else after
        items = ",".join(document for _, document in rows)
        server_time = self.clock().isoformat()
        return (
            f'{{"changes":[{items}],"cursor":{cursor},"more":{"true" if more else "false"},'
            f'"server_time":"{server_time}"}}'
        )

    # ------------------------------------------------------------ reference data

    def catalog(self) -> CatalogDocument:
        """The catalogue in force."""
        with read_transaction(self.engine) as conn:
            return reference.current_catalog(conn, self.catalog_file)

    def holidays(self, year: int) -> HolidayDocument:
        """A year's published arrangement (404 :class:`ApiError` when none is)."""
        with read_transaction(self.engine) as conn:
            document = reference.holidays_of(conn, year)
        if document is None:
            raise ApiError(404, "holidays.unknown", year=year)
        return document
