"""统一出证 through the CLI on a real store: issue, verify, print, hand over, revoke, rotate keys.

Cases are accepted and approved with the services (the counter's path); everything else goes
through ``window-client`` as an integrator would drive it. Each test starts with the station's
signing key approved by the supervisor S001 (``keys rotate``), as a counter does once; how that
approval is asked for is in ``test_certificate_keys_cli.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.certificates import frame_qr
from models.enums import ApplicantType, MaterialStatus, Tolerance
from tests.conftest import TODAY
from tests.qr_formats import as_zz1, content_and_signature
from window_client.cli import app
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import credit_code, person_id
from window_client.services.settings import Settings
from window_client.services.staff import seed_demo_staff
from window_client.services.state_machine import CaseEvent

runner = CliRunner()
RNG = random.Random(36904)
DAY = TODAY.isoformat()
# What the sync engine writes for changes it keeps raw for this consumer (keys, certificates).
PULLED_INSERT = (
    "INSERT INTO pulled_changes (seq, kind, key, payload, at, received_at) VALUES (?, ?, ?, ?, ?, 'now')"
)


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    # These tests read the English messages (the CLI speaks Chinese unless told otherwise).
    return runner.invoke(app, ["--lang", "en", *args], catch_exceptions=False, env=env)


def approved_case(
    rt: Runtime, item_code: str = "CL-001", pid: str | None = None, approve: bool = True
) -> str:
    """Accept a complete case of ``item_code`` (a person's) and approve it."""
    entry = rt.catalog.get(item_code)
    assert entry is not None
    presented = {
        m.code: MaterialStatus.PRESENTED for m in entry.materials if m.tolerance is not Tolerance.OPTIONAL
    }
    org = item_code.startswith("YJS-CYD")
    applicant = (
        Applicant(ApplicantType.ORG, credit_code(RNG), "西安秦味餐饮有限公司")
        if org
        else Applicant(ApplicantType.PERSON, pid or person_id(RNG), "王小明")
    )
    decision = rt.acceptance.accept(AcceptanceRequest(item_code, applicant, presented), TODAY)
    assert decision.case_no is not None
    if approve:
        rt.cases.transition(decision.case_no, CaseEvent.APPROVE, TODAY)
    return decision.case_no


def issue(case_no: str, *extra: str) -> dict[str, Any]:
    result = run("cert", "issue", case_no, "--json", "--today", DAY, *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def verify(arg: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run("verify", arg, "--json", *extra)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def db(rt: Runtime) -> sqlite3.Connection:
    return sqlite3.connect(rt.store.path)


SUPERVISOR = {"WINDOW_CLIENT_USER": "S001", "WINDOW_CLIENT_PASSWORD": "demo-5678"}


@pytest.fixture(autouse=True)
def approved_key(rt: Runtime) -> None:
    """The demo accounts, and a signing key S001 approved (what a counter does once)."""
    seed_demo_staff(rt.staff, rt.station.code)
    result = run("keys", "rotate", env=SUPERVISOR)
    assert result.exit_code == 0, result.output


@pytest.fixture
def supervisor_env() -> Iterator[dict[str, str]]:
    yield dict(SUPERVISOR)


def test_issue_json_contract_state_outbox_and_audit_in_one_unit(rt: Runtime) -> None:
    case_no = approved_case(rt)
    data = issue(case_no)
    assert set(data) >= {"identifier", "qr"}
    identifier, qr = data["identifier"], data["qr"]
    assert identifier.startswith("1.2.156.3005.2.13100000MB01270019001.11610131MB2978467M.GXZX00000001.001.")
    assert qr.isdigit() and qr.startswith("2")  # the ZZ2 text: decimal digits
    conn = db(rt)
    assert conn.execute("SELECT state FROM cases WHERE case_no = ?", (case_no,)).fetchone() == (
        "certificate_issued",
    )
    kind, payload = conn.execute(
        "SELECT kind, payload FROM outbox WHERE case_no = ? ORDER BY seq DESC LIMIT 1", (case_no,)
    ).fetchone()
    op = json.loads(payload)
    assert (
        kind == "case.transition" and op["event"] == "issue_certificate" and op["to"] == "certificate_issued"
    )
    (sealed,) = op["certificates"]
    assert sealed["identifier"] == identifier and sealed["qr"] == qr and sealed["seal"]
    assert op["signing_key"]["key_id"] == sealed["key_id"] and op["signing_key"]["proof"]
    approval = op["signing_key"]["approval"]  # so the hall can register the key on a clerk's sync
    assert (approval["act"], approval["subject"], approval["by"]) == (
        "key.register",
        sealed["key_id"],
        "S001",
    )
    actions = [a for (a,) in conn.execute("SELECT action FROM audit_events ORDER BY seq")]
    assert actions[-2:] == ["cert.issue", "case.issue_certificate"]
    assert actions.count("key.rotate") == 1 and actions.count("key.approve") == 1
    assert run("audit", "verify").exit_code == 0


def test_issuing_twice_or_before_approval_is_refused_clearly(rt: Runtime) -> None:
    case_no = approved_case(rt)
    first = issue(case_no)
    again = run("cert", "issue", case_no, "--today", DAY)
    assert again.exit_code == 1
    assert "issuing twice is refused" in again.output and first["identifier"] in again.output
    pending = approved_case(rt, approve=False)
    refused = run("cert", "issue", pending, "--today", DAY)
    assert refused.exit_code == 1 and "only an approved case" in refused.output
    unknown = run("cert", "issue", "GXZX-20261120-99999", "--today", DAY)
    assert unknown.exit_code == 2 and "no such case" in unknown.output
    no_certificate = approved_case(rt, "SW-001")
    none = run("cert", "issue", no_certificate, "--today", DAY)
    assert none.exit_code == 1 and "results in no certificate" in none.output
    assert db(rt).execute("SELECT COUNT(*) FROM certificates").fetchone() == (1,)
    assert "Traceback" not in again.output + refused.output + unknown.output + none.output


def test_a_package_case_results_in_one_certificate_per_type(rt: Runtime) -> None:
    case_no = approved_case(rt, "YJS-CYD")
    data = issue(case_no)
    types = sorted(c["type_name"] for c in data["certificates"])
    assert types == ["营业执照", "食品经营许可证"]
    assert all(c["holder_id_masked"].count("*") == 8 for c in data["certificates"])
    listed = run("cert", "show", case_no)
    assert listed.exit_code == 2 and "several certificates" in listed.output


def test_verify_text_file_and_every_bad_input_by_name(rt: Runtime, tmp_path: Path) -> None:
    data = issue(approved_case(rt))
    qr = data["qr"]
    code, answer = verify(qr, "--today", DAY)
    assert code == 0 and answer["status"] == "valid" and answer["holder_name"] == "王小明"
    assert answer["identifier"] == data["identifier"] and answer["type_name"] == "残疾人证"

    saved = tmp_path / "qr.txt"
    saved.write_text(qr + "\n", encoding="utf-8")
    assert verify(str(saved), "--today", DAY) == (0, answer)

    content, signature = content_and_signature(qr, data["identifier"])
    altered = frame_qr(content.replace("王".encode(), "汪".encode()), signature)
    truncated = qr[:-12]
    assert verify(as_zz1(qr, data["identifier"]), "--today", DAY) == (0, answer)  # the old text too
    random_file = tmp_path / "noise.bin"
    random_file.write_bytes(random.Random(1).randbytes(512))
    expectations = {
        altered: ("altered", 1),
        truncated: ("malformed", 1),
        str(random_file): ("malformed", 1),
        "hello": ("malformed", 1),
    }
    for arg, (status, exit_code) in expectations.items():
        code, answer = verify(arg, "--today", DAY)
        assert (answer["status"], code) == (status, exit_code), arg[:40]
        assert answer["reason"]
    code, answer = verify(qr, "--today", "2031-11-20")
    assert (code, answer["status"]) == (1, "expired")

    missing = run("verify", str(tmp_path / "nope.html"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    directory = run("verify", str(tmp_path))
    assert directory.exit_code == 2
    plain = run("verify", truncated, "--today", DAY)
    assert plain.exit_code == 1 and plain.stdout.startswith("malformed") and "truncated" in plain.stdout
    audited = db(rt).execute("SELECT COUNT(*) FROM audit_events WHERE action = 'cert.verify'").fetchone()
    assert audited == (9,)  # with the ZZ1 text of the same certificate


def test_printable_page_holds_the_qr_and_verifies(rt: Runtime, tmp_path: Path) -> None:
    case_no = approved_case(rt)
    data = issue(case_no)
    page = tmp_path / "print" / "cert.html"
    result = run("cert", "print", case_no, "--out", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "size: A4" in html and "<svg" in html and "残疾人证" in html and "王小明" in html
    assert data["identifier"] in html and f'content="{data["qr"]}"' in html
    assert verify(str(page), "--today", DAY)[0] == 0
    svg = tmp_path / "cert.svg"
    assert run("cert", "print", data["identifier"], "--out", str(svg)).exit_code == 0
    text = svg.read_text(encoding="utf-8")
    assert 'width="210mm" height="297mm"' in text and data["qr"] in text
    assert verify(str(svg), "--today", DAY)[0] == 0
    conn = db(rt)
    assert conn.execute("SELECT printed FROM certificates").fetchone() == (2,)
    assert conn.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'cert.print'").fetchone() == (2,)


def test_handover_by_holder_agent_and_mail_with_id_checks(rt: Runtime) -> None:
    pid = person_id(RNG)
    own = approved_case(rt, pid=pid)
    by_agent = approved_case(rt)
    mailed = approved_case(rt)
    ids = {no: issue(no)["identifier"] for no in (own, by_agent, mailed)}
    stranger = person_id(RNG)

    not_holder = run("cert", "handover", own, "--collector-id", stranger, "--collector-name", "李四")
    assert not_holder.exit_code == 1 and "use --agent" in not_holder.output
    wrong = pid[:-1] + ("0" if pid[-1] != "0" else "1")  # the check character changed
    bad_id = run("cert", "handover", own, "--collector-id", wrong, "--collector-name", "王小明")
    assert bad_id.exit_code == 1 and "check character" in bad_id.output
    neither = run("cert", "handover", own)
    assert neither.exit_code == 1 and "--mail" in neither.output

    ok = run("cert", "handover", own, "--collector-id", pid, "--collector-name", "王小明", "--today", DAY)
    assert ok.exit_code == 0 and "(holder)" in ok.output
    again = run("cert", "handover", ids[own], "--mail", "SF1234567890")
    assert again.exit_code == 1 and "already handed over" in again.output
    agent = run(
        "cert",
        "handover",
        by_agent,
        "--collector-id",
        stranger,
        "--collector-name",
        "李四",
        "--agent",
        "--today",
        DAY,
    )
    assert agent.exit_code == 0 and "(agent)" in agent.output
    bad_mail = run("cert", "handover", mailed, "--mail", "12")
    assert bad_mail.exit_code == 1 and "tracking number" in bad_mail.output
    mail = run("cert", "handover", mailed, "--mail", "sf1234567890", "--today", DAY)
    assert mail.exit_code == 0 and "SF1234567890" in mail.output

    conn = db(rt)
    states = dict(conn.execute("SELECT case_no, state FROM cases"))
    assert {states[n] for n in (own, by_agent, mailed)} == {"delivered"}
    rows = conn.execute(
        "SELECT kind, collector_id, tracking_no FROM certificate_handovers ORDER BY rowid"
    ).fetchall()
    assert [r[0] for r in rows] == ["holder", "agent", "mail"] and rows[0][1] == pid
    ops = [
        json.loads(p) for (p,) in conn.execute("SELECT payload FROM outbox WHERE kind = 'case.transition'")
    ]
    delivered = [o for o in ops if o["event"] == "deliver"]
    assert len(delivered) == 3 and delivered[0]["handover"]["collector_id_masked"].count("*") == 8
    assert pid not in json.dumps(delivered)  # the full collector ID stays on the station
    counts = json.loads(run("cert", "counts", "--json", "--today", DAY).stdout)
    assert counts == {"day": DAY, "issued": 3, "handed_over": 3, "waiting": 0}


def test_organisation_certificates_are_collected_by_an_agent(rt: Runtime) -> None:
    case_no = approved_case(rt, "YJS-CYD")
    first = issue(case_no)["certificates"][0]["identifier"]
    agent_id = person_id(RNG)
    refused = run("cert", "handover", first, "--collector-id", agent_id, "--collector-name", "赵六")
    assert refused.exit_code == 1 and "--agent" in refused.output
    ok = run("cert", "handover", first, "--collector-id", agent_id, "--collector-name", "赵六", "--agent")
    assert ok.exit_code == 0
    # One of the two certificates of the case has left: the case waits for the other.
    assert db(rt).execute("SELECT state FROM cases WHERE case_no = ?", (case_no,)).fetchone() == (
        "certificate_issued",
    )


def test_revocation_needs_a_supervisor_and_takes_effect_at_once(
    rt: Runtime, supervisor_env: dict[str, str]
) -> None:
    data = issue(approved_case(rt))
    identifier = data["identifier"]
    nobody = run("cert", "revoke", identifier, "--reason", "信息有误")
    assert nobody.exit_code == 2 and "WINDOW_CLIENT_USER" in nobody.output
    clerk = run(
        "cert", "revoke", identifier, "--reason", "信息有误",
        env={"WINDOW_CLIENT_USER": "C001", "WINDOW_CLIENT_PASSWORD": "demo-1234"},
    )  # fmt: skip
    assert clerk.exit_code == 1 and "not a supervisor" in clerk.output
    empty = run("cert", "revoke", identifier, "--reason", "  ", env=supervisor_env)
    assert empty.exit_code == 1 and "needs a reason" in empty.output
    done = run("cert", "revoke", identifier, "--reason", "证照信息有误，重新核发", env=supervisor_env)
    assert done.exit_code == 0, done.output
    code, answer = verify(data["qr"], "--today", DAY)
    assert (code, answer["status"]) == (1, "revoked") and answer[
        "revocation_reason"
    ] == "证照信息有误，重新核发"
    twice = run("cert", "revoke", identifier, "--reason", "again", env=supervisor_env)
    assert twice.exit_code == 1 and "already revoked" in twice.output
    conn = db(rt)
    # Not an outbox operation (those are case operations): `cert publish` sends it to the hall.
    assert conn.execute(
        "SELECT revoked_by, source, published_at FROM certificate_revocations"
    ).fetchall() == [("S001", "local", None)]
    assert conn.execute("SELECT COUNT(*) FROM outbox WHERE case_no IS NULL").fetchone() == (0,)
    assert conn.execute("SELECT actor FROM audit_events WHERE action = 'cert.revoke'").fetchall() == [
        ("S001",)
    ]
    handover = run("cert", "handover", identifier, "--mail", "SF1234567890")
    assert handover.exit_code == 1 and "revoked" in handover.output


def test_rotation_keeps_old_certificates_verifying(rt: Runtime, supervisor_env: dict[str, str]) -> None:
    old = issue(approved_case(rt))
    rotated = run("keys", "rotate", env=supervisor_env)
    assert rotated.exit_code == 0 and "approved by S001" in rotated.output
    new = issue(approved_case(rt))
    keys = json.loads(run("keys", "list", "--json").stdout)["keys"]
    states = {k["key_id"]: k["state"] for k in keys}
    old_key = next(c["key_id"] for c in old["certificates"])
    new_key = next(c["key_id"] for c in new["certificates"])
    assert old_key != new_key and states == {old_key: "retired", new_key: "active"}
    assert verify(old["qr"], "--today", DAY)[0] == 0
    assert verify(new["qr"], "--today", DAY)[0] == 0


def test_another_station_verifies_after_pulling_the_published_key_and_revocations(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = issue(approved_case(rt))
    conn = db(rt)
    (payload,) = conn.execute(
        "SELECT payload FROM outbox WHERE kind = 'case.transition' ORDER BY seq DESC"
    ).fetchone()
    key_record = json.loads(payload)["signing_key"]

    other_home = tmp_path / "station-b"
    monkeypatch.setenv("WINDOW_CLIENT_HOME", str(other_home))
    monkeypatch.setenv("WINDOW_CLIENT_STATION", "JHZX")
    code, answer = verify(data["qr"], "--today", DAY)
    assert (code, answer["status"]) == (1, "unknown_key")

    # What the sync engine stores when it pulls the hall's feed (kept raw for this consumer).
    other = Runtime(Settings.from_env(), actor="C002")
    with other.store.transaction("sync") as unit:
        rows = [
            (1, "key.published", key_record["key_id"], json.dumps(key_record), "2026-11-20T08:00:00+00:00"),
            (2, "key.published", "JHZX-FORGED", json.dumps({**key_record, "key_id": "JHZX-FORGED"}), "x"),
        ]
        unit.executemany(
            PULLED_INSERT,
            rows,
        )
    other.close()
    code, answer = verify(data["qr"], "--today", DAY)
    assert (code, answer["status"]) == (0, "valid")
    keys = json.loads(run("keys", "list", "--json").stdout)["keys"]
    assert [(k["key_id"], k["origin"]) for k in keys] == [(key_record["key_id"], "published")]

    other = Runtime(Settings.from_env(), actor="C002")
    with other.store.transaction("sync") as unit:
        revoked = {
            "identifier": data["identifier"],
            "reason": "吊销",
            "revoked_at": "2026-11-21T09:00:00+00:00",
        }
        unit.execute(
            PULLED_INSERT,
            (3, "certificate.revoked", data["identifier"], json.dumps(revoked), revoked["revoked_at"]),
        )
    other.close()
    code, answer = verify(data["qr"], "--today", DAY)
    assert (code, answer["status"]) == (1, "revoked")
    consumed = sqlite3.connect(other_home / "station.db").execute(
        "SELECT seq FROM pulled_changes WHERE consumed_at IS NOT NULL ORDER BY seq"
    )
    assert [s for (s,) in consumed] == [1, 2, 3]


def test_show_and_list(rt: Runtime) -> None:
    case_no = approved_case(rt)
    data = issue(case_no)
    shown = json.loads(run("cert", "show", case_no, "--json", "--today", DAY).stdout)
    assert shown["identifier"] == data["identifier"] and shown["status"] == "waiting"
    assert "holder_id" not in shown and shown["holder_id_masked"].count("*") == 8
    waiting = json.loads(run("cert", "list", "--waiting", "--json").stdout)["certificates"]
    assert [c["identifier"] for c in waiting] == [data["identifier"]]
    record = json.loads(run("cert", "show", case_no, "--record").stdout)
    assert record["certificate"]["holder_id"] and record["seal"]
    assert db(rt).execute("SELECT COUNT(*) FROM audit_events WHERE action = 'id.view'").fetchone() == (1,)
    text = run("cert", "show", case_no, "--qr")
    assert text.exit_code == 0 and "█" in text.output


def test_a_sealed_record_file_verifies(rt: Runtime, tmp_path: Path) -> None:
    case_no = approved_case(rt)
    issue(case_no)
    record = json.loads(run("cert", "show", case_no, "--record").stdout)
    record.pop("qr")  # only the seal over the full record is left to check
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert verify(str(path), "--today", DAY)[1]["status"] == "valid"
    record["certificate"]["holder_name"] = "王大明"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert verify(str(path), "--today", DAY)[1]["status"] == "altered"


def test_issue_offline_serials_continue_across_runs(rt: Runtime) -> None:
    first = issue(approved_case(rt))["identifier"]
    second = issue(approved_case(rt))["identifier"]
    assert ".GXZX00000001." in first and ".GXZX00000002." in second
    assert dt.date.fromisoformat(DAY) == TODAY
