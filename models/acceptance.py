"""Acceptance rules shared by the counter and the hall.

The counter decides a case with these rules (window_client/services/acceptance.py); the hall
runs them again on every pushed ``case.accept`` (:func:`check_accept`), so a station cannot
record what its own client would never have produced: an unknown item or one its station may
not accept, an invalid ID or name, a state that does not follow from the materials presented,
a deadline the item's limits do not give, a tolerance beyond policy without a supervisor, or a
case number of another station.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from models.catalog import Acceptable, Catalog, Station
from models.enums import ApplicantType, CaseState, MaterialStatus, VerdictKind
from models.identity import check_applicant_id, check_name, check_person_id
from models.identity_check import check_identity_fields
from models.problems import Problem
from models.tolerance import DEFAULT_POLICY, ApplicantStanding, Verdict, assess
from models.workdays import WorkdayCalendar

# <station>-<yyyymmdd>-<sequence>: unique without asking a server (offline_cache.repositories).
CASE_NO = re.compile(r"([A-Z0-9]{1,16})-([0-9]{8})-([0-9]{5,9})")
_STATUSES = frozenset(status.value for status in MaterialStatus)
_VERDICTS = frozenset(kind.value for kind in VerdictKind)
_FIELD_ZH = {"accepted_on": "受理日期", "due_date": "办结期限", "supplement_due": "补正期限"}


# ------------------------------------------------------------------ rules the counter runs


def entry_problems(catalog: Catalog, station: Station, code: str) -> tuple[Acceptable | None, list[Problem]]:
    """The item or package ``code`` and why ``station`` may not accept it (if it may not)."""
    entry = catalog.get(code)
    if entry is None:
        return None, [Problem("item.unknown", {"code": code[:40]})]
    if not station.accepts(entry.code):
        return entry, [Problem("item.not_at_station", {"code": entry.code})]
    return entry, []


def material_problems(entry: Acceptable, codes: Iterable[str]) -> list[Problem]:
    """Presented materials ``entry`` does not ask for."""
    known = {m.code for m in entry.materials}
    return [
        Problem("material.unknown", {"code": code[:40], "item": entry.code})
        for code in codes
        if code not in known
    ]


def accept_state(
    verdict: Verdict, commitment: bool, approved: bool
) -> tuple[CaseState | None, tuple[Problem, ...]]:
    """The state a verdict gives a case, and the reasons to add to the verdict's.

    ``None`` when the verdict needs a supervisor who has not approved yet. Tolerance needs the
    applicant's commitment; without it, the case is 不予受理.
    """
    if verdict.kind is VerdictKind.COMPLETE:
        return CaseState.ACCEPTED, ()
    if verdict.kind is VerdictKind.NOT_ACCEPTABLE:
        return CaseState.NOT_ACCEPTED, ()
    if not commitment:
        return CaseState.NOT_ACCEPTED, (Problem("verdict.no_commitment"),)
    if verdict.needs_supervisor and not approved:
        return None, (Problem("verdict.needs_supervisor"),)
    return CaseState.ACCEPTED_TOLERATED, ()


def case_number(station: str, day: dt.date, sequence: int) -> str:
    """Station code + date + station sequence: unique without asking a server."""
    return f"{station}-{day.strftime('%Y%m%d')}-{sequence:05d}"


# ------------------------------------------------------------------ the hall's check


@dataclass(frozen=True, slots=True)
class AcceptCheck:
    """What the hall found in a ``case.accept``.

    ``problem`` is the refusal (``None``: nothing wrong); ``approval_needed`` lists why the case
    was tolerated beyond policy, when it was: the operation then needs a supervisor's signed
    approval (:class:`models.approval.Approval`, act ``case.tolerate``).
    """

    problem: Problem | None = None
    approval_needed: tuple[Problem, ...] = ()


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def check_accept(
    payload: Mapping[str, Any],
    case_no: str,
    owner: str | None,
    catalog: Catalog,
    calendar: WorkdayCalendar,
    standing: ApplicantStanding,
    memo: dict[tuple[object, ...], AcceptCheck] | None = None,
) -> AcceptCheck:
    """Check a ``case.accept`` payload as the counter decides a case.

    ``owner`` is the pushing station (``None`` for the back office, which may number a case for
    any station); ``calendar`` knows the hall's holiday arrangements; ``standing`` is the
    applicant's record at every station. The payload's station and the shape of its fields are
    the caller's to check first. Any date is accepted (``--today`` may date a batch), as long as
    the case number and the deadlines agree with it.

    ``memo`` (one dict per catalogue and calendar, e.g. per pushed batch) remembers the
    decision of each combination of item, materials, standing, state and dates that passed:
    a day's outbox repeats a few of them thousands of times. The case's own fields (number,
    applicant) are checked every time.
    """
    try:
        accepted_on = _date(payload, "accepted_on", case_no, required=True)
        assert accepted_on is not None  # required: a missing date is refused
        _check_number(case_no, owner, accepted_on)
        _check_applicant(payload, case_no)
        if (identity_problem := check_identity_fields(payload, case_no)) is not None:
            _invalid(case_no, identity_problem)
        key = _decision_key(payload, standing) if memo is not None else None
        if key is None:
            return _decide(payload, case_no, catalog, calendar, standing, accepted_on)
        assert memo is not None
        found = memo.get(key)
        if found is None:
            found = memo[key] = _decide(payload, case_no, catalog, calendar, standing, accepted_on)
        return found
    except _Refused as refused:
        return AcceptCheck(refused.problem)


_DECISION_FIELDS = ("station", "item_code", "state", "verdict", "accepted_on", "due_date", "supplement_due")


def _decision_key(payload: Mapping[str, Any], standing: ApplicantStanding) -> tuple[object, ...] | None:
    """What :func:`_decide` reads, as a key; ``None`` when it cannot be one (such a payload is
    decided afresh, and refused there).

    Only decisions that passed are remembered, and theirs hold text only (the materials as
    pairs of text): a key equal to one of them is made of the same text.
    """
    listed = payload.get("materials")
    if type(listed) is not list:
        return None
    try:
        materials = tuple([tuple(pair) if type(pair) is list else None for pair in listed])
        key = (*[payload.get(name) for name in _DECISION_FIELDS], materials, standing)
        hash(key)
    except TypeError:  # a dict or a list where text belongs
        return None
    return key


def _decide(
    payload: Mapping[str, Any],
    case_no: str,
    catalog: Catalog,
    calendar: WorkdayCalendar,
    standing: ApplicantStanding,
    accepted_on: dt.date,
) -> AcceptCheck:
    """The verdict, state and deadlines the counter's rules give this payload's materials."""
    entry = _check_entry(payload, case_no, catalog)
    verdict = assess(entry, _presented(payload, case_no, entry), standing, DEFAULT_POLICY)
    state = CaseState(payload["state"])
    _check_state(payload, case_no, verdict, state)
    _check_deadlines(payload, case_no, entry, verdict, state, accepted_on, calendar)
    if state is CaseState.ACCEPTED_TOLERATED and verdict.needs_supervisor:
        return AcceptCheck(approval_needed=verdict.reasons)
    return AcceptCheck()


def _invalid(case_no: str, problem: Problem) -> NoReturn:
    raise _Refused(
        Problem("accept.invalid", {"case_no": case_no, "problem": problem.zh(), "problem_en": problem.en()})
    )


def _malformed(field: str) -> NoReturn:
    raise _Refused(Problem("op.invalid", {"field": field}))


def _field(name: str) -> dict[str, str]:
    return {"field": _FIELD_ZH.get(name, name), "field_en": name}


def _date(payload: Mapping[str, Any], name: str, case_no: str, required: bool = False) -> dt.date | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    _invalid(case_no, Problem("accept.date_invalid", {**_field(name), "value": str(value)[:40]}))


def _check_number(case_no: str, owner: str | None, accepted_on: dt.date) -> None:
    """A case number of the pushing station, dated the day the case was accepted."""
    match = CASE_NO.fullmatch(case_no)
    if match is None:
        why = ("格式应为“站点代码-年月日-序号”", "it must read <station>-<yyyymmdd>-<sequence>")
    elif owner is not None and match[1] != owner:
        why = (f"编号前缀{match[1]}不是本站（{owner}）的站点代码", f"its prefix is not station {owner}")
    elif match[2] != f"{accepted_on.year:04d}{accepted_on.month:02d}{accepted_on.day:02d}":
        why = (
            f"编号中的日期{match[2]}与受理日期{accepted_on.isoformat()}不一致",
            f"its date {match[2]} is not the acceptance date {accepted_on.isoformat()}",
        )
    else:
        return
    raise _Refused(Problem("case.number_invalid", {"case_no": case_no, "why": why[0], "why_en": why[1]}))


def _check_entry(payload: Mapping[str, Any], case_no: str, catalog: Catalog) -> Acceptable:
    station = catalog.stations.get(str(payload["station"]))
    if station is None:
        _invalid(case_no, Problem("station.unknown", {"station": str(payload["station"])[:40]}))
    entry, problems = entry_problems(catalog, station, str(payload["item_code"]))
    if problems or entry is None:
        _invalid(case_no, problems[0])
    return entry


def _check_applicant(payload: Mapping[str, Any], case_no: str) -> None:
    raw_type = payload["applicant_type"]
    if raw_type not in (ApplicantType.PERSON.value, ApplicantType.ORG.value):
        _malformed("applicant_type")
    kind = ApplicantType(raw_type)
    raw_id = str(payload["applicant_id"])
    number, problem = check_applicant_id(kind, raw_id)
    if problem is None and number != raw_id:
        # The hall keys standings by the number: another spelling of it would start afresh.
        problem = Problem("id.format" if kind is ApplicantType.PERSON else "uscc.format")
    problem = problem or check_name(str(payload["applicant_name"]), kind)
    agent = payload.get("agent_id")
    if problem is None and agent is not None:
        number, problem = check_person_id(agent) if isinstance(agent, str) else ("", Problem("id.format"))
        if problem is None and number != agent:
            problem = Problem("id.format")
    if problem is not None:
        _invalid(case_no, problem)


def _presented(payload: Mapping[str, Any], case_no: str, entry: Acceptable) -> dict[str, MaterialStatus]:
    listed = payload.get("materials")
    if not isinstance(listed, list):
        _malformed("materials")
    presented: dict[str, MaterialStatus] = {}
    for pair in listed:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            _malformed("materials")
        code, status = pair
        if not isinstance(status, str) or status not in _STATUSES or code in presented:
            _malformed("materials")
        presented[code] = MaterialStatus(status)
    problems = material_problems(entry, presented)
    if problems:
        _invalid(case_no, problems[0])
    return presented


def _check_state(payload: Mapping[str, Any], case_no: str, verdict: Verdict, state: CaseState) -> None:
    """The state must be one the counter reaches from this verdict (with or without the
    applicant's commitment), and the payload's own verdict must agree with it."""
    claimed = payload.get("verdict")
    if not isinstance(claimed, str) or claimed not in _VERDICTS:
        _malformed("verdict")
    reachable = {accept_state(verdict, commitment, True)[0] for commitment in (False, True)}
    fits = {
        CaseState.ACCEPTED: {VerdictKind.COMPLETE},
        CaseState.ACCEPTED_TOLERATED: {VerdictKind.TOLERABLE},
        CaseState.NOT_ACCEPTED: {VerdictKind.TOLERABLE, VerdictKind.NOT_ACCEPTABLE},
    }
    if state in reachable and claimed in fits[state]:
        return
    if state not in reachable:
        why, why_en = _why(verdict)
    else:
        why, why_en = f"受理结论“{claimed}”与状态不符", f"verdict {claimed} does not fit the state"
    raise _Refused(
        Problem(
            "accept.inconsistent",
            {"case_no": case_no, "state": state.value, "why": why, "why_en": why_en},
        )
    )


def _why(verdict: Verdict) -> tuple[str, str]:
    """Why a verdict does not give the claimed state, in words staff understand."""
    if verdict.reasons:
        return "；".join(p.zh() for p in verdict.reasons), "; ".join(p.en() for p in verdict.reasons)
    if verdict.missing:
        names = "、".join(m.name for m in verdict.missing)
        codes = ", ".join(m.code for m in verdict.missing)
        return f"缺少材料：{names}", f"materials missing: {codes}"
    return "材料齐全，应予受理", "every material was presented: the case is to be accepted"


def _check_deadlines(
    payload: Mapping[str, Any],
    case_no: str,
    entry: Acceptable,
    verdict: Verdict,
    state: CaseState,
    accepted_on: dt.date,
    calendar: WorkdayCalendar,
) -> None:
    """The counter sets a due date on an accepted case and a 补正 deadline on a tolerated one
    (the due-date clock waits for 补正), each as the item's limits give it."""
    expected: dict[str, tuple[dt.date, dt.date] | None] = {"due_date": None, "supplement_due": None}
    if state is CaseState.ACCEPTED:
        expected["due_date"] = calendar.due_range(accepted_on, entry.promised)
    elif state is CaseState.ACCEPTED_TOLERATED:
        ranges = [
            calendar.due_range(accepted_on, m.supplement) for m in verdict.missing_tolerable if m.supplement
        ]
        expected["supplement_due"] = (min(r[0] for r in ranges), min(r[1] for r in ranges))
    for name, bounds in expected.items():
        day = _date(payload, name, case_no)
        if bounds is None and day is None:
            continue
        if bounds is None or day is None:
            code = "accept.date_unexpected" if bounds is None else "accept.date_missing"
            _invalid(case_no, Problem(code, _field(name)))
        if not bounds[0] <= day <= bounds[1]:
            params = {**_field(name), "value": day.isoformat(), "earliest": bounds[0].isoformat()}
            _invalid(case_no, Problem("accept.date_range", {**params, "latest": bounds[1].isoformat()}))
