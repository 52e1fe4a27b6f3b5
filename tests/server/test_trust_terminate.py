"""Issue 10: the hall trusts no termination or decision it can check (SQLite and PostgreSQL).

- a 终止 that is not rule-decided needs a supervisor's *signed* approval; the name in
  ``approved_by`` and the pushing token's role prove nothing;
- a ``supplement.late`` 终止 is checked against the hall's own facts (deadline, dates, 补正 on
  record); ``supplement.nonconforming`` is a judgement and needs the signature;
- a 承诺件 is decided (approve / refuse) only by the back office.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from hall_server import storage
from hall_server.domain.auth import BACK_OFFICE, Principal, hash_password
from hall_server.services import backoffice
from hall_server.services.batch import apply_batch
from hall_server.storage import StaffRow, write_transaction
from models.approval import ApprovalAct, derive_approval_key, sign_approval
from models.state_machine import CaseEvent
from models.sync import Operation
from tests.server.conftest import Served
from tests.server.ops import APPLICANT_ID, INSTANT, SIGNED_AT, accept, partial, signed, transition

CASE = "GXZX-20261120-0{:04d}"
APPLICANT = APPLICANT_ID
# RS-006 (承诺件, 15 workdays): PENSION_RECORD may be tolerated for 5 workdays, so a 补正 due on
# 2026-11-27 cannot honestly be due before 2026-11-25 (5 calendar days after acceptance).
PENSION: dict[str, Any] = {"item_code": "RS-006", "missing": ("PENSION_RECORD",)}


def terminate(case_no: str, reason: str = "申请人放弃补正", **detail: Any) -> dict[str, Any]:
    return transition(case_no, "terminate", "accepted_tolerated", reason=reason, **detail)


def tolerated(api: Any, token: str, *numbers: int, **fields: Any) -> list[str]:
    cases = [CASE.format(n) for n in numbers]
    ops = [accept(c, state="accepted_tolerated", applicant_id=APPLICANT, **fields) for c in cases]
    assert [r["status"] for r in api.results(token, ops)] == ["applied"] * len(cases)
    return cases


def outcome(api: Any, token: str, op: dict[str, Any]) -> tuple[str, str | None]:
    [result] = api.results(token, [op])
    return result["status"], result["code"]


def unfulfilled(server: Served) -> int:
    with server.engine.connect() as conn:
        value = conn.execute(
            text("SELECT COALESCE(SUM(unfulfilled_commitments), 0) FROM standings WHERE applicant_id = :a"),
            {"a": APPLICANT},
        ).scalar()
    return int(value or 0)


def state(server: Served, case_no: str) -> str:
    case = backoffice.show_case(server.engine, case_no)
    assert case is not None
    return str(case["state"])


def add_supervisor(server: Served, staff_no: str, station: str, password: str) -> None:
    """A supervisor of another station, with the approval key their password stands for."""
    row = StaffRow(
        staff_no=staff_no,
        name="赵六",
        role="supervisor",
        station=station,
        password_hash=hash_password(password),
    )
    key = derive_approval_key(staff_no, password)
    with write_transaction(server.engine) as conn:
        storage.upsert_staff(conn, row)
        storage.record_approval_key(
            conn, staff_no, key.key_id, key.public_hex, row.password_hash, server.clock()
        )


# ------------------------------------------------------------------ attack 1: a name is no proof


def test_naming_a_supervisor_does_not_terminate_a_case(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    own, other = tolerated(api, clerk, 1, 2)
    add_supervisor(server, "S901", "JHZX", "another-pass")
    assert outcome(api, clerk, terminate(own, approved_by="S001")) == ("refused", "case.needs_supervisor")
    assert outcome(api, clerk, terminate(other, approved_by="S901")) == ("refused", "case.needs_supervisor")
    assert (state(server, own), state(server, other)) == ("accepted_tolerated", "accepted_tolerated")
    assert unfulfilled(server) == 0  # nobody's standing was touched


def test_a_supervisors_token_alone_does_not_terminate_a_case(server: Served) -> None:
    # The outbox a supervisor's sync pushes may hold what a clerk did offline: the token tells
    # who synced, not who decided.
    api = server.api
    [case_no] = tolerated(api, api.token("C001"), 3)
    supervisor = api.token("S001")
    assert outcome(api, supervisor, terminate(case_no, approved_by="S001")) == (
        "refused",
        "case.needs_supervisor",
    )
    assert state(server, case_no) == "accepted_tolerated"


def test_a_signed_approval_terminates_and_the_hall_records_the_verified_approver(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    [case_no] = tolerated(api, clerk, 4)
    # The payload's own approved_by lies; the hall records who signed.
    op = terminate(case_no, approved_by="C002", approval=signed(case_no))
    assert outcome(api, clerk, op) == ("applied", None)
    assert state(server, case_no) == "terminated"
    assert unfulfilled(server) == 1
    shown = backoffice.show_case(server.engine, case_no)
    assert shown is not None
    [termination] = [o for o in shown["operations"] if o["event"] == "terminate"]
    assert termination["approved_by"] == "S001" and termination["staff_no"] == "C001"
    [change] = [c["payload"] for c in api.changes(clerk) if c["kind"] == "case.state"]
    assert (change["state"], change["approved_by"]) == ("terminated", "S001")


def test_an_admin_may_sign_for_any_station(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    [case_no] = tolerated(api, clerk, 5)
    approval = signed(case_no, "A001", "demo-9999")
    assert outcome(api, clerk, terminate(case_no, approval=approval)) == ("applied", None)


def _tampered(approval: dict[str, str]) -> dict[str, str]:
    signature = approval["signature"]
    return {**approval, "signature": ("0" if signature[0] != "0" else "1") + signature[1:]}


@pytest.mark.parametrize(
    "forge",
    [
        "another_case",
        "another_act",
        "another_station",
        "tampered",
        "signed_by_a_clerk",
        "supervisor_of_another_station",
        "not_an_approval",
    ],
)
def test_a_forged_or_misdirected_approval_is_refused(server: Served, forge: str) -> None:
    api = server.api
    clerk = api.token("C001")
    [case_no] = tolerated(api, clerk, 10)
    add_supervisor(server, "S901", "JHZX", "another-pass")
    approval: Any = {
        "another_case": signed(CASE.format(11)),
        "another_act": signed(case_no, act=ApprovalAct.TOLERATE),
        "another_station": signed(case_no, station="JHZX"),
        "tampered": _tampered(signed(case_no)),
        "signed_by_a_clerk": sign_approval(
            derive_approval_key("C001", "demo-1234"), ApprovalAct.TERMINATE, case_no, "GXZX", SIGNED_AT
        ).to_dict(),
        "supervisor_of_another_station": signed(case_no, "S901", "another-pass"),
        "not_an_approval": "S001",
    }[forge]
    assert outcome(api, clerk, terminate(case_no, approval=approval)) == ("refused", "case.needs_supervisor")
    assert state(server, case_no) == "accepted_tolerated"


def test_the_back_office_terminates_without_a_signature(server: Served) -> None:
    api = server.api
    [case_no] = tolerated(api, api.token("C001"), 12)
    op = Operation.model_validate(terminate(case_no))
    principal = Principal(staff_no="审批科", station=BACK_OFFICE, role="admin", back_office=True)
    with write_transaction(server.engine) as conn:
        [result] = apply_batch(conn, principal, [op], server.clock())
    assert (result.status, result.code) == ("applied", None)


# ------------------------------------------------------------------ attack 2: rule-decided claims


def test_a_late_supplement_is_checked_against_the_halls_own_facts(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    [case_no] = tolerated(api, clerk, 20, **PENSION)  # due 2026-11-27, accepted 2026-11-20
    early = terminate(case_no, "supplement.late", on="2026-11-27")
    assert outcome(api, clerk, early) == ("refused", "case.not_overdue")
    future = terminate(case_no, "supplement.late", on="2026-11-30")  # the hall's date is 11-20
    [result] = api.results(clerk, [future])
    assert result["code"] == "case.not_overdue" and "晚于大厅当前日期2026-11-20" in result["reason"]
    assert unfulfilled(server) == 0
    server.clock.advance(days=10)  # 2026-11-30 in China
    clerk = api.token("C001")
    assert outcome(api, clerk, terminate(case_no, "supplement.late", on="2026-11-30")) == ("applied", None)
    assert unfulfilled(server) == 1


def test_a_backdated_deadline_in_the_accept_does_not_make_a_supplement_late(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    # The accept itself is refused: its deadline is not one the item's limits give (the accept
    # checks, hall_server.domain.accepts); the termination then has no case to act on.
    backdated = accept(CASE.format(21), state="accepted_tolerated", supplement_due="2026-11-20", **PENSION)
    assert outcome(api, clerk, backdated) == ("refused", "accept.invalid")
    server.clock.advance(days=3)
    clerk = api.token("C001")
    [result] = api.results(clerk, [terminate(CASE.format(21), "supplement.late", on="2026-11-23")])
    assert result["code"] == "case.unknown"
    assert unfulfilled(server) == 0


def test_a_case_with_a_supplement_on_record_is_not_late(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    supplemented, partly = tolerated(api, clerk, 22, 23, **PENSION)
    api.results(clerk, [transition(supplemented, "supplement", "accepted_tolerated", on="2026-11-21")])
    server.clock.advance(days=10)
    clerk = api.token("C001")
    late = terminate(supplemented, "supplement.late", on="2026-11-30")
    assert outcome(api, clerk, late) == ("refused", "case.not_overdue")
    # Everything missing came in a partial 补正: nothing is left to be late (same batch too).
    [_, result] = api.results(
        clerk, [partial(partly, ["PENSION_RECORD"]), terminate(partly, "supplement.late", on="2026-11-30")]
    )
    assert result["code"] == "case.not_overdue" and "没有待补正" in result["reason"]
    assert unfulfilled(server) == 0


def test_a_case_accepted_in_full_cannot_be_terminated_as_late(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    case_no = CASE.format(24)
    api.results(clerk, [accept(case_no, applicant_id=APPLICANT)])
    server.clock.advance(days=10)
    clerk = api.token("C001")
    assert outcome(api, clerk, terminate(case_no, "supplement.late", on="2026-11-30")) == (
        "refused",
        "case.not_overdue",
    )


def test_a_nonconforming_supplement_needs_a_signed_approval(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    plain, approved = tolerated(api, clerk, 25, 26)
    assert outcome(api, clerk, terminate(plain, "supplement.nonconforming")) == (
        "refused",
        "case.needs_supervisor",
    )
    op = terminate(approved, "supplement.nonconforming", approval=signed(approved))
    assert outcome(api, clerk, op) == ("applied", None)


def test_accept_and_late_termination_in_one_batch_are_checked_too(server: Served) -> None:
    api = server.api
    server.clock.advance(days=10)
    clerk = api.token("C001")
    case_no = CASE.format(27)
    ops = [
        accept(case_no, state="accepted_tolerated", applicant_id=APPLICANT, **PENSION),
        terminate(case_no, "supplement.late", on="2026-11-24"),
        terminate(case_no, "supplement.late", on="2026-11-28"),
    ]
    assert [(r["status"], r["code"]) for r in api.results(clerk, ops)] == [
        ("applied", None),
        ("refused", "case.not_overdue"),
        ("applied", None),
    ]


# ------------------------------------------------------------------ attack 3: 承诺件 decisions


def test_a_station_cannot_decide_a_promised_item(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    approve, refuse = CASE.format(30), CASE.format(31)  # SCJG-001: 承诺件
    api.results(clerk, [accept(approve), accept(refuse)])
    [approved, refused] = api.results(
        clerk, [transition(approve, "approve", "accepted"), transition(refuse, "refuse", "accepted")]
    )
    assert (approved["code"], refused["code"]) == ("case.back_office_only", "case.back_office_only")
    assert "承诺件" in approved["reason"] and "后台" in approved["reason"]
    assert (state(server, approve), state(server, refuse)) == ("accepted", "accepted")
    supervisor = api.token("S001")
    assert outcome(api, supervisor, transition(approve, "approve", "accepted"))[1] == "case.back_office_only"
    decision = backoffice.decide(server.engine, approve, CaseEvent.APPROVE, by="审批科", reason=None)
    assert decision.state == "approved"


def test_an_instant_item_is_still_finished_at_the_counter(server: Served) -> None:
    api = server.api
    clerk = api.token("C001")
    approve, refuse = CASE.format(32), CASE.format(33)
    api.results(clerk, [accept(approve, **INSTANT), accept(refuse, **INSTANT)])
    results = api.results(
        clerk,
        [
            transition(approve, "approve", "accepted", at_counter=True),
            transition(approve, "issue_certificate", "approved"),
            transition(refuse, "refuse", "accepted", at_counter=True),
        ],
    )
    assert [(r["status"], r["code"]) for r in results] == [("applied", None)] * 3


def test_a_stored_accept_without_its_deadline_is_late_only_after_the_working_days(server: Served) -> None:
    """An accept kept before the hall checked deadlines may carry none: the hall then counts the
    item's 补正 limit in working days with its own holiday data, not in calendar days."""
    api = server.api
    clerk = api.token("C001")
    [case_no] = tolerated(api, clerk, 27, **PENSION)  # accepted Fri 2026-11-20, 5 workdays
    with write_transaction(server.engine) as conn:
        stored = conn.execute(
            text("SELECT op_id, payload FROM operations WHERE case_no = :c AND kind = 'case.accept'"),
            {"c": case_no},
        ).one()
        legacy = {k: v for k, v in json.loads(stored.payload).items() if k != "supplement_due"}
        conn.execute(
            text("UPDATE operations SET payload = :p WHERE op_id = :o"),
            {"p": json.dumps(legacy), "o": stored.op_id},
        )
    server.clock.advance(days=10)
    clerk = api.token("C001")
    # Five calendar days have passed on 11-26, five working days only on 11-27.
    early = terminate(case_no, "supplement.late", on="2026-11-26")
    [result] = api.results(clerk, [early])
    assert result["code"] == "case.not_overdue" and "补正期限2026-11-27尚未届满" in result["reason"]
    assert outcome(api, clerk, terminate(case_no, "supplement.late", on="2026-11-30")) == ("applied", None)
    assert unfulfilled(server) == 1
