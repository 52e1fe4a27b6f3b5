"""A station's tolerance beyond policy at the real hall: signed by the supervisor at the counter,
it is recorded; approved by name only, the hall refuses it and the station shows why (issue 10).
"""

# Test functions take the imported fixtures as parameters, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from models.approval import ApprovalAct
from models.enums import Tolerance
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import request, tolerable_item
from tests.functional.test_sync_client import hall, online, seeded_hall_db, station  # noqa: F401
from tests.hall import HallProcess
from window_client.services.acceptance import Outcome
from window_client.services.samples import person_id
from window_client.services.staff import seed_demo_staff


def test_a_tolerance_beyond_policy_reaches_the_hall_only_with_a_signed_approval(
    tmp_path: Path, hall: HallProcess
) -> None:
    rt = station(tmp_path, "GXZX", hall.url)
    item = tolerable_item(rt)
    missing = next(m for m in item.materials if m.tolerance is Tolerance.TOLERABLE)
    pid = person_id(random.Random(11))
    first = rt.acceptance.accept(request(item, (missing.code,), pid=pid), TODAY)
    assert first.outcome is Outcome.ACCEPTED_TOLERATED and first.case_no
    seed_demo_staff(rt.staff, "GXZX")  # the accounts a station caches (S001: demo-5678)
    supervisor = rt.staff.verify_supervisor("S001", "demo-5678")  # as the SupervisorDialog does
    # A broken promise, terminated with the supervisor's signed approval.
    approval = supervisor.approve(ApprovalAct.TERMINATE, first.case_no)
    rt.cases.terminate(first.case_no, TODAY, "申请人未补正", approved_by="S001", approval=approval)
    online(rt)
    assert rt.sync_once().refused == 0

    again = request(item, (missing.code,), pid=pid)
    assert (
        rt.acceptance.decide(again, TODAY, rt.acceptance.standing_of(pid)).outcome is Outcome.NEEDS_APPROVAL
    )
    named = rt.acceptance.accept(again, TODAY, approved_by="S001")  # a name typed, nobody signed
    signed = rt.acceptance.accept(again, TODAY, approver=supervisor)
    assert named.case_no and signed.case_no
    assert {named.outcome, signed.outcome} == {Outcome.ACCEPTED_TOLERATED}

    report = rt.sync_once()
    assert report.refused == 1
    [refusal] = rt.sync.refused()
    assert (refusal.case_no, refusal.code) == (named.case_no, "accept.needs_approval")
    assert "未履行的容缺承诺" in refusal.reason and "签名批准" in refusal.reason
    assert "值班长" in refusal.action_zh
    listed = CliRunner().invoke(hall_app, ["cases", "list", "--json", "--db", hall.db_url])
    assert listed.exit_code == 0, listed.output
    states = {c["case_no"]: c["state"] for c in json.loads(listed.stdout)["cases"]}
    assert states.get(signed.case_no) == "accepted_tolerated"
    assert named.case_no not in states
    # The local record keeps who approved, both times.
    assert rt.cases.get(signed.case_no, TODAY).approved_by == "S001"
    assert rt.cases.get(named.case_no, TODAY).approved_by == "S001"
