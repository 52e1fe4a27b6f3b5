"""Identity checks, 帮办代办 and 办事专员 on a real store: what the service writes (case, outbox,
身份核验单), what the counter refuses, the 日结 count, the specialist CLI and the batch column."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.enums import ApplicantType, MaterialStatus, Tolerance
from models.identity_check import IdentityCheck, IdentityMethod
from tests.conftest import TODAY
from tests.functional.test_acceptance_flow import tolerable_item
from tests.functional.test_cli import complete_row
from window_client.cli import app
from window_client.services.acceptance import AcceptanceRequest, Applicant, Outcome
from window_client.services.documents import documents_for
from window_client.services.printing import render_documents_html
from window_client.services.runtime import Runtime
from window_client.services.samples import credit_code, person_id
from window_client.services.staff import seed_demo_staff

RNG = random.Random(12)
runner = CliRunner()


def _request(
    rt: Runtime, identity: IdentityCheck, agent: bool = False, assisted: bool = False
) -> AcceptanceRequest:
    item = tolerable_item(rt)
    presented = {
        m.code: MaterialStatus.PRESENTED for m in item.materials if m.tolerance is not Tolerance.OPTIONAL
    }
    applicant = Applicant(
        ApplicantType.PERSON,
        person_id(RNG),
        "王小明",
        "13800138000",
        "李代办" if agent else "",
        person_id(RNG) if agent else "",
    )
    return AcceptanceRequest(item.code, applicant, presented, identity=identity, assisted=assisted)


def _db(rt: Runtime, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(rt.store.path) as db:
        return db.execute(sql, params).fetchall()


def _payload(rt: Runtime, case_no: str) -> dict[str, Any]:
    [(text,)] = _db(rt, "SELECT payload FROM outbox WHERE case_no = ? AND kind = 'case.accept'", case_no)
    payload: dict[str, Any] = json.loads(text)
    return payload


@pytest.mark.parametrize(
    ("identity", "agent", "stored"),
    [
        (IdentityCheck(), False, ("id_card", None, 0)),
        (IdentityCheck(IdentityMethod.E_ID), False, ("e_id", None, 0)),
        (IdentityCheck(IdentityMethod.FACE), False, ("face", "HY-{case_no}", 0)),
        (IdentityCheck(IdentityMethod.AGENT, power_of_attorney=True), True, ("agent", None, 1)),
    ],
)
def test_each_method_is_written_with_the_case_and_its_operation(
    rt: Runtime, identity: IdentityCheck, agent: bool, stored: tuple[str, str | None, int]
) -> None:
    decision = rt.acceptance.accept(_request(rt, identity, agent), TODAY)
    assert decision.outcome is Outcome.ACCEPTED and decision.case_no
    case_no = decision.case_no
    method, slip, attorney = stored
    slip = slip.format(case_no=case_no) if slip else None
    assert _db(rt, "SELECT method, slip, power_of_attorney, assisted FROM case_identity") == [
        (method, slip, attorney, 0)
    ]
    payload = _payload(rt, case_no)
    assert payload["identity_method"] == method
    assert payload.get("identity_slip") == slip
    assert payload.get("power_of_attorney") == (True if agent else None)
    assert "assisted" not in payload  # written only when true
    detail = rt.cases.detail(case_no, TODAY)
    assert detail.identity is not None and detail.identity.method.value == method


def test_the_counter_refuses_an_agent_without_the_power_of_attorney(rt: Runtime) -> None:
    no_letter = rt.acceptance.accept(_request(rt, IdentityCheck(IdentityMethod.AGENT), agent=True), TODAY)
    agent_as_applicant = rt.acceptance.accept(_request(rt, IdentityCheck(), agent=True), TODAY)
    nobody = rt.acceptance.accept(_request(rt, IdentityCheck(IdentityMethod.AGENT, True)), TODAY)
    assert [d.outcome for d in (no_letter, agent_as_applicant, nobody)] == [Outcome.INVALID] * 3
    assert [p.zh() for p in no_letter.problems] == ["代办人办理须收取申请人的授权委托书"]
    assert [p.code for p in agent_as_applicant.problems] == ["identity.agent_method"]
    assert [p.code for p in nobody.problems] == ["identity.agent_missing"]
    assert _db(rt, "SELECT COUNT(*) FROM cases") == [(0,)]
    assert _db(rt, "SELECT COUNT(*) FROM case_identity") == [(0,)]


def test_a_face_check_issues_the_identity_slip_with_the_case_documents(rt: Runtime) -> None:
    decision = rt.acceptance.accept(_request(rt, IdentityCheck(IdentityMethod.FACE)), TODAY)
    case_no = decision.case_no or ""
    detail = rt.cases.detail(case_no, TODAY)
    docs = documents_for(detail.case, detail.materials, rt.station.name, identity=detail.identity)
    assert [d.kind for d in docs] == ["receipt", "identity_slip"]
    slip = docs[1]
    assert slip.title == "身份核验单" and ("核验单编号", f"HY-{case_no}") in slip.fields
    text = slip.to_text()
    assert f"HY-{case_no}" in text and "人脸核验" in text and "核验人签字" in text
    assert detail.case.applicant_id not in text  # the ID is masked on paper too
    page = render_documents_html(docs)
    assert page.count("身份核验单") >= 2 and f"HY-{case_no}" in page  # its copies, on A4 sheets
    # An ID card check issues no slip.
    plain = rt.acceptance.accept(_request(rt, IdentityCheck()), TODAY)
    plain_detail = rt.cases.detail(plain.case_no or "", TODAY)
    kinds = [
        d.kind
        for d in documents_for(plain_detail.case, plain_detail.materials, "x", identity=plain_detail.identity)
    ]
    assert kinds == ["receipt"]
    # The CLI prints and names it like the others.
    shown = runner.invoke(app, ["cases", "show", case_no, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["identity"]["slip"] == f"HY-{case_no}"
    assert [d["kind"] for d in data["documents"]] == ["receipt", "identity_slip"]


def test_assisted_cases_are_counted_per_window_in_the_day_close(rt: Runtime) -> None:
    rt.acceptance.accept(_request(rt, IdentityCheck(), assisted=True), TODAY)
    rt.acceptance.accept(_request(rt, IdentityCheck(), assisted=True), TODAY)
    rt.acceptance.accept(_request(rt, IdentityCheck()), TODAY)
    [row] = rt.cases.day_close(rt.station.code, TODAY, TODAY).windows
    assert (row.window, row.accepted, row.assisted) == ("01", 3, 2)
    payloads = [json.loads(p) for (p,) in _db(rt, "SELECT payload FROM outbox ORDER BY seq")]
    assert [p.get("assisted") for p in payloads] == [True, True, None]
    result = runner.invoke(app, ["cases", "day-close", "--today", TODAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["assisted"] == 2


# ------------------------------------------------------------------ 办事专员


def test_specialists_are_assigned_by_a_supervisor_and_shown_with_the_cases(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    code = credit_code(RNG)

    def cli(*args: str) -> Any:
        return runner.invoke(app, ["specialist", *args])

    assert cli("assign", code, "C002").exit_code == 2  # no supervisor named
    monkeypatch.setenv("WINDOW_CLIENT_USER", "C001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-1234")
    refused = cli("assign", code, "C002")
    assert refused.exit_code == 1 and "值班长" in refused.output
    monkeypatch.setenv("WINDOW_CLIENT_USER", "S001")
    monkeypatch.setenv("WINDOW_CLIENT_PASSWORD", "demo-5678")
    bad_code = cli("assign", code[:17] + ("0" if code[17] != "0" else "1"), "C002")
    assert bad_code.exit_code == 2 and "统一社会信用代码" in bad_code.output
    a_person = cli("assign", person_id(RNG), "C002")
    assert a_person.exit_code == 2 and "只能指派给企业" in a_person.output
    unknown = cli("assign", code, "C999")
    assert unknown.exit_code == 1 and "C999" in unknown.output
    assigned = cli("assign", code, "C002", "--json")
    assert assigned.exit_code == 0, assigned.output
    assert json.loads(assigned.output) | {"assigned_at": ""} == {
        "credit_code": code,
        "staff_no": "C002",
        "staff_name": "李娜",
        "assigned_by": "S001",
        "assigned_at": "",
    }
    listed = json.loads(cli("list", "--json").output)
    assert [(s["credit_code"], s["staff_no"]) for s in listed["specialists"]] == [(code, "C002")]
    assert _db(rt, "SELECT action, subject FROM audit_events WHERE action LIKE 'specialist.%'") == [
        ("specialist.assign", code)
    ]
    # The enterprise's cases show their 专员.
    item = next(
        i for i in rt.catalog.items.values()
        if rt.station.accepts(i.code) and any(m.code == "BIZ_LICENSE" for m in i.materials)
    )  # fmt: skip
    presented = dict.fromkeys((m.code for m in item.materials), MaterialStatus.PRESENTED)
    org = Applicant(ApplicantType.ORG, code, "西安某科技有限公司")
    decision = rt.acceptance.accept(AcceptanceRequest(item.code, org, presented), TODAY)
    shown = json.loads(runner.invoke(app, ["cases", "show", decision.case_no or "", "--json"]).output)
    assert shown["specialist"]["staff_no"] == "C002" and shown["specialist"]["staff_name"] == "李娜"
    text = runner.invoke(app, ["cases", "show", decision.case_no or ""]).output
    assert "办事专员：李娜（C002）" in text and "身份核验：身份证原件" in text
    assert cli("remove", code).exit_code == 0
    assert json.loads(cli("list", "--json").output) == {"specialists": []}
    assert cli("remove", code).exit_code == 1  # nothing left to remove


# ------------------------------------------------------------------ batch


def _write(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_batch_identity_column_is_optional(rt: Runtime, tmp_path: Path) -> None:
    rows = [complete_row(rt.catalog, f"R{n}") for n in range(5)]
    for row, method in zip(rows, ["face", "电子证照", "", "passport", "agent"], strict=True):
        row["identity"] = method
    columns = list(rows[0])
    result = runner.invoke(
        app,
        ["batch", "accept", str(_write(tmp_path / "with.csv", rows, columns)), "--today", TODAY.isoformat(),
         "--report", str(tmp_path / "with.json")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "with.json").read_text(encoding="utf-8"))["rows"]
    assert [r["status"] for r in report] == ["accepted", "accepted", "accepted", "invalid", "invalid"]
    assert "未知的身份核验方式：passport" in " ".join(report[3]["errors"])
    assert "授权委托书" in " ".join(report[4]["errors"])  # a batch row names no agent
    stored = _db(
        rt,
        "SELECT c.case_no, i.method, i.slip FROM cases c JOIN case_identity i USING (case_no) ORDER BY c.id",
    )
    assert [(m, s == f"HY-{n}" if s else None) for n, m, s in stored] == [
        ("face", True),
        ("e_id", None),
        ("id_card", None),
    ]
    # A file without the column (DESIGN.md §6 as it was) is accepted as before: 身份证原件.
    old = [complete_row(rt.catalog, f"OLD{n}") for n in range(2)]
    columns = [c for c in old[0] if c != "identity"]
    result = runner.invoke(
        app,
        ["batch", "accept", str(_write(tmp_path / "old.csv", old, columns)), "--today", TODAY.isoformat()],
    )
    assert result.exit_code == 0, result.output
    assert _db(rt, "SELECT method, COUNT(*) FROM case_identity GROUP BY method ORDER BY method") == [
        ("e_id", 1),
        ("face", 1),
        ("id_card", 3),
    ]
