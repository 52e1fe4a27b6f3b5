"""The hall's check of a ``case.accept`` (models.acceptance.check_accept) passes everything the
counter's own AcceptanceService writes, over the real catalogue, stations, policies, standings,
dates and calendars; and a signed approval travels with a tolerance beyond policy.

The client side is real: decisions are committed to a real SQLite store and the payload is read
back from its outbox. The hall side is the hall's own catalogue and holiday copies.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hall_server.domain import reference
from models.acceptance import check_accept
from models.approval import Approval, ApprovalAct, check_approval, derive_approval_key
from models.catalog import Acceptable
from models.enums import ApplicantType, MaterialStatus, Role, Tolerance
from models.identity_check import IdentityCheck, IdentityMethod
from models.workdays import WorkdayCalendar
from offline_cache import Store
from tests.unit.test_props_tolerance import CATALOG, checklists, policies, standings
from window_client.services.acceptance import (
    WRITTEN,
    AcceptanceRequest,
    AcceptanceService,
    Applicant,
    Outcome,
)
from window_client.services.samples import credit_code, org_name, person_id, person_name
from window_client.services.staff import StaffMember
from window_client.services.tolerance import ApplicantStanding, TolerancePolicy
from window_client.services.workdays import shipped_arrangements

PROPS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SHIPPED = shipped_arrangements()
HALL_CATALOG = reference.shipped_catalog()
HALL_CALENDAR = WorkdayCalendar.from_arrangements(reference.shipped_arrangements())
STATIONS = sorted(CATALOG.stations)


@functools.cache
def _calendar(years: frozenset[int]) -> WorkdayCalendar:
    """A station's calendar knowing only ``years`` of the shipped arrangements (it may not have
    pulled them all): weekends-only for the rest."""
    return WorkdayCalendar.from_arrangements(a for a in SHIPPED if a.year in years)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store(tmp_path_factory.mktemp("accept-check") / "station.db")
    yield opened
    opened.close()


def _payload(store: Store, case_no: str) -> dict[str, object]:
    with sqlite3.connect(store.path) as conn:
        [(text,)] = conn.execute(
            "SELECT payload FROM outbox WHERE case_no = ? AND kind = 'case.accept'", (case_no,)
        ).fetchall()
    data: dict[str, object] = json.loads(str(text))
    return data


@st.composite
def requests(draw: st.DrawFn, entry: Acceptable) -> AcceptanceRequest:
    rng = random.Random(draw(st.integers(0, 2**32)))
    if draw(st.booleans()):
        applicant = Applicant(ApplicantType.PERSON, person_id(rng), person_name(rng))
    else:
        applicant = Applicant(ApplicantType.ORG, credit_code(rng), org_name(rng))
    # How the applicant was identified: an agent brings the 授权委托书; otherwise any other check.
    identity = IdentityCheck(
        draw(st.sampled_from([m for m in IdentityMethod if m is not IdentityMethod.AGENT]))
    )
    if draw(st.integers(0, 4)) == 0:
        applicant = Applicant(
            applicant.type, applicant.id, applicant.name, "", person_name(rng), person_id(rng)
        )
        identity = IdentityCheck(IdentityMethod.AGENT, power_of_attorney=True)
    return AcceptanceRequest(
        entry.code,
        applicant,
        draw(checklists(entry)),
        commitment=draw(st.booleans()),
        identity=identity,
        assisted=draw(st.booleans()),
    )


@PROPS
@given(
    st.sampled_from(STATIONS),
    st.data(),
    st.one_of(st.just(ApplicantStanding()), standings),  # clean often: plain tolerance is reached
    policies,
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)),
    st.frozensets(st.sampled_from([a.year for a in SHIPPED])),
)
def test_whatever_the_counter_writes_the_hall_accepts(
    store: Store,
    station_code: str,
    data: st.DataObject,
    standing: ApplicantStanding,
    policy: TolerancePolicy,
    today: dt.date,
    known_years: frozenset[int],
) -> None:
    station = CATALOG.stations[station_code]
    entry = data.draw(st.sampled_from(CATALOG.acceptable_at(station)))
    request = data.draw(requests(entry))
    service = AcceptanceService(
        store, CATALOG, _calendar(known_years), station, "C001", policy=policy, max_unsynced_days=0
    )
    decision = service.decide(request, today, standing)
    if decision.outcome is Outcome.NEEDS_APPROVAL:
        decision = service.decide(request, today, standing, approved_by="S001")
    assert decision.outcome in WRITTEN, decision.problems
    service.commit([decision], today)
    assert decision.case_no is not None
    payload = _payload(store, decision.case_no)

    found = check_accept(payload, decision.case_no, station_code, HALL_CATALOG, HALL_CALENDAR, standing)
    assert found.problem is None, found.problem.zh()
    beyond = decision.outcome is Outcome.ACCEPTED_TOLERATED and bool(
        decision.verdict and decision.verdict.needs_supervisor
    )
    assert bool(found.approval_needed) == beyond
    event(f"{decision.outcome.value}{' beyond policy' if beyond else ''}")
    # Another station may not hold this number, whatever else is right.
    other = next(code for code in STATIONS if code != station_code)
    assert (
        check_accept(payload, decision.case_no, other, HALL_CATALOG, HALL_CALENDAR, standing).problem
        is not None
    )


def test_a_tolerance_beyond_policy_carries_the_supervisors_signed_approval(store: Store) -> None:
    """The approval is signed for the number the case gets at the commit, at the station."""
    entry = CATALOG.items["RS-008"]  # allows one missing material; both tolerable ones missing
    presented = {m.code: MaterialStatus.PRESENTED for m in entry.materials if m.tolerance is Tolerance.CORE}
    applicant = Applicant(ApplicantType.PERSON, person_id(random.Random(3)), "王芳")
    request = AcceptanceRequest(entry.code, applicant, presented, commitment=True)
    station = CATALOG.stations["GXZX"]
    key = derive_approval_key("S001", "demo-5678")
    supervisor = StaffMember("S001", "王强", Role.SUPERVISOR, "GXZX", key)
    service = AcceptanceService(store, CATALOG, _calendar(frozenset()), station, "C001", max_unsynced_days=0)
    decision = service.accept(request, dt.date(2026, 3, 2), approver=supervisor)
    assert decision.outcome is Outcome.ACCEPTED_TOLERATED and decision.case_no
    payload = _payload(store, decision.case_no)
    assert payload["approved_by"] == "S001"
    approval = Approval.from_dict(payload["approval"])
    assert approval is not None and approval.by == "S001"
    assert check_approval(approval, ApprovalAct.TOLERATE, decision.case_no, "GXZX", [key.public_hex])
    with sqlite3.connect(store.path) as conn:
        [(recorded,)] = conn.execute(
            "SELECT approved_by FROM cases WHERE case_no = ?", (decision.case_no,)
        ).fetchall()
    assert recorded == "S001"  # kept on the local record too
