"""Who may make, approve and use a station's signing key, and revoke, through the CLI (real store).

The hall registers a key only with a supervisor's approval, and believes a revocation only from
a supervisor of the issuing station; the counter gets those approvals where the act happens
(a supervisor types their password) and keeps them for whichever sync sends the item later.
Verification at a station binds an identifier to the station whose key sealed it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from typer.testing import CliRunner

from models.approval import Approval, ApprovalAct, check_approval, derive_approval_key
from models.certificates import CertificateBody, Identifier, serial_for
from models.enums import Role
from models.seal import generate_key_pair, seal_certificate
from tests.conftest import TODAY
from tests.functional.test_certificates_cli import PULLED_INSERT, approved_case
from window_client.cli import app
from window_client.services.runtime import Runtime
from window_client.services.staff import seed_demo_staff

runner = CliRunner()
DAY = TODAY.isoformat()
SUPERVISOR = {"WINDOW_CLIENT_USER": "S001", "WINDOW_CLIENT_PASSWORD": "demo-5678"}
CLERK = {"WINDOW_CLIENT_USER": "C001", "WINDOW_CLIENT_PASSWORD": "demo-1234"}


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    # These tests read the English messages (the CLI speaks Chinese unless told otherwise).
    return runner.invoke(app, ["--lang", "en", *args], catch_exceptions=False, env=env)


def own_keys(rt: Runtime) -> list[tuple[str, str | None, str | None]]:
    """(key_id, approval JSON, retired_at) of the station's own keys, oldest first."""
    with sqlite3.connect(rt.store.path) as conn:
        return conn.execute(
            "SELECT key_id, approval, retired_at FROM signing_keys WHERE origin = 'own' ORDER BY created_at"
        ).fetchall()


def s001_signed(data: str | None, act: str, subject: str, station: str = "GXZX") -> bool:
    """Whether ``data`` is S001's signed approval of exactly this act (as the hall checks it)."""
    approval = Approval.from_dict(json.loads(data or "null"))
    public = derive_approval_key("S001", "demo-5678").public_hex
    return approval is not None and check_approval(approval, act, subject, station, [public])


def test_the_first_issue_needs_a_supervisor_to_approve_the_station_key(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    case_no = approved_case(rt)
    nobody = run("cert", "issue", case_no, "--today", DAY)
    assert nobody.exit_code == 1 and "supervisor-approved signing key" in nobody.output
    clerk = run("cert", "issue", case_no, "--today", DAY, env=CLERK)
    assert clerk.exit_code == 1 and "not a supervisor" in clerk.output
    assert own_keys(rt) == []  # nothing made, nothing sealed
    assert "Traceback" not in nobody.output + clerk.output

    first = run("cert", "issue", case_no, "--json", "--today", DAY, env=SUPERVISOR)
    assert first.exit_code == 0, first.output
    ((key_id, approval, _),) = own_keys(rt)
    assert json.loads(first.stdout)["certificates"][0]["key_id"] == key_id
    assert s001_signed(approval, ApprovalAct.REGISTER_KEY, key_id)
    # Approved once: clerks issue with it from now on, and the approval goes with the key.
    later = run("cert", "issue", approved_case(rt), "--today", DAY, env=CLERK)
    assert later.exit_code == 0, later.output
    (key,) = rt.certificates.unpublished()[0]
    assert key["key_id"] == key_id and key["approval"]["by"] == "S001"


def test_keys_rotate_needs_a_supervisor_and_approves_the_new_key(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    bare = run("keys", "rotate")
    assert bare.exit_code == 2 and "needs a supervisor" in bare.output
    clerk = run("keys", "rotate", env=CLERK)
    assert clerk.exit_code == 1 and "not a supervisor" in clerk.output
    wrong = run("keys", "rotate", env={**SUPERVISOR, "WINDOW_CLIENT_PASSWORD": "demo-0000"})
    assert wrong.exit_code == 1 and "wrong staff number or password" in wrong.output
    assert own_keys(rt) == []
    for _ in range(2):
        assert run("keys", "rotate", env=SUPERVISOR).exit_code == 0
    (old, old_approval, retired), (new, new_approval, active) = own_keys(rt)
    assert retired is not None and active is None
    assert s001_signed(old_approval, ApprovalAct.REGISTER_KEY, old)
    assert s001_signed(new_approval, ApprovalAct.REGISTER_KEY, new)
    assert not s001_signed(new_approval, ApprovalAct.REGISTER_KEY, old)  # bound to its key


def test_a_revocation_keeps_the_supervisors_signed_approval_for_the_hall(rt: Runtime) -> None:
    seed_demo_staff(rt.staff, rt.station.code)
    rt.staff.upsert("S009", "周航", Role.SUPERVISOR, "JHZX", "demo-5678")  # another station's
    issued = run("cert", "issue", approved_case(rt), "--json", "--today", DAY, env=SUPERVISOR)
    identifier = json.loads(issued.stdout)["identifier"]
    foreign = run(
        "cert", "revoke", identifier, "--reason", "信息有误",
        env={"WINDOW_CLIENT_USER": "S009", "WINDOW_CLIENT_PASSWORD": "demo-5678"},
    )  # fmt: skip
    assert foreign.exit_code == 1 and "issued by station GXZX" in foreign.output
    done = run("cert", "revoke", identifier, "--reason", "信息有误", env=SUPERVISOR)
    assert done.exit_code == 0, done.output
    with sqlite3.connect(rt.store.path) as conn:
        ((revoked_by, revoked_at, approval),) = conn.execute(
            "SELECT revoked_by, revoked_at, approval FROM certificate_revocations"
        ).fetchall()
    assert revoked_by == "S001" and json.loads(approval)["at"] == revoked_at
    assert s001_signed(approval, ApprovalAct.REVOKE_CERTIFICATE, identifier)
    assert not s001_signed(approval, ApprovalAct.REVOKE_CERTIFICATE, identifier, "JHZX")
    (queued,) = rt.certificates.unpublished()[1]
    assert queued["approval"] == json.loads(approval)  # what the next sync sends


def test_a_station_sees_another_stations_identifier_under_a_genuine_key_as_altered(rt: Runtime) -> None:
    """A JHZX clerk seals a certificate with a GXZX identifier using JHZX's published key."""
    jhzx = generate_key_pair("JHZX")
    record = {
        "key_id": jhzx.key_id, "station": "JHZX", "public_key": jhzx.public_hex,
        "proof": jhzx.proof(), "created_at": "2026-11-20T08:00:00+00:00",
    }  # fmt: skip
    with rt.store.transaction("sync") as unit:  # what a pull stores for the certificate service
        unit.execute(
            PULLED_INSERT, (1, "key.published", jhzx.key_id, json.dumps(record), record["created_at"])
        )
    gxzx_issuer, type_code = rt.station.issuer_uscc, "13100000MB01270019001"
    forged = CertificateBody.from_dict(
        {
            "format": 1,
            "identifier": str(Identifier.build(type_code, gxzx_issuer, serial_for("GXZX", 9))),
            "certificate_type": "DISABILITY_CERT", "type_name": "残疾人证",
            "holder_name": "李四", "holder_id": "610103199001011234", "holder_id_type": "111",
            "issuer_code": gxzx_issuer, "issuer_name": rt.station.name, "station": "JHZX",
            "issued_on": DAY, "valid_until": None, "case_nos": ["JHZX-20261120-00001"],
            "key_id": jhzx.key_id,
        }
    )  # fmt: skip
    _seal, qr = seal_certificate(jhzx, forged)
    result = run("verify", qr, "--json", "--today", DAY)
    answer = json.loads(result.stdout)
    assert result.exit_code == 1 and answer["status"] == "altered"
    assert answer["code"] == "cert.verify.serial_station" and "holder_name" not in answer
    plain = run("verify", qr, "--today", DAY)
    assert plain.exit_code == 1 and plain.stdout.startswith("altered") and "JHZX" in plain.stdout
