"""跨区通办 between two real hall servers and a real station: accept here (异地收件) → forwarded
once to the owning hall → decided there → certificate issued there → back to the origin hall →
to the station on its next pull → verified with the partner's published key → handed over (领取).

Also: a forwarding the owner refuses reaches the station's 同步 refusals; partners that are not
halls or hold another key are refused and change nothing; forged or unsigned hall-to-hall
requests are refused and store nothing; ``catalog diff`` names where two halls' versions differ.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hall_server.domain.partner_auth import HallIdentity, sign_request
from hall_server.services.crosshall_in import INBOX_PATH
from models.enums import ApplicantType, MaterialStatus, Tolerance
from models.seal import generate_key_pair
from tests.conftest import TODAY
from tests.crosshall_halls import (
    GAOXIN_ISSUER,
    JINGHE_ISSUER,
    ORIGIN_LINKS,
    OWNER_LINKS,
    PartnerHall,
    link,
    partner_hall,
    wait_for,
)
from window_client.cli import app as client_cli
from window_client.services.acceptance import AcceptanceRequest, Applicant
from window_client.services.runtime import Runtime
from window_client.services.samples import person_id
from window_client.services.settings import Settings

RNG = random.Random(13)
runner = CliRunner()


@dataclass
class TwoHalls:
    """高新 (origin, station GXZX) and 泾河 (owner), partners of each other."""

    gaoxin: PartnerHall
    jinghe: PartnerHall


def slower_cl002(catalog: dict[str, Any]) -> None:
    """泾河's CL-002 promises 7 working days instead of 5 (a 同事同标 difference)."""
    for item in catalog["items"]:
        if item["code"] == "CL-002":
            item["promised"]["days"] = 7


@pytest.fixture(scope="module")
def halls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoHalls]:
    tmp = tmp_path_factory.mktemp("crosshall")
    gaoxin = partner_hall(tmp, "GAOXIN", GAOXIN_ISSUER, ORIGIN_LINKS)
    jinghe = partner_hall(tmp, "JINGHE", JINGHE_ISSUER, OWNER_LINKS, tweak=slower_cl002)
    try:
        link(gaoxin, jinghe)
        link(jinghe, gaoxin)
        yield TwoHalls(gaoxin, jinghe)
    finally:
        gaoxin.process.stop()
        jinghe.process.stop()


@pytest.fixture(scope="module")
def station(halls: TwoHalls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The station GXZX of 高新 (one store for the module: case numbers go on)."""
    home = tmp_path_factory.mktemp("station") / "GXZX"
    rt = Runtime(Settings(home=home, station="GXZX", server=halls.gaoxin.url), actor="C001")
    rt.sync.sign_in_online("C001", "demo-1234")
    sync(rt)  # the hall's catalogue (with its 通办 links) and partner keys
    yield rt
    rt.close()


def sync(rt: Runtime) -> None:
    report = rt.sync_once()
    assert report.error is None, report.error


def accept(rt: Runtime, item_code: str) -> str:
    item = rt.catalog.items[item_code]
    presented = {m.code: MaterialStatus.PRESENTED for m in item.materials if m.tolerance is Tolerance.CORE}
    presented.update(
        {m.code: MaterialStatus.PRESENTED for m in item.materials if m.tolerance is Tolerance.TOLERABLE}
    )
    applicant = Applicant(ApplicantType.PERSON, person_id(RNG), "王小明", "13800138000")
    decision = rt.acceptance.accept(AcceptanceRequest(item.code, applicant, presented), TODAY)
    assert decision.case_no is not None
    return decision.case_no


def state_at(hall: PartnerHall, case_no: str) -> str | None:
    rows = hall.query("SELECT state FROM cases WHERE case_no = :n", n=case_no)
    return str(rows[0][0]) if rows else None


def test_the_whole_loop_accept_forward_decide_certificate_verify_handover(
    halls: TwoHalls, station: Runtime
) -> None:
    gaoxin, jinghe = halls.gaoxin, halls.jinghe
    case_no = accept(station, "CL-001")
    env = {"WINDOW_CLIENT_HOME": str(station.settings.home), "WINDOW_CLIENT_STATION": "GXZX"}
    shown = runner.invoke(client_cli, ["cases", "show", case_no, "--json"], env=env)
    assert json.loads(shown.stdout)["crosshall"] == {"partner": "JINGHE", "partner_item": "CL-001"}
    sync(station)
    # Forwarded once, by the origin's background outbox, with the checklist.
    wait_for(lambda: state_at(jinghe, case_no) == "accepted", "the case at the owning hall")
    [(station_code, item, accept_op)] = jinghe.query(
        "SELECT station, item_code, accept_op_id FROM cases WHERE case_no = :n", n=case_no
    )
    assert (station_code, item) == ("@GAOXIN", "CL-001")
    [(payload,)] = jinghe.query("SELECT payload FROM operations WHERE op_id = :o", o=accept_op)
    assert json.loads(payload)["accept"]["materials"]
    # The owner's back office decides; its 统一出证 seals the certificate with its hall key.
    decided = jinghe.db("cases", "decide", case_no, "approve", "--by", "JH-S01", "--json")
    assert json.loads(decided.stdout)["state"] == "approved"
    wait_for(lambda: state_at(jinghe, case_no) == "certificate_issued", "the owner's certificate")
    wait_for(lambda: state_at(gaoxin, case_no) == "certificate_issued", "the decision back at the origin")
    sync(station)
    assert station.cases.get(case_no, TODAY).state == "certificate_issued"
    [certificate] = station.certificates.of_case(case_no)
    assert certificate.body.station == "JINGHE" and certificate.body.issuer_code == JINGHE_ISSUER
    verdict = station.certificates.verify(certificate.qr, TODAY)
    assert verdict.status.value == "valid", verdict.to_dict()
    handed = station.certificates.handover(
        case_no, TODAY, collector_id=certificate.body.holder_id, collector_name="王小明"
    )
    assert handed.handover is not None
    assert station.cases.get(case_no, TODAY).state == "delivered"
    sync(station)
    assert state_at(gaoxin, case_no) == "delivered"
    # Exactly once everywhere.
    assert jinghe.query("SELECT COUNT(*) FROM cases WHERE case_no = :n", n=case_no) == [(1,)]
    assert gaoxin.query(
        "SELECT event FROM operations WHERE case_no = :n AND origin = 'back-office' ORDER BY server_seq",
        n=case_no,
    ) == [("approve",), ("issue_certificate",)]
    assert jinghe.query("SELECT COUNT(*) FROM hall_certificates WHERE case_no = :n", n=case_no) == [(1,)]


def test_a_refused_forwarding_is_shown_on_the_stations_sync_screen(halls: TwoHalls, station: Runtime) -> None:
    case_no = accept(station, "MZ-001")  # 泾河 does not handle MZ-001 for 高新
    sync(station)
    wait_for(
        lambda: (
            halls.gaoxin.query("SELECT status FROM crosshall_cases WHERE case_no = :n", n=case_no)
            == [("refused",)]
        ),
        "the owner's refusal at the origin",
    )
    sync(station)
    [refused] = [r for r in station.sync.refused() if r.case_no == case_no]
    assert refused.code == "crosshall.unknown_item"
    assert "JINGHE" in refused.reason and "MZ-001" in refused.reason
    assert state_at(halls.jinghe, case_no) is None


def test_catalog_diff_names_what_differs(halls: TwoHalls) -> None:
    done = halls.gaoxin.db("catalog", "diff", "JINGHE", "--json", check=False)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    by_item = {entry["item"]: entry for entry in report["items"]}
    assert by_item["CL-001"]["differences"] == [] and not by_item["CL-001"]["missing"]
    [difference] = by_item["CL-002"]["differences"]
    assert difference == {"field": "promised", "here": "5 workday", "there": "7 workday"}
    assert report["differing"] == 1  # MZ-001 exists at 泾河 (as a plain item): same version


def test_a_partner_that_is_not_a_hall_or_holds_another_key_is_refused(
    halls: TwoHalls, tmp_path: Path
) -> None:
    gaoxin = halls.gaoxin
    before = gaoxin.db("partners", "list", "--json").stdout
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"public_key": generate_key_pair("JINGHE").public_hex}), encoding="utf-8")
    refused = gaoxin.db(
        "partners", "add", "JINGHE", "--url", halls.jinghe.url, "--key", str(wrong), check=False
    )
    assert refused.returncode == 2 and "not the key in the file" in refused.stderr
    right = tmp_path / "right.json"
    right.write_text(halls.jinghe.cli("key", "show", "--json").stdout, encoding="utf-8")
    misnamed = gaoxin.db(
        "partners", "add", "XIXIAN", "--url", halls.jinghe.url, "--key", str(right), check=False
    )
    assert misnamed.returncode == 2 and "JINGHE's key, not XIXIAN's" in misnamed.stderr
    bare = tmp_path / "bare.json"  # only the key: the hall at the URL says who it is
    bare.write_text(json.dumps({"public_key": json.loads(right.read_text())["public_key"]}), "utf-8")
    renamed = gaoxin.db(
        "partners", "add", "XIXIAN", "--url", halls.jinghe.url, "--key", str(bare), check=False
    )
    assert renamed.returncode == 2 and "named 'JINGHE', not 'XIXIAN'" in renamed.stderr
    not_hall = gaoxin.db(
        "partners", "add", "JINGHE", "--url", "http://127.0.0.1:9", "--key", str(right), check=False
    )
    assert not_hall.returncode == 2 and "cannot reach" in not_hall.stderr
    assert gaoxin.db("partners", "list", "--json").stdout == before


def test_forged_and_unsigned_requests_are_refused_and_store_nothing(halls: TwoHalls) -> None:
    jinghe = halls.jinghe
    before = jinghe.query("SELECT COUNT(*) FROM partner_inbox")
    body = json.dumps(
        {
            "to": "JINGHE",
            "messages": [{"id": "999999", "kind": "crosshall.forward", "key": "X", "payload": {}}],
        }
    ).encode()
    url = jinghe.url + INBOX_PATH
    unsigned = httpx.post(url, content=body)
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "partner.unsigned"
    impostor = HallIdentity(generate_key_pair("GAOXIN"), GAOXIN_ISSUER)  # the right name, another key
    forged = httpx.post(url, content=body, headers=sign_request(impostor, "POST", INBOX_PATH, "JINGHE", body))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "partner.signature"
    stranger = HallIdentity(generate_key_pair("XIXIAN"))
    unknown = httpx.post(
        url, content=body, headers=sign_request(stranger, "POST", INBOX_PATH, "JINGHE", body)
    )
    assert unknown.status_code == 403 and unknown.json()["error"]["code"] == "partner.unknown"
    assert jinghe.query("SELECT COUNT(*) FROM partner_inbox") == before
    identity = httpx.get(jinghe.url + "/api/v1/hall/identity", params={"nonce": "n" * 16}).json()
    assert identity["name"] == "JINGHE" and identity["nonce"] == "n" * 16
    assert dt.datetime.fromisoformat(identity["at"]).tzinfo is not None
