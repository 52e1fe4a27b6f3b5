"""好差评 and 差评整改 rules (models/rating.py, models/rectification.py), with Hypothesis where
inputs vary."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.enums import Flag, Role
from models.problems import DomainError
from models.rating import (
    LEVEL_ZH,
    TEXT_LIMIT,
    RatedCase,
    RatingFact,
    Reason,
    check_rating,
    evaluation_code,
    good_rate,
    hmac_sm3,
    is_bad,
    normalize_code,
    tally,
)
from models.rectification import (
    RECTIFY_LIMIT,
    RectificationState,
    Step,
    check_note,
    due_dates,
    flag_of,
    may_act,
    next_state,
)
from models.workdays import deadline_flag
from window_client.services.workdays import WorkdayCalendar, shipped_arrangements

PROPS = settings(max_examples=150, deadline=None)
CAL = WorkdayCalendar.from_arrangements(shipped_arrangements())
KEY = bytes(range(32))


def code_of(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.problem.code


# ---------------------------------------------------------------- levels, reasons, text


@pytest.mark.parametrize("level", [5, 4, 3])
def test_good_levels_take_no_reasons(level: int) -> None:
    assert check_rating(level).level == level
    with pytest.raises(DomainError) as exc:
        check_rating(level, ["attitude"])
    assert code_of(exc) == "rating.reasons_unexpected"


@pytest.mark.parametrize("level", [2, 1])
def test_a_bad_rating_needs_a_standard_reason(level: int) -> None:
    with pytest.raises(DomainError) as exc:
        check_rating(level)
    assert code_of(exc) == "rating.reasons_required"
    assert "服务态度" in exc.value.problem.zh()
    rating = check_rating(level, ["其他", "attitude", "服务态度"], "  等了很久  ")
    assert rating.reasons == (Reason.ATTITUDE, Reason.OTHER)  # once each, standard order
    assert rating.text == "等了很久"


def test_an_unknown_reason_is_named() -> None:
    with pytest.raises(DomainError) as exc:
        check_rating(1, ["rude"])
    assert code_of(exc) == "rating.reason_unknown"
    assert "rude" in exc.value.problem.zh()


@given(st.one_of(st.integers().filter(lambda n: not 1 <= n <= 5), st.booleans(), st.floats(), st.text()))
@PROPS
def test_anything_but_one_to_five_is_not_a_level(level: object) -> None:
    with pytest.raises(DomainError) as exc:
        check_rating(level)
    assert code_of(exc) == "rating.level"


@given(st.sampled_from(sorted(LEVEL_ZH)), st.sets(st.sampled_from(list(Reason)), min_size=1))
@PROPS
def test_every_level_with_its_right_reasons_is_accepted(level: int, reasons: set[Reason]) -> None:
    given_reasons = [r.value for r in reasons] if is_bad(level) else []
    rating = check_rating(level, given_reasons)
    assert rating.level == level and set(rating.reasons) == (reasons if is_bad(level) else set())
    assert rating.level_zh == LEVEL_ZH[level]


@pytest.mark.parametrize("text", ["\x1b[31m红字", "a\x00b", "\u202e反转", "换\n行"])
def test_text_with_controls_or_escapes_is_refused(text: str) -> None:
    with pytest.raises(DomainError) as exc:
        check_rating(2, ["other"], text)
    assert code_of(exc) == "field.invalid"


def test_text_is_limited() -> None:
    assert check_rating(1, ["other"], "慢" * TEXT_LIMIT).text == "慢" * TEXT_LIMIT
    with pytest.raises(DomainError) as exc:
        check_rating(1, ["other"], "慢" * (TEXT_LIMIT + 1))
    assert code_of(exc) == "field.too_long"


# ---------------------------------------------------------------- evaluation codes


def test_hmac_sm3_is_rfc_2104() -> None:
    if "sm3" not in hashlib.algorithms_available:
        pytest.skip("OpenSSL without SM3: no independent HMAC to compare with")
    for key in (b"", b"k", KEY, bytes(100)):
        for message in (b"", b"GXZX-20261120-00001", bytes(200)):
            assert hmac_sm3(key, message) == hmac.new(key, message, "sm3").digest()


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
@PROPS
def test_codes_are_short_stable_and_case_bound(first: str, second: str) -> None:
    code = evaluation_code(KEY, first)
    assert len(code) == 11 and code[5] == "-"
    assert evaluation_code(KEY, first) == code
    assert normalize_code(code.lower().replace("-", " ")) == code
    if first != second:
        assert evaluation_code(KEY, second) != code  # 50 bits: a clash here is 1 in 10^15
    assert evaluation_code(bytes(32), first) != code  # another station's key, another code


@pytest.mark.parametrize("raw", ["", "ABCDE", "ABCDE-FGHI1", "ABCDE-FGHIJK", "ÄBCDE-FGHIJ"])
def test_malformed_codes_are_none(raw: str) -> None:
    assert normalize_code(raw) is None


# ---------------------------------------------------------------- reports


def test_good_rate_is_levels_five_four_three_over_rated() -> None:
    assert good_rate({"5": 2, "4": 1, "3": 1, "2": 0, "1": 1}) == 0.8
    assert good_rate({"5": 0, "4": 0, "3": 0, "2": 0, "1": 0}) is None


cases_st = st.lists(
    st.builds(
        RatedCase,
        case_no=st.uuids().map(str),
        station=st.sampled_from(["GXZX", "JHYZ1"]),
        window=st.sampled_from(["01", "02"]),
        staff=st.sampled_from(["C001", "C002"]),
        item_code=st.sampled_from(["A", "B", "C"]),
    ),
    max_size=20,
    unique_by=lambda c: c.case_no,
)


@given(cases_st, st.data())
@PROPS
def test_a_report_adds_up(cases: list[RatedCase], data: st.DataObject) -> None:
    facts = []
    for case in cases:
        for channel in data.draw(st.sets(st.sampled_from(["pad", "code"]))):
            facts.append(
                RatingFact(case.case_no, channel, data.draw(st.one_of(st.none(), st.integers(1, 5))))
            )
    facts.append(RatingFact("not-in-the-period", "pad", 5))
    report = tally(cases, facts)
    levels = [f.level for f in facts if f.level is not None and f.case_no != "not-in-the-period"]
    assert sum(report["counts"].values()) == report["rated"] == len(levels)
    rated_cases = {f.case_no for f in facts if f.level is not None} - {"not-in-the-period"}
    assert report["unrated"] == len(cases) - len(rated_cases)
    assert report["declined"] <= report["unrated"]
    assert report["bad"] == sum(1 for level in levels if level <= 2)
    if levels:
        assert report["good_rate"] == round(sum(1 for level in levels if level >= 3) / len(levels), 4)
    else:
        assert report["good_rate"] is None
    for group in ("by_station", "by_window", "by_staff", "by_item"):
        assert sum(row["cases"] for row in report[group]) == len(cases)
        assert sum(row["rated"] for row in report[group]) == report["rated"]
        assert sum(row["unrated"] for row in report[group]) == report["unrated"]


def test_a_declined_case_is_unrated_never_satisfied() -> None:
    report = tally([RatedCase("X", "GXZX", "01", "C001", "A")], [RatingFact("X", "pad", None)])
    assert report["counts"] == {"5": 0, "4": 0, "3": 0, "2": 0, "1": 0}
    assert (report["unrated"], report["declined"], report["good_rate"]) == (1, 1, None)


# ---------------------------------------------------------------- rectification


def test_the_steps_go_in_order() -> None:
    state = RectificationState.OPEN.value
    assert next_state(state, Step.VERIFY) is None
    for step, expected in (
        (Step.ASSIGN, "assigned"),
        (Step.ASSIGN, "assigned"),
        (Step.VERIFY, "verified"),
        (Step.RECTIFY, "rectified"),
        (Step.CALLBACK, "closed"),
    ):
        after = next_state(state, step)
        assert after == expected
        state = after.value
    assert all(next_state("closed", step) is None for step in Step)


def test_who_may_act() -> None:
    # (step, role, staff station, staff no, record station, assignee) -> allowed
    assert may_act(Step.ASSIGN, Role.SUPERVISOR, "GXZX", "S001", "GXZX", None) is None
    assert may_act(Step.ASSIGN, Role.ADMIN, "GXZX", "A001", "JHYZ1", None) is None
    assert may_act(Step.ASSIGN, Role.SUPERVISOR, "JHYZ1", "S002", "GXZX", None) is not None
    assert may_act(Step.ASSIGN, Role.CLERK, "GXZX", "C001", "GXZX", "C001") is not None
    assert may_act(Step.VERIFY, Role.CLERK, "GXZX", "C001", "GXZX", "C001") is None
    assert may_act(Step.VERIFY, Role.CLERK, "GXZX", "C002", "GXZX", "C001") is not None
    assert may_act(Step.RECTIFY, Role.CLERK, "GXZX", "C001", "GXZX", "C001") is None
    assert may_act(Step.CALLBACK, Role.CLERK, "GXZX", "C001", "GXZX", "C001") is not None


def test_deadlines_are_counted_in_workdays_over_the_holidays() -> None:
    # 2026-09-30 (Wed): 国庆/中秋 holidays 10-01..10-07, 10-10 (Sat) is 调休: 1 工作日 is 10-08.
    verify, rectify, provisional = due_dates(CAL, dt.date(2026, 9, 30))
    assert verify == dt.date(2026, 10, 8)
    assert rectify == CAL.add(dt.date(2026, 9, 30), RECTIFY_LIMIT).date
    assert not provisional
    assert due_dates(CAL, dt.date(2026, 12, 30))[2]  # runs into 2027, not published


def test_flags_follow_the_ledger_rule() -> None:
    verify, rectify = dt.date(2026, 11, 23), dt.date(2026, 12, 11)
    assert flag_of("open", verify, rectify, dt.date(2026, 11, 20), CAL) is Flag.YELLOW  # due next workday
    assert flag_of("assigned", verify, rectify, dt.date(2026, 11, 24), CAL) is Flag.RED
    assert flag_of("verified", verify, rectify, dt.date(2026, 11, 24), CAL) is Flag.GREEN
    assert flag_of("rectified", verify, rectify, dt.date(2026, 12, 10), CAL) is Flag.YELLOW
    assert flag_of("closed", verify, rectify, dt.date(2027, 1, 10), CAL) is None


@given(
    st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
)
@PROPS
def test_the_flag_rule_is_the_ledgers(deadline: dt.date, today: dt.date) -> None:
    from window_client.services.cases import compute_flag

    assert compute_flag("accepted", deadline, None, today, CAL, 1) is deadline_flag(deadline, today, CAL, 1)


def test_notes_are_checked() -> None:
    assert check_note("  已电话  核实 ") == "已电话 核实"
    for raw, code in (
        ("   ", "field.required"),
        ("\x1b]0;x\x07", "field.invalid"),
        ("字" * 501, "field.too_long"),
    ):
        with pytest.raises(DomainError) as exc:
            check_note(raw)
        assert code_of(exc) == code
