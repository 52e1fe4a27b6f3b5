"""统一出证 across stations through the real hall server on a loopback port.

A certificate issued offline at one station verifies at the hall (``GET /certificates/verify``)
and, after a pull, offline at another station, once its key is published; a revocation by a
supervisor (at the hall or at a station) reaches every station on its next pull.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text as sql
from typer.testing import CliRunner

from hall_server.cli import app as hall_cli
from hall_server.services.certificates import CertificateAuthority
from models.certificates import frame_qr
from models.enums import ApplicantType, MaterialStatus, Role, Tolerance
from models.seal import generate_key_pair
from tests.conftest import TODAY
from tests.qr_formats import as_zz1, content_and_signature
from tests.server.conftest import Served, _approval_key
from window_client.hall_client import HallClient
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.certificate_publish import HttpHallCertificates
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings
from window_client.services.staff import StaffMember
from window_client.services.state_machine import CaseEvent

RNG = random.Random(38540)


def station(tmp_path: Path, code: str, url: str) -> Runtime:
    return Runtime(Settings(home=tmp_path / code, station=code, server=url), actor="C001")


def supervisor(staff_no: str = "S001", station_code: str = "GXZX") -> StaffMember:
    """A demo supervisor who has just typed their password at the counter (``verify_supervisor``)."""
    password = {"S001": "demo-5678", "A001": "demo-9999"}[staff_no]
    role = Role.SUPERVISOR if staff_no.startswith("S") else Role.ADMIN
    return StaffMember(staff_no, staff_no, role, station_code, _approval_key(staff_no, password))


def issued_certificate(rt: Runtime) -> tuple[str, str]:
    """(identifier, qr) of a certificate issued offline for a new approved case (S001 approves
    the station's first key)."""
    item = rt.catalog.items["CL-001"]
    presented = {
        m.code: MaterialStatus.PRESENTED for m in item.materials if m.tolerance is not Tolerance.OPTIONAL
    }
    applicant = Applicant(ApplicantType.PERSON, person_id(RNG), "王小明")
    decision = rt.acceptance.accept(AcceptanceRequest(item.code, applicant, presented), TODAY)
    assert decision.case_no is not None
    rt.cases.transition(decision.case_no, CaseEvent.APPROVE, TODAY)
    (view,) = rt.certificates.issue(
        [decision.case_no], TODAY, approver=supervisor(station_code=rt.station.code)
    )
    return view.identifier, view.qr


def hall_verify(served: Served, qr: str) -> dict[str, Any]:
    response = served.api.http.get("/api/v1/certificates/verify", params={"qr": qr})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def publisher(served: Served, staff_no: str, station_code: str) -> HttpHallCertificates:
    client = HallClient(served.url)
    client.sign_in(staff_no, served.api.passwords[staff_no], station_code)
    return HttpHallCertificates(client)


@pytest.fixture
def stations(server: Served, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    """The hall window GXZX (issues) and the hall JHZX (verifies), both with their own store."""
    gxzx, jhzx = station(tmp_path, "GXZX", server.url), station(tmp_path, "JHZX", server.url)
    yield gxzx, jhzx
    gxzx.close()
    jhzx.close()


def pull(rt: Runtime, served: Served, staff_no: str) -> None:
    """One real sync of ``rt`` (push and pull) as ``staff_no``."""
    rt.sync.sign_in_online(staff_no, served.api.passwords[staff_no])
    report = rt.sync_once()
    assert report.error is None, report.error


def test_publish_then_verify_at_the_hall_and_at_another_station(
    server: Served, stations: tuple[Runtime, Runtime]
) -> None:
    gxzx, jhzx = stations
    identifier, qr = issued_certificate(gxzx)
    assert hall_verify(server, qr)["status"] == "unknown_key"

    pull(gxzx, server, "C001")  # the issue operation reaches the hall, and the sync publishes the key
    assert gxzx.last_publish is not None
    assert (gxzx.last_publish.keys, gxzx.last_publish.revocations, gxzx.last_publish.refused) == (1, 0, [])
    hall = publisher(server, "C001", "GXZX")
    assert gxzx.certificates.publish(hall).keys == 0  # published once
    hall.close()

    local = gxzx.certificates.check(qr, TODAY).to_dict()
    remote = hall_verify(server, qr)
    assert remote["status"] == "valid" and remote["identifier"] == identifier
    assert {k: v for k, v in remote.items() if k != "type_name"} == {
        k: v for k, v in local.items() if k != "type_name"
    }  # one rule on both sides (the hall has no catalogue names)

    content, signature = content_and_signature(qr, identifier)
    altered = frame_qr(content.replace("王".encode(), "汪".encode()), signature)
    for text, status in ((altered, "altered"), (qr[:120], "malformed"), ("垃圾", "malformed")):
        assert hall_verify(server, text)["status"] == status
    stranger = generate_key_pair("GXZX")
    own_key = gxzx.certificates.list_keys()[0].key_id
    forged = frame_qr(content.replace(own_key.encode(), stranger.key_id.encode()), signature)
    assert hall_verify(server, forged)["status"] == "unknown_key"

    assert jhzx.certificates.check(qr, TODAY).status.value == "unknown_key"
    pull(jhzx, server, "H001")
    assert jhzx.certificates.check(qr, TODAY).status.value == "valid"

    # Every verification the hall answered is counted in its log, by status, without the
    # holder's data; only a QR whose seal verified keeps its own row (with the text's hash).
    with server.engine.connect() as conn:
        log = conn.execute(
            sql("SELECT status, identifier, qr_sha256, times FROM certificate_verifications ORDER BY id")
        )
        rows = log.all()
    assert [(r.status, r.times) for r in rows] == [
        ("unknown_key", 2),
        ("valid", 1),
        ("altered", 1),
        ("malformed", 2),
    ]
    assert rows[1].identifier == identifier and len(rows[1].qr_sha256) == 64
    assert all(r.qr_sha256 == "" and r.identifier is None for r in rows if r.status != "valid")
    old = hall_verify(server, as_zz1(qr, identifier))  # the ZZ1 text of the same seal still verifies
    assert old["status"] == "valid" and old["identifier"] == identifier


def test_revocation_at_the_hall_reaches_every_station(
    server: Served, stations: tuple[Runtime, Runtime]
) -> None:
    gxzx, jhzx = stations
    identifier, qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")
    gxzx.certificates.publish(publisher(server, "C001", "GXZX"))
    pull(jhzx, server, "H001")
    assert jhzx.certificates.check(qr, TODAY).status.value == "valid"

    runner = CliRunner()
    result = runner.invoke(
        hall_cli,
        ["certs", "revoke", identifier, "--reason", "证照信息有误", "--by", "S001", "--db", server.db_url],
    )
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output
    assert hall_verify(server, qr)["status"] == "revoked"
    for rt, staff_no in ((gxzx, "C001"), (jhzx, "H001")):
        assert rt.certificates.check(qr, TODAY).status.value == "valid"  # not pulled yet
        pull(rt, server, staff_no)
        answer = rt.certificates.check(qr, TODAY).to_dict()
        assert answer["status"] == "revoked" and answer["revocation_reason"] == "证照信息有误"
    again = runner.invoke(hall_cli, ["certs", "revoke", identifier, "--reason", "x", "--db", server.db_url])
    assert again.exit_code == 0 and "already revoked" in again.output
    clerk = runner.invoke(
        hall_cli, ["certs", "revoke", identifier, "--reason", "x", "--by", "C001", "--db", server.db_url]
    )
    assert clerk.exit_code == 1 and "not an active supervisor" in clerk.output


def test_a_revocation_made_offline_by_a_supervisor_is_published_by_a_clerk(
    server: Served, stations: tuple[Runtime, Runtime]
) -> None:
    gxzx, jhzx = stations
    identifier, qr = issued_certificate(gxzx)
    gxzx.certificates.revoke(identifier, "申请人撤回", supervisor())
    hall = publisher(server, "C001", "GXZX")  # a clerk's token; the revocation carries S001's approval
    early = gxzx.certificates.publish(hall)  # the key goes; the revocation waits for the issue
    assert (early.keys, early.revocations) == (1, 0) and "cert.not_issued_yet" in early.refused[0]
    pull(gxzx, server, "C001")  # the issue operation goes first, then the kept revocation
    report = gxzx.last_publish
    assert report is not None and (report.keys, report.revocations, report.refused) == (0, 1, [])
    assert hall_verify(server, qr)["status"] == "revoked"
    pull(jhzx, server, "H001")
    assert jhzx.certificates.check(qr, TODAY).status.value == "revoked"
    listed = server.api.http.get("/api/v1/certificates/revocations").json()["revocations"]
    assert [(r["identifier"], r["revoked_by"]) for r in listed] == [(identifier, "S001")]


def test_a_revocation_approved_by_no_supervisor_of_the_hall_is_refused_and_kept(
    server: Served, stations: tuple[Runtime, Runtime]
) -> None:
    gxzx, _ = stations
    identifier, _qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")
    # X999 is a supervisor in this station's store only: the hall knows no such account.
    impostor = StaffMember("X999", "某人", Role.SUPERVISOR, "GXZX", _approval_key("X999", "guess"))
    gxzx.certificates.revoke(identifier, "测试", impostor)
    report = gxzx.certificates.publish(publisher(server, "C001", "GXZX"))
    assert report.revocations == 0 and len(report.refused) == 1 and "auth.forbidden" in report.refused[0]
    assert gxzx.certificates.unpublished()[1][0]["identifier"] == identifier  # kept for later


def test_key_registration_is_authenticated_and_checked(server: Served) -> None:
    http = server.api.http
    key = generate_key_pair("GXZX")
    body = {"key_id": key.key_id, "station": "GXZX", "public_key": key.public_hex, "proof": key.proof()}
    assert http.post("/api/v1/certificates/keys", json=body).status_code == 401
    token = {"Authorization": f"Bearer {server.api.token('S001')}"}
    other = generate_key_pair("JHZX")
    foreign = {
        "key_id": other.key_id,
        "station": "JHZX",
        "public_key": other.public_hex,
        "proof": other.proof(),
    }
    refused = http.post("/api/v1/certificates/keys", json=foreign, headers=token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "auth.forbidden"
    bad_proof = {**body, "proof": other.proof()}
    invalid = http.post("/api/v1/certificates/keys", json=bad_proof, headers=token)
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "cert.key_invalid"
    assert http.post("/api/v1/certificates/keys", json=body, headers=token).json()["status"] == "registered"
    assert http.post("/api/v1/certificates/keys", json=body, headers=token).json()["status"] == "known"
    published = [
        c for c in server.api.changes(server.api.token("H001", "JHZX")) if c["kind"] == "key.published"
    ]
    assert [c["key"] for c in published] == [key.key_id]

    clerk = http.post(
        f"/api/v1/certificates/keys/{key.key_id}/revoke",
        json={"reason": "泄露"},
        headers={"Authorization": f"Bearer {server.api.token('C001')}"},
    )
    assert clerk.status_code == 403
    done = http.post(f"/api/v1/certificates/keys/{key.key_id}/revoke", json={"reason": "泄露"}, headers=token)
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    keys = http.get("/api/v1/certificates/keys").json()["keys"]
    assert keys[0]["key_id"] == key.key_id and keys[0]["revoked_reason"] == "泄露"
    kinds = [c["kind"] for c in server.api.changes(server.api.token("H001", "JHZX"))]
    assert kinds.count("key.revoked") == 1


def test_a_revoked_key_revokes_what_it_sealed_everywhere(
    server: Served, stations: tuple[Runtime, Runtime]
) -> None:
    gxzx, jhzx = stations
    _identifier, qr = issued_certificate(gxzx)
    gxzx.certificates.publish(publisher(server, "C001", "GXZX"))
    key_id = gxzx.certificates.list_keys()[0].key_id
    s001 = {"Authorization": f"Bearer {server.api.token('S001')}"}
    response = server.api.http.post(
        f"/api/v1/certificates/keys/{key_id}/revoke", json={"reason": "终端丢失"}, headers=s001
    )
    assert response.status_code == 200
    assert hall_verify(server, qr)["code"] == "cert.verify.key_revoked"
    pull(jhzx, server, "H001")
    assert jhzx.certificates.check(qr, TODAY).problem.code == "cert.verify.key_revoked"


def test_verify_endpoint_answers_bad_input_without_errors(server: Served) -> None:
    bad = ("", "ZZ1:", "ZZ1:" + "A" * 300, "ZZ9:ABC", "\x00\x01", json.dumps({"a": 1}), "2" * 300, "9" * 3999)
    for text in bad:
        answer = hall_verify(server, text)
        assert answer["status"] == "malformed", text
    too_long = server.api.http.get("/api/v1/certificates/verify", params={"qr": "A" * 5000})
    assert too_long.status_code == 422
    missing = server.api.http.get("/api/v1/certificates/verify")
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "request.invalid"
    assert isinstance(httpx.get(f"{server.url}/api/v1/certificates/keys").json()["keys"], list)


def test_anonymous_verifications_cannot_fill_the_disk(
    server: Served, stations: tuple[Runtime, Runtime]
) -> None:
    gxzx, _ = stations
    identifier, qr = issued_certificate(gxzx)
    pull(gxzx, server, "C001")  # publishes the key: the QR verifies as valid
    rng = random.Random(5)
    junk = ["ZZ1:" + "".join(rng.choice("ABCDEFGHJK0123456789") for _ in range(40)) for _ in range(1000)]
    content, signature = content_and_signature(qr, identifier)
    forged = [frame_qr(content + f"#{n}".encode(), signature) for n in range(500)]
    texts = [qr] * 500 + junk + forged
    with httpx.Client(base_url=server.url, timeout=60) as http:  # the endpoint, a few times
        for text in texts[:10] + texts[-10:]:
            assert http.get("/api/v1/certificates/verify", params={"qr": text}).status_code == 200
    authority = CertificateAuthority(server.engine, server.clock)  # the rest without HTTP's latency
    for text in texts[10:-10]:
        authority.verify(text)
    with server.engine.connect() as conn:
        rows = conn.execute(
            sql("SELECT status, identifier, qr_sha256, times FROM certificate_verifications ORDER BY id")
        ).all()
    assert len(rows) <= 5, rows  # one per day and outcome, and one per sealed QR text
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row.status] = by_status.get(row.status, 0) + row.times
    assert by_status["valid"] == 500 and sum(by_status.values()) == 2000
    (valid,) = [r for r in rows if r.status == "valid"]
    assert valid.identifier == identifier and len(valid.qr_sha256) == 64
    assert all(r.identifier is None and r.qr_sha256 == "" for r in rows if r.status != "valid")
