"""The hall's per-batch memo of accept decisions (``check_accept(..., memo=...)``) never changes
an answer: a batch of valid accepts and their mutations (another state, verdict, date, item,
material status, standing, a value of the wrong type) checked in any order through one memo is
answered exactly as each is answered alone."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain import reference
from models.acceptance import AcceptCheck, check_accept
from models.tolerance import ApplicantStanding
from models.workdays import WorkdayCalendar
from tests.server.ops import accept_payload

CATALOG = reference.shipped_catalog()
CALENDAR = WorkdayCalendar.from_arrangements(reference.shipped_arrangements())
STATES = ("accepted", "accepted_tolerated", "not_accepted")
ITEMS = ("SCJG-001", "SCJG-002", "SCJG-007", "RS-006")
STANDINGS = (ApplicantStanding(), ApplicantStanding(unfulfilled_commitments=1), ApplicantStanding(True))
ODD_VALUES = (None, 7, 7.0, True, [], {"x": 1}, "", "2026-11-2", "presented")


def _mutated(payload: dict[str, Any], draw: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    field = draw(
        st.sampled_from(("state", "verdict", "due_date", "supplement_due", "item_code", "materials", "odd"))
    )
    if field == "materials" and changed["materials"]:
        index = draw(st.integers(0, len(changed["materials"]) - 1))
        status = draw(st.sampled_from(("presented", "missing", "e_license", "bogus")))
        changed["materials"][index] = [changed["materials"][index][0], status]
    elif field == "odd":
        name = draw(st.sampled_from(("state", "verdict", "item_code", "due_date", "materials", "station")))
        changed[name] = draw(st.sampled_from(ODD_VALUES))
    elif field in ("due_date", "supplement_due"):
        changed[field] = draw(st.sampled_from((None, "2026-11-20", "2026-11-27", "2026-12-11")))
    elif field == "item_code":
        changed[field] = draw(st.sampled_from(ITEMS))
    else:
        changed[field] = draw(st.sampled_from(STATES if field == "state" else ("complete", "tolerable")))
    return changed


def _alone(payload: dict[str, Any], case_no: str, standing: ApplicantStanding) -> AcceptCheck | str:
    try:
        return check_accept(payload, case_no, "GXZX", CATALOG, CALENDAR, standing)
    except (KeyError, ValueError) as exc:  # shapes the hall's rules refuse before this check
        return type(exc).__name__


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_the_memo_answers_every_accept_as_it_is_answered_alone(data: st.DataObject) -> None:
    memo: dict[tuple[object, ...], AcceptCheck] = {}
    batch = []
    for n in range(data.draw(st.integers(2, 12))):
        case_no = f"GXZX-20261120-{n + 1:05d}"
        state = data.draw(st.sampled_from(STATES))
        items = ITEMS[:2] if state == "accepted_tolerated" else ITEMS[:3]  # LEASE may be missing
        base = accept_payload(case_no, state=state, item_code=data.draw(st.sampled_from(items)))
        payload = _mutated(base, data.draw) if data.draw(st.booleans()) else base
        batch.append((payload, case_no, data.draw(st.sampled_from(STANDINGS))))
    batch = data.draw(st.permutations(batch + batch))  # every accept twice, in any order
    passed = False
    for payload, case_no, standing in batch:
        expected = _alone(payload, case_no, standing)
        passed = (
            passed
            or expected == AcceptCheck()
            or (isinstance(expected, AcceptCheck) and not expected.problem)
        )
        try:
            found: AcceptCheck | str = check_accept(
                payload, case_no, "GXZX", CATALOG, CALENDAR, standing, memo
            )
        except (KeyError, ValueError) as exc:
            found = type(exc).__name__
        assert found == expected
    # Only decisions that passed are remembered, and every one that passed is.
    assert bool(memo) == passed
    assert all(found.problem is None for found in memo.values())
