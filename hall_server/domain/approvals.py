"""Supervisors' approvals: the keys their passwords stand for, and checking a signed approval.

A supervisor approves at a counter (online or offline) by typing their password: the approval
is an SM2 signature with a key derived from it (:mod:`models.approval`). The hall records the
public key whenever it sees the password, and believes a signed approval only when it verifies
against a recorded key of an active account allowed to give it (:func:`approver_of`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from hall_server import storage
from hall_server.storage import StaffRow
from models.approval import Approval, check_approval, derive_approval_key
from models.enums import Role

SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})


def remember_approval_key(conn: Connection, staff: StaffRow, password: str, now: dt.datetime) -> None:
    """Record the approval key ``password`` stands for (supervisors and admins; once per password).

    Call only with a password already checked against ``staff.password_hash``.
    """
    if staff.role not in SUPERVISOR_ROLES or storage.has_approval_key_for(
        conn, staff.staff_no, staff.password_hash
    ):
        return
    key = derive_approval_key(staff.staff_no, password)
    storage.record_approval_key(conn, staff.staff_no, key.key_id, key.public_hex, staff.password_hash, now)


def approver_of(conn: Connection, data: object, act: str, subject: str, station: str) -> str | None:
    """The staff number of the supervisor whose signed approval ``data`` is, or ``None``.

    ``data`` must be an :class:`~models.approval.Approval` (as a dict) of exactly ``act`` on
    ``subject`` at ``station``, signed with a recorded approval key of an active account that is
    an admin, or a supervisor of ``station``.
    """
    approval = Approval.from_dict(data)
    if approval is None:
        return None
    staff = storage.get_staff(conn, approval.by)
    if staff is None or not staff.active or staff.role not in SUPERVISOR_ROLES:
        return None
    if staff.role != Role.ADMIN.value and staff.station != station:
        return None
    keys = storage.approval_keys_of(conn, staff.staff_no)
    return staff.staff_no if check_approval(approval, act, subject, station, keys) else None
