"""The hall service behind the routers: one object per app, built by :func:`hall_server.app.create_app`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hall_server import storage
from hall_server.domain import anchors, auth, reference, throttle
from hall_server.domain.auth import Principal
from hall_server.domain.operations import Incoming
from hall_server.domain.partner_auth import HallIdentity, identity_document
from hall_server.errors import ApiError
from hall_server.services.answers import results_json
from hall_server.services.batch import apply_batch
from hall_server.services.certificates import CertificateAuthority
from hall_server.services.crosshall_in import receive
from hall_server.services.queue import board as queue_board
from hall_server.services.queue import report as queue_report
from hall_server.storage import read_transaction, write_transaction
from models.anchor import seal_holds
from models.catalog import catalog_from_dict
from models.enums import Role
from models.queue import CHINA, queue_day
from models.sync import (
    AnchorAnswer,
    AuditAnchor,
    AuditTrail,
    CatalogDocument,
    HolidayDocument,
    TokenRequest,
    TokenResponse,
    encode_pull_response,
)
from models.sync.queue import QueueBoardDocument, QueueFiguresRow, QueueReportDocument

DEFAULT_TOKEN_TTL_SECONDS = 8 * 3600  # one working day
SEAL_CACHE_LIMIT = 4096  # seals already checked (the same head goes with every batch of a sync)


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
    # Told the case numbers of every applied push (the timeliness sweep, hall_server.services.sweeper).
    after_push: Callable[[list[str]], None] | None = None
    identity: HallIdentity | None = None  # the hall's own key (hall_server.services.hall_key)

    def __post_init__(self) -> None:
        self._sealed: dict[tuple[str, str, str], bool] = {}
        if not self.catalog_file:
            self.catalog_file = reference.load_catalog(self.catalog_path)
        self.parsed_catalog = catalog_from_dict(self.catalog_file)
        self.certificates = CertificateAuthority(self.engine, self.clock, self.catalog_file)

    # ------------------------------------------------------------ auth

    def issue_token(self, request: TokenRequest, address: str) -> TokenResponse:
        """Sign a staff member in from client ``address`` (401/403/429 :class:`ApiError`).

        A locked account or address is refused before any argon2 work; the attempt is counted
        first (:mod:`hall_server.domain.throttle`) and the password checked outside the write lock.
        """
        now = self.clock()
        with write_transaction(self.engine) as conn:
            storage.delete_expired_tokens(conn, now - dt.timedelta(days=1))
            throttle.admit(conn, request.staff_no, address, now)
        with read_transaction(self.engine) as conn:
            staff = auth.check_credentials(conn, request)
        with write_transaction(self.engine) as conn:
            if staff is None:
                throttle.failed(conn, address, now)
            else:
                throttle.reset(conn, staff.staff_no)  # the password was right, whatever follows
        if staff is None:
            raise ApiError(401, "auth.invalid")
        with write_transaction(self.engine) as conn:
            return auth.issue_token(conn, staff, request, now, self.token_ttl_seconds)

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller of a request (401 :class:`ApiError` when there is none)."""
        with read_transaction(self.engine) as conn:
            return auth.authenticate(conn, authorization, self.clock())

    # ------------------------------------------------------------ sync

    def push_json(
        self,
        principal: Principal,
        station: str,
        operations: Sequence[Incoming],
        anchor: AuditAnchor | None = None,
    ) -> str:
        """Apply a batch from the principal's own station and keep its audit head;
        :class:`PushResponse` JSON."""
        if station != principal.station:
            raise ApiError(
                403,
                "auth.forbidden",
                why=f"令牌属于站点{principal.station}，不能为站点{station}提交",
                why_en=f"the token is for station {principal.station}, not {station}",
            )
        # An SM2 check costs tens of milliseconds: once per head, before the write lock.
        sealed = anchor is not None and self._seal_holds(station, anchor)
        now = self.clock()
        answer: AnchorAnswer | None = None
        with write_transaction(self.engine) as conn:
            results = apply_batch(conn, principal, operations, now, self.parsed_catalog)
            if anchor is not None:
                answer = anchors.record(conn, station, principal.staff_no, anchor, sealed, now)
        if self.after_push is not None:
            self.after_push([op.case_no for op in operations if isinstance(op.case_no, str)])
        return results_json(results, now, answer)

    def _seal_holds(self, station: str, anchor: AuditAnchor) -> bool:
        key = (station, anchor.seal, anchor.hash)
        known = self._sealed.get(key)
        if known is None:
            if len(self._sealed) >= SEAL_CACHE_LIMIT:
                self._sealed.clear()
            known = self._sealed[key] = seal_holds(station, anchor)
        return known

    def audit_trail(self, principal: Principal) -> AuditTrail:
        """Every audit head the hall holds for the caller's station."""
        with read_transaction(self.engine) as conn:
            return anchors.trail(conn, principal.station)

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
        return encode_pull_response([document for _, document in rows], cursor, more, self.clock())

    # ------------------------------------------------------------ partner halls (跨区通办)

    def identity_document(self, nonce: str) -> dict[str, str]:
        """This hall's name and key, signed over the caller's ``nonce`` (404 without a key)."""
        if self.identity is None:
            raise ApiError(404, "hall.no_identity")
        return identity_document(self.identity, nonce, self.clock())

    def partner_inbox(self, headers: Mapping[str, str], raw: bytes) -> dict[str, Any]:
        """A partner's signed messages, applied once; the answers."""
        return receive(self.engine, self.identity, headers, raw, self.clock(), self.parsed_catalog)

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

    # ------------------------------------------------------------ the queue (排队叫号)

    def queue_board(self, principal: Principal, day: dt.date | None) -> QueueBoardDocument:
        """The calling board of the caller's station (``day``: today in China by default)."""
        now = self.clock()
        board = queue_board(self.engine, principal.station, day or queue_day(now, CHINA))
        return QueueBoardDocument.of(board, now)

    def queue_report(
        self, principal: Principal, day: dt.date | None, station: str | None
    ) -> QueueReportDocument:
        """The day's figures: the caller's station, or (an admin) the one named or every station."""
        if principal.role != Role.ADMIN.value:
            if station not in (None, principal.station):
                raise ApiError(
                    403,
                    "auth.forbidden",
                    why=f"只能查看本站点（{principal.station}）的排队统计",
                    why_en=f"staff of {principal.station} see only their own station's queue",
                )
            station = principal.station
        when = day or queue_day(self.clock(), CHINA)
        rows = [QueueFiguresRow.of(row) for row in queue_report(self.engine, when, station)]
        return QueueReportDocument(day=when, rows=rows)
