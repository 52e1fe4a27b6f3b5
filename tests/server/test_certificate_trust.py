"""统一出证 trust at the hall: what a clerk can no longer do (issue 10, holes 1 and 2).

Each test is an attack a clerk could make with their own token and the station's software:

- seal a certificate carrying another station's identifier with a key of their own station;
- register a signing key with a clerk's token alone;
- revoke any station's certificate (or a serial not issued yet), naming any supervisor.

The hall must refuse what it can check; the stations, which verify offline, must agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hall_server.cli import app as hall_cli
from hall_server.domain.reference import SHIPPED_CATALOG
from models.approval import Approval, ApprovalAct, sign_approval
from models.certificates import CertificateBody, HolderIdType, Identifier, add_years, frame_qr, serial_for
from models.seal import KeyPair, generate_key_pair, seal_certificate
from tests.conftest import TODAY
from tests.server.conftest import Served, _approval_key
from tests.server.test_certificates_server import hall_verify, issued_certificate, pull, station
from window_client.services.runtime import Runtime

DISABILITY = "13100000MB01270019001"  # 残疾人证, an item every hall accepts
GXZX_ISSUER, JHZX_ISSUER = "11610131MB2978467M", "11611100MB3012592K"
KEYS, REVOCATIONS = "/api/v1/certificates/keys", "/api/v1/certificates/revocations"


def bearer(served: Served, staff_no: str, station_code: str = "GXZX") -> dict[str, str]:
    return {"Authorization": f"Bearer {served.api.token(staff_no, station_code)}"}


def registration(key: KeyPair, approval: Approval | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key_id": key.key_id,
        "station": key.station,
        "public_key": key.public_hex,
        "proof": key.proof(),
    }
    if approval is not None:
        body["approval"] = approval.to_dict()
    return body


def approval(served: Served, staff_no: str, act: str, subject: str, station_code: str) -> Approval:
    """What a supervisor signs at a counter (the key the password stands for)."""
    key = _approval_key(staff_no, served.api.passwords[staff_no])
    return sign_approval(key, act, subject, station_code, "2026-11-20T01:30:00+00:00")


def forged(key: KeyPair, identifier: str, holder: str = "李四", old_text: bool = True) -> str:
    """The QR of a certificate ``key`` seals with any identifier it likes: a ``ZZ1:`` text (which
    can state any issuer code), or (``old_text=False``) what issuing makes (``ZZ2`` when it fits)."""
    parsed = Identifier.parse(identifier)
    assert parsed is not None
    body = CertificateBody(
        identifier=identifier,
        certificate_type="DISABILITY_CERT",
        type_name="残疾人证",
        holder_name=holder,
        holder_id="610103199001011234",
        holder_id_type=HolderIdType.CITIZEN_ID,
        issuer_code=parsed.issuer_code,
        issuer_name="西安高新区政务服务中心全科综合窗口",
        station=key.station,
        issued_on=TODAY,
        valid_until=add_years(TODAY, 5),
        case_nos=("GXZX-20261120-00042",),
        key_id=key.key_id,
    )
    if old_text:
        content = body.qr_payload().content()
        return frame_qr(content, key.sign(content))
    return seal_certificate(key, body)[1]


@pytest.fixture
def gxzx(server: Served, tmp_path: Path) -> Any:
    rt = station(tmp_path, "GXZX", server.url)
    yield rt
    rt.close()


# ---------------------------------------------------------------- hole 1: forgery


def test_a_key_of_one_station_cannot_seal_another_stations_identifier(server: Served, gxzx: Runtime) -> None:
    real_identifier, real_qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")  # GXZX's key reaches the hall
    assert hall_verify(server, real_qr)["status"] == "valid"

    # Keys of JHZX and of the park station JHYZ1, properly registered (an admin's token), used by
    # their clerks to forge.
    jhzx_key, park_key = generate_key_pair("JHZX"), generate_key_pair("JHYZ1")
    for key in (jhzx_key, park_key):
        headers = bearer(server, "A001", key.station)
        done = server.api.http.post(KEYS, json=registration(key), headers=headers)
        assert done.status_code == 200, done.text
    parsed = Identifier.parse(real_identifier)
    assert parsed is not None
    stolen = str(Identifier.build(parsed.type_code, parsed.issuer_code, serial_for("GXZX", 42)))
    wrong_issuer = str(Identifier.build(DISABILITY, GXZX_ISSUER, serial_for("JHZX", 42)))
    # 残疾人证: the park station accepts no item that issues it.
    foreign_type = str(Identifier.build(DISABILITY, JHZX_ISSUER, serial_for("JHYZ1", 1)))
    expected = {
        (jhzx_key, stolen): "cert.verify.serial_station",
        (jhzx_key, wrong_issuer): "cert.verify.issuer",
        (park_key, foreign_type): "cert.verify.type",
    }
    for (key, identifier), code in expected.items():
        answer = hall_verify(server, forged(key, identifier))
        assert (answer["status"], answer.get("code")) == ("altered", code), identifier
        assert "claimed_identifier" in answer and "holder_name" not in answer
    # The same answer at a station, offline, once it has pulled the keys.
    pull(gxzx, server, "C001")
    for (key, identifier), code in expected.items():
        local = gxzx.certificates.check(forged(key, identifier), TODAY)
        assert (local.status.value, local.problem.code) == ("altered", code)
        assert key.station in local.problem.zh()
    # The ZZ2 text cannot state another issuer code than the station's (the verifier supplies
    # it): a forged one fails the seal; a type the station may not issue is named as above.
    compact = {
        (jhzx_key, wrong_issuer): "cert.verify.signature",
        (park_key, foreign_type): "cert.verify.type",
    }
    for (key, identifier), code in compact.items():
        text = forged(key, identifier, old_text=False)
        assert text.isdigit()
        answer = hall_verify(server, text)
        assert (answer["status"], answer.get("code")) == ("altered", code), identifier
        assert "holder_name" not in answer
        local = gxzx.certificates.check(text, TODAY)
        assert (local.status.value, local.problem.code) == ("altered", code)
    # A genuine JHZX certificate still verifies, and so does GXZX's.
    genuine = str(Identifier.build(DISABILITY, JHZX_ISSUER, serial_for("JHZX", 1)))
    assert hall_verify(server, forged(jhzx_key, genuine, "王小明"))["status"] == "valid"
    assert hall_verify(server, forged(jhzx_key, genuine, "王小明", old_text=False))["status"] == "valid"
    assert gxzx.certificates.check(real_qr, TODAY).status.value == "valid"


# ---------------------------------------------------------------- hole 2: keys


def test_a_clerk_alone_cannot_register_a_signing_key(server: Served) -> None:
    http = server.api.http
    clerk = bearer(server, "C001")
    key = generate_key_pair("GXZX")
    refused = http.post(KEYS, json=registration(key), headers=clerk)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "cert.key_unapproved"
    by_s001 = approval(server, "S001", ApprovalAct.REGISTER_KEY, key.key_id, "GXZX")
    wrong = [
        dataclasses.replace(by_s001, subject=generate_key_pair("GXZX").key_id),  # another key
        approval(server, "S001", ApprovalAct.REVOKE_KEY, key.key_id, "GXZX"),  # another act
        dataclasses.replace(by_s001, by="C002"),  # a clerk named as the approver
    ]
    for bad in wrong:
        answer = http.post(KEYS, json=registration(key, bad), headers=clerk)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "cert.key_unapproved"
    assert http.get(KEYS).json()["keys"] == []

    # A JHZX key approved by GXZX's supervisor: not theirs to approve.
    jhzx_key = generate_key_pair("JHZX")
    foreign = approval(server, "S001", ApprovalAct.REGISTER_KEY, jhzx_key.key_id, "JHZX")
    answer = http.post(KEYS, json=registration(jhzx_key, foreign), headers=bearer(server, "H001", "JHZX"))
    assert answer.status_code == 403

    ok = http.post(KEYS, json=registration(key, by_s001), headers=clerk)
    assert ok.status_code == 200 and ok.json()["status"] == "registered"
    supervisor_key = generate_key_pair("GXZX")
    direct = http.post(KEYS, json=registration(supervisor_key), headers=bearer(server, "S001"))
    assert direct.status_code == 200 and direct.json()["status"] == "registered"
    with server.engine.connect() as conn:
        from sqlalchemy import text

        proofs = conn.execute(
            text(
                "SELECT subject, by_staff FROM certificate_proofs WHERE act = 'key.register' ORDER BY subject"
            )
        ).all()
    assert sorted((s, b) for s, b in proofs) == sorted(
        [(key.key_id, "S001"), (supervisor_key.key_id, "S001")]
    )


def test_a_key_is_revoked_only_by_its_stations_supervisor_or_with_their_approval(
    server: Served,
) -> None:
    http = server.api.http
    key = generate_key_pair("GXZX")
    assert http.post(KEYS, json=registration(key), headers=bearer(server, "S001")).status_code == 200
    url = f"{KEYS}/{key.key_id}/revoke"
    clerk = bearer(server, "C001")
    assert http.post(url, json={"reason": "泄露"}, headers=clerk).status_code == 403
    other = http.post(url, json={"reason": "泄露"}, headers=bearer(server, "H001", "JHZX"))
    assert other.status_code == 403
    signed = approval(server, "S001", ApprovalAct.REVOKE_KEY, key.key_id, "GXZX")
    done = http.post(url, json={"reason": "泄露", "approval": signed.to_dict()}, headers=clerk)
    assert done.status_code == 200 and done.json()["status"] == "revoked"


# ---------------------------------------------------------------- hole 3: revocations


def revoke(served: Served, headers: dict[str, str], identifier: str, **extra: Any) -> httpx.Response:
    return served.api.http.post(
        REVOCATIONS, json={"identifier": identifier, "reason": "证照信息有误", **extra}, headers=headers
    )


def test_a_clerk_cannot_revoke_by_naming_a_supervisor(server: Served, gxzx: Runtime) -> None:
    identifier, qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")  # the issue operation reaches the hall
    for staff_no, station_code in (("C001", "GXZX"), ("H001", "JHZX")):
        answer = revoke(server, bearer(server, staff_no, station_code), identifier, revoked_by="S001")
        assert answer.status_code == 403, (staff_no, answer.text)
    assert hall_verify(server, qr)["status"] == "valid"
    assert server.api.http.get(REVOCATIONS).json()["revocations"] == []


def test_a_supervisor_revokes_only_their_stations_certificates(server: Served, gxzx: Runtime) -> None:
    identifier, qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")
    # An admin signs in for JHZX: not GXZX's supervisor, but an admin may revoke anywhere.
    parsed = Identifier.parse(identifier)
    assert parsed is not None
    jhzx_serial = str(Identifier.build(parsed.type_code, JHZX_ISSUER, serial_for("JHZX", 1)))
    s001 = bearer(server, "S001")
    assert revoke(server, s001, jhzx_serial).status_code == 403  # another station's certificate
    unseen = str(Identifier.build(parsed.type_code, parsed.issuer_code, serial_for("GXZX", 77)))
    early = revoke(server, s001, unseen)
    assert early.status_code == 409 and early.json()["error"]["code"] == "cert.not_issued_yet"
    done = revoke(server, s001, identifier, revoked_by="X999")
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    listed = server.api.http.get(REVOCATIONS).json()["revocations"]
    assert [(r["identifier"], r["revoked_by"]) for r in listed] == [(identifier, "S001")]
    assert hall_verify(server, qr)["status"] == "revoked"


def test_an_offline_revocation_carries_the_supervisors_signed_approval(server: Served, gxzx: Runtime) -> None:
    identifier, qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")
    clerk = bearer(server, "C001")
    by_s001 = approval(server, "S001", ApprovalAct.REVOKE_CERTIFICATE, identifier, "GXZX")
    other_cert = dataclasses.replace(by_s001, subject=identifier[:-1] + "0")
    assert revoke(server, clerk, identifier, approval=other_cert.to_dict()).status_code == 403
    done = revoke(server, clerk, identifier, approval=by_s001.to_dict(), revoked_by="C001")
    assert done.status_code == 200, done.text
    listed = server.api.http.get(REVOCATIONS).json()["revocations"]
    assert [(r["identifier"], r["revoked_by"]) for r in listed] == [(identifier, "S001")]
    assert listed[0]["revoked_at"] == by_s001.at  # when the supervisor signed, not a typed time
    assert hall_verify(server, qr)["status"] == "revoked"
    assert dt.datetime.fromisoformat(listed[0]["revoked_at"]).tzinfo is not None


def test_what_a_station_may_issue_follows_the_catalogue_in_force(server: Served, tmp_path: Path) -> None:
    park = generate_key_pair("JHYZ1")
    done = server.api.http.post(KEYS, json=registration(park), headers=bearer(server, "A001", "JHYZ1"))
    assert done.status_code == 200, done.text
    qr = forged(park, str(Identifier.build(DISABILITY, JHZX_ISSUER, serial_for("JHYZ1", 1))), "王小明")
    assert hall_verify(server, qr)["code"] == "cert.verify.type"
    # The back office lets the park station accept 残疾人证 (CL-001) and publishes the catalogue.
    catalog = json.loads(SHIPPED_CATALOG.read_text(encoding="utf-8"))
    park_station = next(s for s in catalog["stations"] if s["code"] == "JHYZ1")
    park_station["items"].append("CL-001")
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    published = CliRunner().invoke(hall_cli, ["catalog", "publish", str(path), "--db", server.db_url])
    assert published.exit_code == 0, published.output
    assert hall_verify(server, qr)["status"] == "valid"
