"""Applicant standing (一处失信，处处受限): every station learns an applicant's open and broken promises."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.server.conftest import Served
from tests.server.ops import INSTANT, accept, person_id, signed, transition

APPLICANT = person_id("61011319900307001")


def standings(api: Any, token: str) -> list[dict[str, Any]]:
    return [c["payload"] for c in api.changes(token) if c["kind"] == "applicant.standing"]


def test_commitments_are_announced_to_every_station(server: Served) -> None:
    api = server.api
    hall = api.token()
    park = api.token("Y001", "JHYZ1")
    first, second = "GXZX-20261120-00201", "GXZX-20261120-00202"
    api.results(
        hall,
        [
            accept(first, state="accepted_tolerated", applicant_id=APPLICANT),
            accept(second, state="accepted_tolerated", applicant_id=APPLICANT),
        ],
    )
    seen = standings(api, park)  # another station sees it: the audience is every station
    assert seen[-1] == {
        "applicant_id": APPLICANT,
        "station": "GXZX",
        "open_commitments": 2,
        "unfulfilled_commitments": 0,
        "dishonest": False,
    }
    api.results(hall, [transition(first, "supplement", "accepted_tolerated")])
    supervisor = api.token("S001")
    approval = signed(second)
    api.results(supervisor, [transition(second, "terminate", "accepted_tolerated", approval=approval)])
    seen = standings(api, park)
    assert [(s["open_commitments"], s["unfulfilled_commitments"]) for s in seen] == [(2, 0), (1, 0), (0, 1)]
    assert seen == standings(api, hall)


def test_an_unchanged_standing_is_not_announced_again(server: Served) -> None:
    api = server.api
    token = api.token()
    case_no = "GXZX-20261120-00203"
    api.results(
        token,
        [accept(case_no, applicant_id=APPLICANT, **INSTANT), transition(case_no, "approve", "accepted")],
    )
    assert standings(api, token) == []  # a complete acceptance is no commitment
    tolerated = "GXZX-20261120-00204"
    api.results(
        token,
        [
            accept(tolerated, state="accepted_tolerated", applicant_id=APPLICANT),
            transition(tolerated, "supplement", "accepted_tolerated"),  # fulfilled in the same batch
        ],
    )
    assert standings(api, token) == []


def test_standings_follow_the_folded_state_when_a_conflict_is_resolved(server: Served) -> None:
    api = server.api
    supervisor = api.token("S001")
    case_no = "GXZX-20261120-00205"
    api.results(
        supervisor,
        [
            accept(case_no, state="accepted_tolerated", applicant_id=APPLICANT),
            transition(case_no, "supplement", "accepted_tolerated"),
        ],
    )
    # A termination recorded elsewhere arrives later: it takes precedence over the 补正.
    terminate = transition(case_no, "terminate", "accepted_tolerated", approval=signed(case_no))
    api.results(supervisor, [terminate])
    last = standings(api, supervisor)[-1]
    assert (last["open_commitments"], last["unfulfilled_commitments"]) == (0, 1)
    with server.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT open_commitments, unfulfilled_commitments FROM standings WHERE applicant_id = :a"),
            {"a": APPLICANT},
        ).one()
        recomputed = conn.execute(
            text(
                "SELECT SUM(CASE WHEN state = 'accepted_tolerated' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN state = 'terminated' AND accept_state = 'accepted_tolerated'"
                " THEN 1 ELSE 0 END)"
                " FROM cases WHERE applicant_id = :a"
            ),
            {"a": APPLICANT},
        ).one()
    assert tuple(stored) == tuple(recomputed) == (0, 1)
