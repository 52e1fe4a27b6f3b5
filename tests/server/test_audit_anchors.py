"""The hall keeps every audit head a station pushes and raises an alarm when the trail is rewound
or rewritten (SQLite and PostgreSQL, real HTTP, the real back-office CLI)."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import httpx
from typer.testing import CliRunner

from hall_server.cli import app as hall_app
from models.anchor import seal_anchor
from models.seal import KeyPair, generate_key_pair
from models.sync import AuditLink
from tests.server.conftest import Served
from tests.server.ops import accept

runner = CliRunner()


@functools.cache
def station_key(station: str = "GXZX") -> KeyPair:
    return generate_key_pair(station)


def digest(n: int, variant: str = "") -> str:
    """A stand-in for the station's hash at event ``n`` (another ``variant``: a rewritten chain)."""
    return hashlib.sha256(f"{variant}{n}".encode()).hexdigest()


def head(
    seq: int, variant: str = "", links: tuple[int, ...] = (), key: KeyPair | None = None
) -> dict[str, Any]:
    linked = [AuditLink(seq=n, hash=digest(n, variant)) for n in links]
    return seal_anchor(key or station_key(), seq, digest(seq, variant), linked).model_dump()


def push(
    server: Served, token: str, audit: dict[str, Any], operations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    response = server.api.http.post(
        "/api/v1/sync/push",
        json={"station": "GXZX", "operations": operations or [], "audit": audit},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def trail(server: Served, token: str) -> list[dict[str, Any]]:
    response = server.api.http.get("/api/v1/sync/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["station"] == "GXZX"
    anchors: list[dict[str, Any]] = response.json()["anchors"]
    return anchors


def back_office(server: Served, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(hall_app, ["stations", *args, "--db", server.db_url])
    return result.exit_code, json.loads(result.stdout) if "--json" in args else {}


def test_heads_that_continue_the_trail_are_kept_once_and_answered(server: Served) -> None:
    token = server.api.token()
    first = push(server, token, head(5), [accept("GXZX-20261120-00001")])
    assert first["results"][0]["status"] == "applied"
    assert first["audit"] == {
        "status": "accepted", "code": None, "reason": None, "anchored_seq": 5, "expected_seq": None,
    }  # fmt: skip
    assert push(server, token, head(5))["audit"]["status"] == "accepted"  # the same head again
    assert push(server, token, head(9, links=(5,)))["audit"] == {
        "status": "accepted", "code": None, "reason": None, "anchored_seq": 9, "expected_seq": None,
    }  # fmt: skip
    kept = trail(server, token)
    assert [(a["seq"], a["hash"], a["status"]) for a in kept] == [
        (5, digest(5), "accepted"),
        (9, digest(9), "accepted"),
    ]
    assert kept[0]["key_id"] == station_key().key_id and kept[0]["key_registered"] is False
    key = station_key()
    registration = {
        "key_id": key.key_id, "station": "GXZX", "public_key": key.public_hex, "proof": key.proof(),
        "created_at": "2026-11-20T09:00:00+08:00",
    }  # fmt: skip
    supervisor = server.api.token("S001")  # only a supervisor (or their approval) registers a key
    registered = server.api.http.post(
        "/api/v1/certificates/keys", json=registration, headers={"Authorization": f"Bearer {supervisor}"}
    )
    assert registered.status_code == 200, registered.text
    assert {a["key_registered"] for a in trail(server, token)} == {True}
    code, listed = back_office(server, "audit", "--json")
    assert code == 0
    assert [(s["station"], s["anchored_seq"], s["alarms"]) for s in listed["stations"]] == [("GXZX", 9, [])]


def test_a_wiped_trail_goes_back_and_raises_an_alarm(server: Served) -> None:
    token = server.api.token()
    push(server, token, head(40))
    # The station's events and head were deleted; its chain starts again from one.
    answer = push(server, token, head(2, variant="new"), [accept("GXZX-20261120-00002")])
    assert answer["results"][0]["status"] == "applied"  # the cases still go through
    assert answer["audit"]["status"] == "rejected" and answer["audit"]["code"] == "audit.rewound"
    assert answer["audit"]["anchored_seq"] == 40 and "40" in answer["audit"]["reason"]
    code, listed = back_office(server, "audit", "--json")
    assert code == 1
    (gxzx,) = listed["stations"]
    assert gxzx["anchored_seq"] == 40
    assert [(a["code"], a["seq"], a["expected_seq"], a["staff_no"]) for a in gxzx["alarms"]] == [
        ("audit.rewound", 2, 40, "C001")
    ]
    text = runner.invoke(hall_app, ["stations", "audit", "--db", server.db_url])
    assert text.exit_code == 1 and "ALARM audit.rewound" in text.stdout


def test_another_hash_at_a_sequence_the_hall_holds_is_a_rewrite(server: Served) -> None:
    token = server.api.token()
    push(server, token, head(10))
    same_seq = push(server, token, head(10, variant="edited"))["audit"]
    assert (same_seq["status"], same_seq["code"], same_seq["expected_seq"]) == (
        "rejected",
        "audit.rewritten",
        10,
    )
    # An edited and recomputed chain that moved on: its hash at the head the hall holds differs.
    moved_on = push(server, token, head(15, variant="edited", links=(10,)))["audit"]
    assert (moved_on["code"], moved_on["expected_seq"]) == ("audit.rewritten", 10)
    # The honest continuation is still accepted: rejected heads never become the baseline.
    assert push(server, token, head(15, links=(10,)))["audit"]["status"] == "accepted"
    statuses = [(a["seq"], a["status"], a["code"]) for a in trail(server, token)]
    assert statuses == [
        (10, "accepted", None),
        (10, "rejected", "audit.rewritten"),
        (15, "rejected", "audit.rewritten"),
        (15, "accepted", None),
    ]


def test_a_head_without_a_link_to_what_the_hall_saw_is_unlinked(server: Served) -> None:
    token = server.api.token()
    push(server, token, head(10))
    answer = push(server, token, head(50))["audit"]
    assert (answer["status"], answer["code"]) == ("rejected", "audit.unlinked")
    # Links to heads the hall never accepted do not tie either.
    assert push(server, token, head(50, links=(12, 20)))["audit"]["code"] == "audit.unlinked"


def test_a_lost_answer_does_not_break_the_tie(server: Served) -> None:
    token = server.api.token()
    push(server, token, head(10))
    push(server, token, head(20, links=(10,)))  # the station never heard this answer...
    # ...so its next head links to 10 (accepted) and 20 (sent, unanswered): both tie.
    assert push(server, token, head(30, links=(10, 20)))["audit"]["status"] == "accepted"
    # Without the accepted one (its record lost), the unanswered head still ties.
    assert push(server, token, head(40, links=(30,)))["audit"]["status"] == "accepted"
    # But a link that ties and one that disagrees is a rewrite.
    answer = push(server, token, head(50, "x", links=(40,)))["audit"]
    assert (answer["code"], answer["expected_seq"]) == ("audit.rewritten", 40)


def test_a_seal_that_does_not_hold_is_an_alarm(server: Served) -> None:
    token = server.api.token()
    forged = head(7)
    forged["hash"] = digest(8)  # the seal signs the hash of 7
    assert push(server, token, forged)["audit"]["code"] == "audit.bad_seal"
    # A key of another station cannot vouch for this one's trail.
    other = head(7, key=station_key("JHYZ1"))
    assert push(server, token, other)["audit"]["code"] == "audit.bad_seal"
    assert [a["status"] for a in trail(server, token)] == ["rejected", "rejected"]


def test_a_reset_starts_a_new_baseline(server: Served) -> None:
    token = server.api.token()
    push(server, token, head(40))
    assert push(server, token, head(3, variant="reinstalled"))["audit"]["code"] == "audit.rewound"
    code, _ = back_office(server, "audit-reset", "GXZX", "--by", "审计科")
    assert code == 0
    assert push(server, token, head(4, variant="reinstalled"))["audit"]["status"] == "accepted"
    code, listed = back_office(server, "audit", "--json")
    assert code == 0 and listed["stations"][0]["anchored_seq"] == 4
    assert listed["stations"][0]["reset_by"] == "审计科"
    assert back_office(server, "audit-reset", "NOPE")[0] == 2


def test_pushes_without_a_head_still_work_and_the_trail_needs_a_token(server: Served) -> None:
    token = server.api.token()
    assert server.api.results(token, [accept("GXZX-20261120-00003")])[0]["status"] == "applied"
    plain = server.api.push(token, [accept("GXZX-20261120-00004")]).json()
    assert "audit" not in plain
    assert trail(server, token) == []
    assert httpx.get(f"{server.url}/api/v1/sync/audit").status_code == 401


def test_a_malformed_head_is_refused_with_the_models_errors(server: Served) -> None:
    token = server.api.token()
    bad = head(3)
    bad["hash"] = "XYZ"
    response = server.api.http.post(
        "/api/v1/sync/push",
        json={"station": "GXZX", "operations": [], "audit": bad},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422 and "audit.hash" in response.json()["error"]["message"]
