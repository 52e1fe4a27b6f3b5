"""Issue 10 end to end: a termination a supervisor approved at the counter reaches the real hall
and is applied, with the verified approver on record; one that only names a supervisor is
refused, and the station shows the hall's state again. Real station store, real services (what
the ledger's F7 calls), real ``hall-server`` subprocess on loopback, its real CLI."""

# Test functions take the imported fixtures as parameters, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import json
from pathlib import Path

from models.approval import ApprovalAct
from models.enums import CaseState, Tolerance
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.functional.test_sync_client import (  # noqa: F401 (fixtures)
    hall,
    hall_cli,
    online,
    seeded_hall_db,
    station,
)
from tests.hall import HallProcess
from window_client.services.runtime import Runtime


def test_a_counter_approval_is_applied_and_a_named_one_is_refused(tmp_path: Path, hall: HallProcess) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    # The supervisor signed in online once at this station: the counter can check them offline.
    rt.sync.sign_in_online("S001", "demo-5678")
    online(rt)  # the clerk's session syncs
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    approved, named = (rt.acceptance.accept(request(item, (missing.code,)), TODAY).case_no for _ in range(2))
    assert approved and named
    assert rt.sync_once().refused == 0
    clerk = Runtime(rt.settings, actor="C001", _store=rt.store)
    # F7 in the ledger: the supervisor types the password at the counter and signs.
    supervisor = clerk.staff.verify_supervisor("S001", "demo-5678")
    approval = supervisor.approve(ApprovalAct.TERMINATE, approved)
    clerk.cases.terminate(approved, TODAY, "terminated at the counter", approval=approval)
    # What a forged (or pre-issue-10) counter sends: only the supervisor's name.
    clerk.cases.terminate(named, TODAY, "申请人放弃补正", approved_by="S001")
    report = rt.sync_once()
    assert (report.pushed, report.refused) == (1, 1)  # applied, refused
    [refused] = rt.sync.refused()
    assert (refused.case_no, refused.code) == (named, "case.needs_supervisor")
    assert rt.cases.get(named, TODAY).state == CaseState.ACCEPTED_TOLERATED  # the hall's state
    local = rt.cases.get(approved, TODAY)
    assert (local.state, local.closed_by) == (CaseState.TERMINATED, "S001")
    shown = hall_cli(hall, "cases", "show", approved, "--json")
    assert shown.exit_code == 0, shown.output
    case = json.loads(shown.output)
    [termination] = [op for op in case["operations"] if op["event"] == "terminate"]
    assert case["state"] == "terminated"
    assert (termination["staff_no"], termination["approved_by"], termination["fold"]) == (
        "C001",
        "S001",
        "applied",
    )
    text = hall_cli(hall, "cases", "show", approved)
    assert "approved by S001, signature verified" in text.output
