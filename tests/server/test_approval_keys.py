"""The hall's side of supervisor approvals: which keys it records and whose approval it believes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from hall_server import storage
from hall_server.domain.approvals import approver_of, remember_approval_key
from hall_server.domain.auth import new_staff
from hall_server.storage import StaffRow, make_engine, migrate, write_transaction
from models.approval import ApprovalAct, derive_approval_key, sign_approval
from models.enums import Role
from tests.server.conftest import Served, seed

AT = "2026-12-04T02:00:00+00:00"
CASE = "GXZX-20261204-00001"


def _database(db_url: str, demo_staff_rows: list[tuple[StaffRow, str]]) -> Engine:
    engine = make_engine(db_url)
    migrate(engine)
    seed(engine, demo_staff_rows)
    return engine


def test_the_hall_believes_a_supervisor_of_the_station_and_an_admin_only(
    db_url: str, demo_staff_rows: list[tuple[StaffRow, str]]
) -> None:
    engine = _database(db_url, demo_staff_rows)
    supervisor = derive_approval_key("S001", "demo-5678")
    admin = derive_approval_key("A001", "demo-9999")
    with write_transaction(engine) as conn:
        own = sign_approval(supervisor, ApprovalAct.TERMINATE, CASE, "GXZX", AT).to_dict()
        assert approver_of(conn, own, ApprovalAct.TERMINATE, CASE, "GXZX") == "S001"
        # S001 is GXZX's supervisor: an approval of a JHZX case is not theirs to give.
        other = sign_approval(supervisor, ApprovalAct.TERMINATE, "JHZX-20261204-00001", "JHZX", AT)
        assert approver_of(conn, other.to_dict(), ApprovalAct.TERMINATE, other.subject, "JHZX") is None
        anywhere = sign_approval(admin, ApprovalAct.TERMINATE, "JHZX-20261204-00001", "JHZX", AT)
        assert (
            approver_of(conn, anywhere.to_dict(), ApprovalAct.TERMINATE, anywhere.subject, "JHZX") == "A001"
        )
        # A clerk's password gives a key too, but the hall never believes a clerk's approval.
        clerk = sign_approval(
            derive_approval_key("C001", "demo-1234"), ApprovalAct.TERMINATE, CASE, "GXZX", AT
        )
        assert approver_of(conn, clerk.to_dict(), ApprovalAct.TERMINATE, CASE, "GXZX") is None
        # A name without a signature is no approval.
        assert approver_of(conn, {"by": "S001"}, ApprovalAct.TERMINATE, CASE, "GXZX") is None
        assert approver_of(conn, "S001", ApprovalAct.TERMINATE, CASE, "GXZX") is None


def test_a_deactivated_supervisor_approves_nothing(
    db_url: str, demo_staff_rows: list[tuple[StaffRow, str]]
) -> None:
    engine = _database(db_url, demo_staff_rows)
    approval = sign_approval(
        derive_approval_key("S001", "demo-5678"), ApprovalAct.TERMINATE, CASE, "GXZX", AT
    )
    with write_transaction(engine) as conn:
        staff = storage.get_staff(conn, "S001")
        assert staff is not None
        storage.upsert_staff(conn, staff.model_copy(update={"active": False}))
        assert approver_of(conn, approval.to_dict(), ApprovalAct.TERMINATE, CASE, "GXZX") is None


def test_approvals_made_before_a_password_change_keep_verifying(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    now = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    with write_transaction(engine) as conn:
        storage.upsert_station(conn, "GXZX", "高新区政务服务中心", "hall")
        first = new_staff("S009", "赵六", Role.SUPERVISOR, "GXZX", "old-password")
        storage.upsert_staff(conn, first)
        remember_approval_key(conn, first, "old-password", now)
        remember_approval_key(conn, first, "old-password", now)  # once per password
        second = new_staff("S009", "赵六", Role.SUPERVISOR, "GXZX", "new-password")
        storage.upsert_staff(conn, second)
        remember_approval_key(conn, second, "new-password", now)
        keys = conn.execute(select(storage.APPROVAL_KEYS.c.staff_no)).all()
        assert len(keys) == 2
        before = sign_approval(
            derive_approval_key("S009", "old-password"), ApprovalAct.TERMINATE, CASE, "GXZX", AT
        )
        after = sign_approval(
            derive_approval_key("S009", "new-password"), ApprovalAct.TERMINATE, CASE, "GXZX", AT
        )
        assert approver_of(conn, before.to_dict(), ApprovalAct.TERMINATE, CASE, "GXZX") == "S009"
        assert approver_of(conn, after.to_dict(), ApprovalAct.TERMINATE, CASE, "GXZX") == "S009"


def test_an_online_sign_in_records_the_supervisors_key(server: Served) -> None:
    """Accounts created before approval keys existed get theirs at the next sign-in."""
    with write_transaction(server.engine) as conn:
        conn.execute(storage.APPROVAL_KEYS.delete())
    server.api.token("S001")
    approval = sign_approval(
        derive_approval_key("S001", "demo-5678"), ApprovalAct.TERMINATE, CASE, "GXZX", AT
    )
    with write_transaction(server.engine) as conn:
        assert approver_of(conn, approval.to_dict(), ApprovalAct.TERMINATE, CASE, "GXZX") == "S001"
