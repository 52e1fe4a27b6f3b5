"""Properties of the tolerance check (容缺预审) over the real shipped catalogue, and the
acceptance decision built on it, written to a real SQLite store.

The expected verdict is computed here from DESIGN.md §3's rules, independently of
window_client/services/tolerance.py.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.catalog import Acceptable, MaterialRequirement, catalog_from_dict
from models.enums import ApplicantType, MaterialStatus, Tolerance, VerdictKind
from offline_cache import Store
from window_client.services.acceptance import (
    AcceptanceRequest,
    AcceptanceService,
    Applicant,
    Decision,
    Outcome,
)
from window_client.services.catalog import load_shipped_catalog
from window_client.services.tolerance import (
    ApplicantStanding,
    TolerancePolicy,
    Verdict,
    assess,
)
from window_client.services.workdays import WorkdayCalendar, shipped_arrangements

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CATALOG = load_shipped_catalog()
ENTRIES: list[Acceptable] = [*CATALOG.items.values(), *CATALOG.packages.values()]
ABSENT = "absent"  # the code is not in the presented map at all
STATUSES = [*MaterialStatus, ABSENT]

entries = st.sampled_from(ENTRIES)
# Mostly honest applicants and enabled policies, so that every branch is reached often.
rarely = st.integers(0, 3).map(lambda n: n == 0)
standings = st.builds(ApplicantStanding, rarely, st.integers(0, 3))
policies = st.builds(
    TolerancePolicy,
    enabled=rarely.map(lambda off: not off),
    on_unfulfilled=st.sampled_from(["supervisor", "refuse"]),
)


@st.composite
def checklists(draw: st.DrawFn, entry: Acceptable) -> dict[str, MaterialStatus]:
    """A status for each material of ``entry``; ABSENT leaves the code out of the map.

    Three draws in four keep every core material satisfied, so that tolerable and complete
    verdicts are reached often, not only the 不予受理 of a missing core material.
    """
    core_ok = draw(st.integers(0, 3)) > 0
    presented = {}
    for req in entry.materials:
        if core_ok and req.tolerance is Tolerance.CORE:
            options = [MaterialStatus.PRESENTED]
            if req.e_license:
                options.append(MaterialStatus.E_LICENSE)
            status = draw(st.sampled_from(options))
        else:
            status = draw(st.sampled_from(STATUSES))
        if status != ABSENT:
            presented[req.code] = MaterialStatus(status)
    return presented


@st.composite
def cases(draw: st.DrawFn) -> tuple[Acceptable, dict[str, MaterialStatus]]:
    entry = draw(entries)
    return entry, draw(checklists(entry))


def is_missing(req: MaterialRequirement, presented: dict[str, MaterialStatus]) -> bool:
    status = presented.get(req.code, MaterialStatus.MISSING)
    if status is MaterialStatus.E_LICENSE:
        return req.e_license is None  # nothing on file can stand in for it
    return status is MaterialStatus.MISSING


@dataclass
class Expected:
    kind: VerdictKind
    missing: list[str]
    refusal_codes: set[str]


def expected(
    entry: Acceptable,
    presented: dict[str, MaterialStatus],
    standing: ApplicantStanding,
    policy: TolerancePolicy,
) -> Expected:
    missing = [
        r for r in entry.materials if r.tolerance is not Tolerance.OPTIONAL and is_missing(r, presented)
    ]
    codes = [r.code for r in missing]
    if any(r.tolerance is Tolerance.CORE for r in missing):
        return Expected(VerdictKind.NOT_ACCEPTABLE, codes, {"verdict.core_missing"})
    if not missing:
        return Expected(VerdictKind.COMPLETE, [], set())
    refusals = set()
    if not policy.enabled:
        refusals.add("verdict.tolerance_disabled")
    if standing.dishonest:
        refusals.add("verdict.dishonest")
    if entry.promised.days == 0:
        refusals.add("verdict.no_time")
    if standing.unfulfilled_commitments and policy.on_unfulfilled == "refuse":
        refusals.add("verdict.unfulfilled")
    kind = VerdictKind.NOT_ACCEPTABLE if refusals else VerdictKind.TOLERABLE
    return Expected(kind, codes, refusals)


def summary(verdict: Verdict) -> tuple[object, ...]:
    return (
        verdict.kind,
        [m.code for m in verdict.missing],
        verdict.needs_supervisor,
        [p.code for p in verdict.reasons],
    )


# ------------------------------------------------------------------ the pure check


def test_catalogue_has_every_kind_of_entry_the_properties_need() -> None:
    """Guard: the generators reach instant and promised items, packages, e-licences."""
    assert CATALOG.packages and len(CATALOG.items) > 50
    assert any(e.promised.days == 0 for e in ENTRIES)
    assert any(e.promised.days > 0 for e in ENTRIES)
    materials = [m for e in ENTRIES for m in e.materials]
    assert {m.tolerance for m in materials} == set(Tolerance)
    assert any(m.e_license for m in materials) and any(not m.e_license for m in materials)


@PROPS
@given(cases(), standings, policies)
def test_verdict_follows_the_published_rules(
    case: tuple[Acceptable, dict[str, MaterialStatus]],
    standing: ApplicantStanding,
    policy: TolerancePolicy,
) -> None:
    entry, presented = case
    want = expected(entry, presented, standing, policy)
    verdict = assess(entry, presented, standing, policy)
    assert verdict.kind is want.kind
    # The one-time notice lists everything missing, core and tolerable alike.
    assert [m.code for m in verdict.missing] == want.missing
    if verdict.kind is VerdictKind.NOT_ACCEPTABLE:
        assert want.refusal_codes <= {p.code for p in verdict.reasons}
        assert verdict.reasons
        assert not verdict.needs_supervisor
    if verdict.kind is VerdictKind.COMPLETE:
        assert verdict.missing == () and not verdict.needs_supervisor
    assert verdict.needs_commitment is (verdict.kind is VerdictKind.TOLERABLE)
    # The checklist records every material once, in catalogue order.
    assert [req.code for req, _ in verdict.checklist] == [m.code for m in entry.materials]


@PROPS
@given(cases(), standings, policies)
def test_missing_core_material_is_never_acceptable(
    case: tuple[Acceptable, dict[str, MaterialStatus]],
    standing: ApplicantStanding,
    policy: TolerancePolicy,
) -> None:
    entry, presented = case
    core = [m for m in entry.materials if m.tolerance is Tolerance.CORE]
    # Force one core material missing; everything else as drawn.
    presented = {**presented, core[0].code: MaterialStatus.MISSING}
    verdict = assess(entry, presented, standing, policy)
    assert verdict.kind is VerdictKind.NOT_ACCEPTABLE
    listed = {m.code for m in verdict.missing}
    for req in entry.materials:
        if req.tolerance is not Tolerance.OPTIONAL and is_missing(req, presented):
            assert req.code in listed
    core_reason = next(p for p in verdict.reasons if p.code == "verdict.core_missing")
    assert core[0].name in core_reason.params["names"]


@PROPS
@given(entries, standings, policies, st.data())
def test_nothing_required_missing_is_complete_whatever_the_standing(
    entry: Acceptable, standing: ApplicantStanding, policy: TolerancePolicy, data: st.DataObject
) -> None:
    presented = {}
    for req in entry.materials:
        options = [MaterialStatus.PRESENTED]
        if req.e_license:
            options.append(MaterialStatus.E_LICENSE)
        if req.tolerance is Tolerance.OPTIONAL:
            options += [MaterialStatus.MISSING, ABSENT]
        status = data.draw(st.sampled_from(options))
        if status != ABSENT:
            presented[req.code] = MaterialStatus(status)
    verdict = assess(entry, presented, standing, policy)
    assert verdict.kind is VerdictKind.COMPLETE
    assert verdict.missing == () and verdict.reasons == ()


@PROPS
@given(cases(), standings, policies)
def test_tolerable_only_within_the_rules_and_deadlines_within_the_promise(
    case: tuple[Acceptable, dict[str, MaterialStatus]],
    standing: ApplicantStanding,
    policy: TolerancePolicy,
) -> None:
    entry, presented = case
    verdict = assess(entry, presented, standing, policy)
    if verdict.kind is not VerdictKind.TOLERABLE:
        return
    assert all(m.tolerance is Tolerance.TOLERABLE for m in verdict.missing)
    assert policy.enabled
    assert not standing.dishonest
    assert entry.promised.days > 0
    assert not (standing.unfulfilled_commitments and policy.on_unfulfilled == "refuse")
    requirements = {m.code: m for m in entry.materials}
    for missing in verdict.missing:
        limit = missing.supplement
        assert limit is not None
        assert limit.unit == entry.promised.unit
        assert 0 < limit.days <= entry.promised.days
        declared = requirements[missing.code].supplement
        assert declared is not None
        assert limit.days == min(declared.days, entry.promised.days)
    over = len(verdict.missing) > entry.max_tolerable_missing
    assert verdict.needs_supervisor is (standing.unfulfilled_commitments > 0 or over)
    reasons = {p.code for p in verdict.reasons}
    assert ("verdict.unfulfilled" in reasons) is (standing.unfulfilled_commitments > 0)
    assert ("verdict.too_many_missing" in reasons) is over


def _stretched_catalogue(extra: int) -> list[Acceptable]:
    """The shipped catalogue with every 补正 period set beyond the item's promised limit."""
    raw = copy.deepcopy(dict(CATALOG.raw))
    for item in raw["items"]:
        for material in item["materials"]:
            if material["tolerance"] == "tolerable":
                material["supplement_days"] = item["promised"]["days"] + extra
    stretched = catalog_from_dict(raw)
    return [*stretched.items.values(), *stretched.packages.values()]


STRETCHED = {extra: _stretched_catalogue(extra) for extra in (1, 7, 30)}


@PROPS
@given(st.sampled_from(sorted(STRETCHED)), st.data(), standings, policies)
def test_supplement_deadline_never_exceeds_the_promise_even_if_the_catalogue_says_so(
    extra: int, data: st.DataObject, standing: ApplicantStanding, policy: TolerancePolicy
) -> None:
    entry = data.draw(st.sampled_from(STRETCHED[extra]))
    presented = data.draw(checklists(entry))
    verdict = assess(entry, presented, standing, policy)
    declared = {m.code: m.supplement for m in entry.materials}
    for missing in verdict.missing_tolerable:
        limit, stated = missing.supplement, declared[missing.code]
        assert limit is not None and stated is not None
        assert limit.unit == entry.promised.unit
        assert limit.days <= entry.promised.days
        assert limit.days == min(stated.days, entry.promised.days)  # capped, not dropped


@PROPS
@given(cases(), standings, policies, st.data())
def test_e_license_status_without_an_e_licence_counts_as_missing(
    case: tuple[Acceptable, dict[str, MaterialStatus]],
    standing: ApplicantStanding,
    policy: TolerancePolicy,
    data: st.DataObject,
) -> None:
    entry, presented = case
    req = data.draw(st.sampled_from(entry.materials))
    with_e = assess(entry, {**presented, req.code: MaterialStatus.E_LICENSE}, standing, policy)
    stand_in = MaterialStatus.PRESENTED if req.e_license else MaterialStatus.MISSING
    baseline = assess(entry, {**presented, req.code: stand_in}, standing, policy)
    assert summary(with_e) == summary(baseline)
    if not req.e_license and req.tolerance is not Tolerance.OPTIONAL:
        assert req.code in [m.code for m in with_e.missing]


@PROPS
@given(cases(), standings, policies, st.data())
def test_optional_materials_never_affect_the_verdict(
    case: tuple[Acceptable, dict[str, MaterialStatus]],
    standing: ApplicantStanding,
    policy: TolerancePolicy,
    data: st.DataObject,
) -> None:
    entry, presented = case
    changed = dict(presented)
    for req in entry.materials:
        if req.tolerance is Tolerance.OPTIONAL:
            status = data.draw(st.sampled_from(STATUSES))
            changed.pop(req.code, None)
            if status != ABSENT:
                changed[req.code] = MaterialStatus(status)
    assert summary(assess(entry, changed, standing, policy)) == summary(
        assess(entry, presented, standing, policy)
    )


def test_package_asks_shared_materials_once() -> None:
    for package in CATALOG.packages.values():
        codes = [m.code for m in package.materials]
        assert len(codes) == len(set(codes)), package.code
        wanted = {m.code for item in package.items for m in item.materials}
        assert set(codes) == wanted, package.code


# ------------------------------------------------------------------ the decision, written

TODAY = dt.date(2026, 3, 2)  # a Monday of a known year
ID = "61011319850505001X"  # ISO 7064 MOD 11-2 check character X


@pytest.fixture
def service(tmp_path: Path) -> Iterator[AcceptanceService]:
    store = Store(tmp_path / "s.db")
    yield AcceptanceService(
        store,
        CATALOG,
        WorkdayCalendar.from_arrangements(shipped_arrangements()),
        CATALOG.stations["GXZX"],
        "C001",
    )
    store.close()


def _request(missing: set[str], commitment: bool, item: str = "RS-008") -> AcceptanceRequest:
    entry = CATALOG.items[item]
    presented = {
        m.code: MaterialStatus.PRESENTED
        for m in entry.materials
        if m.tolerance is not Tolerance.OPTIONAL and m.code not in missing
    }
    return AcceptanceRequest(
        item, Applicant(ApplicantType.PERSON, ID, "王芳", "13912345678"), presented, commitment
    )


def _rows(service: AcceptanceService, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(service.store.path) as conn:
        return conn.execute(sql, args).fetchall()


def test_id_fixture_is_valid() -> None:
    from models.identity import check_person_id

    assert check_person_id(ID) == (ID, None)


def test_tolerable_without_commitment_is_not_accepted(service: AcceptanceService) -> None:
    request = _request({"BANK_CARD"}, commitment=False)
    decision = service.decide(request, TODAY)
    assert decision.outcome is Outcome.NOT_ACCEPTED
    assert "verdict.no_commitment" in [p.code for p in decision.problems]
    assert decision.verdict is not None and decision.verdict.kind is VerdictKind.TOLERABLE
    service.commit([decision], TODAY)
    [(state, reasons, commitment, supplement_due, due)] = _rows(
        service,
        "SELECT state, reasons, commitment, supplement_due, due_date FROM cases WHERE case_no = ?",
        decision.case_no,
    )
    assert state == "not_accepted"
    assert "verdict.no_commitment" in [r["code"] for r in json.loads(str(reasons))]
    assert commitment == 0 and supplement_due is None and due is None
    assert _rows(
        service,
        "SELECT code, status FROM case_materials WHERE case_no = ? AND code = 'BANK_CARD'",
        decision.case_no,
    ) == [("BANK_CARD", "missing")]


def _needs_supervisor(how: str) -> tuple[AcceptanceRequest, ApplicantStanding]:
    if how == "too_many_missing":  # RS-008 allows 1 missing; both tolerable ones are missing
        return _request({"BANK_CARD", "SSC"}, commitment=True), ApplicantStanding()
    return _request({"BANK_CARD"}, commitment=True), ApplicantStanding(unfulfilled_commitments=1)


@pytest.mark.parametrize("how", ["too_many_missing", "unfulfilled"])
def test_tolerance_beyond_policy_waits_for_the_supervisor(service: AcceptanceService, how: str) -> None:
    request, standing = _needs_supervisor(how)
    waiting = service.decide(request, TODAY, standing, approved_by=None)
    assert waiting.outcome is Outcome.NEEDS_APPROVAL
    assert waiting.case is None
    assert "verdict.needs_supervisor" in [p.code for p in waiting.problems]
    service.commit([waiting], TODAY)
    assert _rows(service, "SELECT COUNT(*) FROM cases") == [(0,)]  # nothing written
    assert _rows(service, "SELECT COUNT(*) FROM outbox") == [(0,)]


@pytest.mark.parametrize("how", ["too_many_missing", "unfulfilled"])
def test_supervisor_approval_is_recorded_on_the_case(service: AcceptanceService, how: str) -> None:
    request, standing = _needs_supervisor(how)
    approved: Decision = service.decide(request, TODAY, standing, approved_by="S001")
    assert approved.outcome is Outcome.ACCEPTED_TOLERATED
    service.commit([approved], TODAY)
    assert approved.case_no is not None
    [(state, approved_by, commitment, supplement_due, due)] = _rows(
        service,
        "SELECT state, approved_by, commitment, supplement_due, due_date FROM cases WHERE case_no = ?",
        approved.case_no,
    )
    assert (state, approved_by, commitment) == ("accepted_tolerated", "S001", 1)
    # BANK_CARD/SSC: 4 workdays after Monday 2026-03-02 is Friday 2026-03-06.
    assert supplement_due == "2026-03-06"
    assert due is None  # the due-date clock waits for 补正
    [(payload,)] = _rows(
        service, "SELECT payload FROM outbox WHERE case_no = ? AND kind = 'case.accept'",
        approved.case_no,
    )  # fmt: skip
    assert json.loads(str(payload))["approved_by"] == "S001"
    [(detail,)] = _rows(
        service,
        "SELECT detail FROM audit_events WHERE subject = ? AND action = 'case.accepted_tolerated'",
        approved.case_no,
    )
    assert json.loads(str(detail))["approved_by"] == "S001"
