"""Sync as staff use it: online sign-in (which refreshes the cached hash for offline sign-in),
one-shot sync, the status, and the refused operations with what to do about them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from models.approval import derive_approval_key
from models.enums import Role
from models.problems import DomainError, Problem
from offline_cache import Store, sync_repo
from window_client.hall_client import (
    DEFAULT_TIMEOUT,
    AuthRequired,
    HallClient,
    ProtocolError,
    ServerError,
    Unreachable,
)
from window_client.services.staff import SignInError, StaffMember, hash_password
from window_client.services.sync.engine import SyncEngine
from window_client.services.sync.refusals import RefusedOperation, refused_view
from window_client.services.sync.status import SyncReport, SyncStatus


class SyncService:
    """Sync as staff use it: sign-in against the hall, one-shot and background sync, status,
    refused operations.

    Args:
        store: the station's store.
        station: this station's code.
        server_url: the hall server's root URL.
        client: a ready client (tests); built from ``server_url`` otherwise.
        timeout: seconds the built client waits to connect and for each read of an answer.
        engine_options: passed on to :class:`SyncEngine` (batch size, pull limit, clock, …).
    """

    def __init__(
        self,
        store: Store,
        station: str,
        server_url: str,
        *,
        client: HallClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        self.store = store
        self.station = station
        self.client = client or HallClient(server_url, timeout=timeout)
        self.engine = SyncEngine(store, self.client, station, **engine_options)

    @property
    def status(self) -> SyncStatus:
        """The engine's status snapshot."""
        return self.engine.status

    def sign_in_online(self, staff_no: str, password: str) -> StaffMember:
        """Sign in at the hall server; on success the station caches the password's argon2id
        hash and the role, so that offline sign-in later checks against this sign-in.

        Raises :class:`SignInError` (Chinese) when the server refuses the credentials, and the
        hall client's :class:`Unreachable` / :class:`ServerError` when it cannot decide.
        """
        staff_no = staff_no.strip()
        try:
            answer = self.client.sign_in(staff_no, password, self.station)
        except ValidationError:
            raise SignInError("工号或密码错误", "bad_credentials") from None
        except AuthRequired as exc:
            with self.store.transaction(staff_no or "anonymous") as unit:
                unit.audit("staff.sign_in_failed", staff_no or "-", {"online": True, "code": exc.code})
            raise SignInError("工号或密码错误", "bad_credentials") from None
        except ServerError as exc:
            if exc.status == 403:
                raise SignInError("该工号不能在本站点登录，请联系系统管理员", "forbidden") from None
            if exc.status == 429:  # locked at the hall: the hall decides, no offline sign-in
                raise self._locked_at_hall(staff_no, exc) from None
            raise
        info = answer.staff
        digest = hash_password(password)
        with self.store.transaction(info.staff_no) as unit:
            sync_repo.cache_online_sign_in(
                unit, info.staff_no, info.name, info.role.value, info.station, digest
            )
            unit.audit("staff.sign_in", info.staff_no, {"offline": False, "role": info.role.value})
        self.engine.signed_in()
        role = Role(info.role)
        key = derive_approval_key(info.staff_no, password) if role in (Role.SUPERVISOR, Role.ADMIN) else None
        return StaffMember(info.staff_no, info.name, role, info.station, key)

    def _locked_at_hall(self, staff_no: str, exc: ServerError) -> SignInError:
        """The Chinese refusal of a sign-in the hall throttles (audited)."""
        code = exc.code if exc.code in ("auth.locked", "auth.throttled") else "auth.throttled"
        minutes = max(1, math.ceil((exc.retry_after or 15 * 60) / 60))
        with self.store.transaction(staff_no or "anonymous") as unit:
            unit.audit("staff.sign_in_refused", staff_no or "-", {"online": True, "code": code})
        return SignInError(Problem(code, {"staff_no": staff_no, "minutes": minutes}).zh(), "locked")

    def sign_in(
        self, staff_no: str, password: str, offline: Callable[[str, str], StaffMember]
    ) -> tuple[StaffMember, bool]:
        """Online sign-in when the hall answers, else ``offline`` (the cached hash).

        Returns the member and whether the sign-in was online. Wrong credentials at the hall
        are never retried offline: the hall is the authority when it answers.
        """
        try:
            return self.sign_in_online(staff_no, password), True
        except (Unreachable, ServerError, ProtocolError):
            return offline(staff_no, password), False

    def run_once(self) -> SyncReport:
        """One full push and pull."""
        return self.engine.run_once()

    def refused(self, include_reviewed: bool = False) -> list[RefusedOperation]:
        """Refused operations with the server's reason and what staff can do, oldest first."""
        with self.store.reading() as conn:
            rows = sync_repo.refused_rows(conn, include_reviewed)
        return [refused_view(r) for r in rows]

    def acknowledge(self, op_id: str, by: str) -> RefusedOperation:
        """Record that ``by`` reviewed a refused operation; the operation itself is kept."""
        with self.store.transaction(by) as unit:
            row = sync_repo.refused_row(unit.conn, op_id)
            if row is None:
                raise DomainError.of("sync.unknown_refused", op_id=op_id[:64])
            if sync_repo.mark_reviewed(unit, op_id, by):
                unit.audit("sync.refused_reviewed", row.case_no or op_id, {"op_id": op_id, "code": row.code})
                if row.case_no:
                    sync_repo.refresh_synced(unit, [row.case_no])
            row = sync_repo.refused_row(unit.conn, op_id)
        self.engine.refresh_counts()
        assert row is not None
        return refused_view(row)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()
