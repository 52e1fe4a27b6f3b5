"""Staff sign-in: argon2id hashes, lockout after repeated failures, offline sign-in.

The station keeps, for each staff member, the hash from their last successful online sign-in
(the hall server is the authority once sync exists); offline, sign-in is checked against that
cached hash. Every sign-in, failure and lockout is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.approval import Approval, derive_approval_key, sign_approval
from models.demo_staff import DEMO_STAFF
from models.enums import Role
from models.seal import KeyPair
from offline_cache import Store, UnitOfWork

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters


class SignInError(Exception):
    """A refused sign-in; ``message`` is Chinese, for the screen."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A signed-in staff member."""

    staff_no: str
    name: str
    role: Role
    station: str
    # A supervisor's approval key, derived from the password typed at sign-in (models.approval);
    # held in memory only, for the session.
    approval_key: KeyPair | None = field(default=None, repr=False, compare=False)

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may approve, terminate and close the day."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    def approve(self, act: str, subject: str, at: dt.datetime | None = None) -> Approval:
        """This supervisor's signed approval of ``act`` on ``subject`` at their station.

        Raises ``PermissionError`` when the member is not a supervisor signed in with a password.
        """
        if self.approval_key is None or not self.is_supervisor:
            raise PermissionError(f"{self.staff_no} cannot approve")
        moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
        return sign_approval(self.approval_key, act, subject, self.station, moment)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


class StaffService:
    """Accounts cached in the station's store."""

    def __init__(self, store: Store, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def upsert(self, staff_no: str, name: str, role: Role, station: str, password: str) -> None:
        """Create or replace an account (admin command and demo seeding)."""
        digest = hash_password(password)
        with self.store.transaction("admin") as unit:
            unit.execute(
                "INSERT INTO staff (staff_no, name, role, station, password_hash) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(staff_no) DO UPDATE SET name = excluded.name, role = excluded.role,"
                " station = excluded.station, password_hash = excluded.password_hash,"
                " failed_attempts = 0, locked_until = NULL, active = 1",
                (staff_no, name, role.value, station, digest),
            )
            unit.audit("staff.upsert", staff_no, {"role": role.value, "station": station})

    def count(self) -> int:
        """How many accounts this station knows."""
        with self.store.reading() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM staff").scalar_one())

    def sign_in(self, staff_no: str, password: str) -> StaffMember:
        """Check the password against the cached hash; lock after repeated failures."""
        staff_no = staff_no.strip()
        now = self.clock()
        refusal: SignInError | None = None
        # Failures are committed before the refusal is raised: a rolled-back counter would
        # make the lockout unreachable.
        with self.store.transaction(staff_no or "anonymous") as unit:
            row = unit.execute(
                "SELECT name, role, station, password_hash, failed_attempts, locked_until, active"
                " FROM staff WHERE staff_no = ?",
                (staff_no,),
            ).first()
            if row is None or not row[6]:
                unit.audit("staff.sign_in_failed", staff_no or "-", {"reason": "unknown"})
                refusal = SignInError("工号或密码错误", "bad_credentials")
            else:
                name, role, station, digest, failures, locked_until, _ = row
                refusal = self._check(unit, staff_no, password, digest, failures, locked_until, now)
        if refusal is not None:
            raise refusal
        member_role = Role(role)
        key = (
            derive_approval_key(staff_no, password) if member_role in (Role.SUPERVISOR, Role.ADMIN) else None
        )
        return StaffMember(staff_no, name, member_role, station, key)

    def _check(
        self,
        unit: UnitOfWork,
        staff_no: str,
        password: str,
        digest: str,
        failures: int,
        locked_until: str | None,
        now: dt.datetime,
    ) -> SignInError | None:
        if locked_until and dt.datetime.fromisoformat(locked_until) > now:
            until = dt.datetime.fromisoformat(locked_until).astimezone().strftime("%H:%M")
            unit.audit("staff.sign_in_refused", staff_no, {"reason": "locked"})
            return SignInError(f"账号已锁定，请于{until}后再试或联系值班长", "locked")
        try:
            _HASHER.verify(digest, password)
        except (VerificationError, InvalidHashError):
            failures += 1
            lock = (now + LOCKOUT).isoformat() if failures >= MAX_FAILURES else None
            unit.execute(
                "UPDATE staff SET failed_attempts = ?, locked_until = ? WHERE staff_no = ?",
                (0 if lock else failures, lock, staff_no),
            )
            unit.audit("staff.sign_in_failed", staff_no, {"failures": failures, "locked": bool(lock)})
            if lock:
                minutes = LOCKOUT.seconds // 60
                return SignInError(f"密码连续错误{MAX_FAILURES}次，账号已锁定{minutes}分钟", "locked")
            left = MAX_FAILURES - failures
            return SignInError(f"工号或密码错误（再错{left}次将锁定）", "bad_credentials")
        unit.execute(
            "UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE staff_no = ?", (staff_no,)
        )
        unit.audit("staff.sign_in", staff_no, {"offline": True})
        return None

    def verify_supervisor(self, staff_no: str, password: str) -> StaffMember:
        """Re-authenticate a supervisor on the spot (approval of a tolerance)."""
        member = self.sign_in(staff_no, password)
        if not member.is_supervisor:
            raise SignInError("该工号不是值班长，不能审批", "not_supervisor")
        return member


def seed_demo_staff(service: StaffService, station: str) -> None:
    """Demo accounts for a new station (credentials in the README)."""
    for staff_no, name, role, password in DEMO_STAFF:
        service.upsert(staff_no, name, role, station, password)
