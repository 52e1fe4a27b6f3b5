"""Pulling the change feed: the station's own changes and everyone's, in order, paged by cursor."""

from __future__ import annotations

from tests.server.conftest import Served
from tests.server.ops import INSTANT, PARK_INSTANT, accept, transition


def test_paging_by_cursor_returns_every_change_once_in_order(server: Served) -> None:
    api = server.api
    token = api.token()
    ops = []
    for n in range(23):
        case_no = f"GXZX-20261120-{n + 300:05d}"
        ops += [accept(case_no, **INSTANT), transition(case_no, "approve", "accepted")]
    api.results(token, ops[:20])
    api.results(token, ops[20:])
    everything = api.pull(token, 0, 1000).json()
    assert everything["more"] is False
    expected = [c["seq"] for c in everything["changes"]]
    assert len(expected) == 23 and expected == sorted(expected)
    seen, cursor, pages = [], 0, 0
    while True:
        page = api.pull(token, cursor, 5).json()
        pages += 1
        assert len(page["changes"]) <= 5
        seen += [c["seq"] for c in page["changes"]]
        cursor = page["cursor"]
        if not page["more"]:
            break
        assert len(page["changes"]) == 5
    assert seen == expected and pages == 5
    assert cursor == expected[-1]
    empty = api.pull(token, cursor, 5).json()
    assert (empty["changes"], empty["cursor"], empty["more"]) == ([], cursor, False)


def test_a_station_sees_its_own_cases_and_broadcasts_only(server: Served) -> None:
    api = server.api
    hall, park = api.token(), api.token("Y001", "JHYZ1")
    api.results(
        hall,
        [accept("GXZX-20261120-00400", **INSTANT), transition("GXZX-20261120-00400", "approve", "accepted")],
    )
    api.results(
        park,
        [
            accept("JHYZ1-20261120-00001", station="JHYZ1", **PARK_INSTANT),
            transition("JHYZ1-20261120-00001", "refuse", "accepted"),
        ],
        station="JHYZ1",
    )
    assert {c["key"] for c in api.changes(hall)} == {"GXZX-20261120-00400"}
    assert {c["key"] for c in api.changes(park)} == {"JHYZ1-20261120-00001"}
    [change] = api.changes(park)
    assert change["kind"] == "case.state"
    assert change["payload"]["state"] == "refused" and change["payload"]["by"] == "Y001"


def test_the_limit_and_cursor_are_checked(server: Served) -> None:
    api = server.api
    token = api.token()
    beyond_64_bits = ({"after": 2**63}, {"after": 2**64 + 1}, {"after": 10**40}, {"after": -(2**70)})
    for query in ({"after": -1}, {"limit": 0}, {"limit": 5001}, {"after": "x"}, *beyond_64_bits):
        response = api.http.get(
            "/api/v1/sync/changes", params=query, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "request.invalid"
    assert api.pull(token, 0, 5000).status_code == 200
    assert api.pull(token, 2**63 - 1).json()["changes"] == []  # the largest cursor is still one
