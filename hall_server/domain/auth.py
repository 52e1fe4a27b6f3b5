"""Staff passwords (argon2id) and bearer tokens.

A token is 32 random bytes handed to the client once; the server keeps only its SHA-256, so a
copy of the database does not let anyone act as a clerk. Tokens expire after the configured
lifetime (8 hours by default: one working day).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from hall_server import storage
from hall_server.domain.approvals import SUPERVISOR_ROLES, remember_approval_key
from hall_server.errors import ApiError
from hall_server.storage import StaffRow, TokenRow
from models.enums import Role
from models.sync import StaffInfo, TokenRequest, TokenResponse

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the staff number is unknown, so both failures take as long."""
    return _HASHER.hash("not-a-password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a corrupt hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """What the server stores of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a signed-in staff member at a station, or the back office (CLI)."""

    staff_no: str
    station: str
    role: str
    back_office: bool = False

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may terminate cases."""
        return self.role in SUPERVISOR_ROLES


BACK_OFFICE = "back-office"


def check_credentials(conn: Connection, request: TokenRequest) -> StaffRow | None:
    """The active account ``request`` names when its password matches, else ``None``.

    Unknown accounts cost the same argon2 work, so both failures take as long. Call outside
    any write transaction (argon2 must not hold the hall's write lock).
    """
    staff = storage.get_staff(conn, request.staff_no)
    if staff is None or not staff.active:
        verify_password(_dummy_hash(), request.password)
        return None
    return staff if verify_password(staff.password_hash, request.password) else None


def issue_token(
    conn: Connection, staff: StaffRow, request: TokenRequest, now: dt.datetime, ttl_seconds: int
) -> TokenResponse:
    """Record a new token for ``staff``, whose password :func:`check_credentials` accepted.

    Staff sign in for their own station; admins may sign in for any known station (403
    :class:`ApiError` otherwise).
    """
    remember_approval_key(conn, staff, request.password, now)
    if not storage.station_exists(conn, request.station):
        raise ApiError(
            403,
            "auth.forbidden",
            why=f"未知站点{request.station}",
            why_en=f"unknown station {request.station}",
        )
    if staff.station != request.station and staff.role != Role.ADMIN.value:
        raise ApiError(
            403,
            "auth.forbidden",
            why=f"{staff.staff_no}属于站点{staff.station}",
            why_en=f"{staff.staff_no} belongs to station {staff.station}",
        )
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(seconds=ttl_seconds)
    storage.insert_token(
        conn,
        TokenRow(
            token_hash=token_digest(token),
            staff_no=staff.staff_no,
            station=request.station,
            role=staff.role,
            issued_at=storage.iso(now),
            expires_at=storage.iso(expires),
        ),
    )
    return TokenResponse(
        token=token,
        expires_at=expires,
        staff=StaffInfo(
            staff_no=staff.staff_no, name=staff.name, role=Role(staff.role), station=request.station
        ),
        server_time=now,
    )


def authenticate(conn: Connection, authorization: str | None, now: dt.datetime) -> Principal:
    """The principal of an ``Authorization: Bearer ...`` header, or an :class:`ApiError` (401)."""
    if not authorization:
        raise ApiError(401, "auth.missing")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "auth.missing")
    row = storage.find_token(conn, token_digest(token))
    if row is None:
        raise ApiError(401, "auth.invalid")
    if dt.datetime.fromisoformat(row.expires_at) <= now:
        raise ApiError(401, "token.expired")
    return Principal(staff_no=row.staff_no, station=row.station, role=row.role)


def is_supervisor_account(conn: Connection, staff_no: str) -> bool:
    """Whether ``staff_no`` names an active supervisor or admin account."""
    staff = storage.get_staff(conn, staff_no)
    return staff is not None and staff.active and staff.role in SUPERVISOR_ROLES


def new_staff(staff_no: str, name: str, role: Role, station: str, password: str) -> StaffRow:
    """A staff row with a freshly hashed password."""
    return StaffRow(
        staff_no=staff_no, name=name, role=role.value, station=station, password_hash=hash_password(password)
    )
