"""Properties of the identity checks (models/identity.py): 身份证号, 统一社会信用代码, names, masks.

Valid numbers are built independently of the product with python-stdnum's check-digit
functions, then fed to the product's checks; each mutation must produce the problem code a
clerk would see.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from models.enums import ApplicantType, MaterialStatus
from models.identity import (
    NAME_LIMIT,
    check_credit_code,
    check_name,
    check_person_id,
    check_phone,
    mask_id,
)

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Real county-level division codes (北京朝阳, 西安雁塔, 深圳南山, 上海浦东, 西安新城, 西安长安,
# 南京鼓楼, 杭州西湖, 成都武侯, 武汉武昌, 济南历下, 重庆渝中, 乌鲁木齐天山, 拉萨城关).
REGIONS = (
    "110105", "610113", "440305", "310115", "610102", "610116", "320106",
    "330106", "510107", "420106", "370102", "500103", "650102", "540102",
)  # fmt: skip
ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FORBIDDEN = "IOSVZ"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)))
    seq = draw(st.integers(0, 999))
    return _with_check(f"{region}{born:%Y%m%d}{seq:03d}")


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from("159"))
    kind = draw(st.sampled_from("123"))
    region = draw(st.sampled_from(REGIONS))
    org = draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    body = f"{authority}{kind}{region}{org}"
    return body + uscc.calc_check_digit(body)


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
cjk_names = st.text(alphabet=cjk, min_size=1, max_size=NAME_LIMIT)
applicant_types = st.sampled_from(list(ApplicantType))


# ------------------------------------------------------------------ resident IDs


@PROPS
@given(resident_ids())
def test_valid_resident_id_passes_and_is_returned_normalised(number: str) -> None:
    assert number[-1] == ric.calc_check_digit(number)
    normalised, problem = check_person_id(number)
    assert problem is None
    assert normalised == number
    assert ID_RE.match(normalised)


@PROPS
@given(
    resident_ids(),
    st.sampled_from(["", " ", "  ", "\t", "\u3000", "\n"]),
    st.sampled_from(["", " ", "  ", "\t", "\u3000", "\r\n"]),
    st.booleans(),
    st.booleans(),
)
@example("11000019600101001X", " ", " ", False, False)
def test_lower_case_x_blanks_and_full_width_digits_normalise(
    number: str, before: str, after: str, full_width: bool, lower: bool
) -> None:
    typed = number.translate(FULL_WIDTH) if full_width else number
    typed = typed.lower() if lower else typed
    normalised, problem = check_person_id(before + typed + after)
    assert problem is None
    assert normalised == number


@PROPS
@given(resident_ids(), st.data())
def test_any_change_of_the_check_character_is_a_check_error(number: str, data: st.DataObject) -> None:
    replacement = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[-1]]))
    normalised, problem = check_person_id(number[:-1] + replacement)
    assert problem is not None and problem.code == "id.check"
    assert normalised == number[:-1] + replacement


@PROPS
@given(resident_ids(), st.sampled_from("ABCDEFGHJKLMNPQRTUWYZ*#-"))
def test_a_check_character_outside_digits_and_x_is_a_format_error(number: str, bad: str) -> None:
    _, problem = check_person_id(number[:-1] + bad)
    assert problem is not None and problem.code == "id.format"


def _impossible_month_days(year: int) -> list[tuple[int, int]]:
    pairs = [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (0, 10), (5, 0)]
    pairs += [(13, 1), (13, 15), (19, 28), (99, 1), (12, 32), (1, 99)]
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not leap:
        pairs.append((2, 29))
    return pairs


@PROPS
@given(st.sampled_from(REGIONS), st.integers(1930, 2010), st.integers(0, 999), st.data())
def test_impossible_birth_date_is_a_birth_error(
    region: str, year: int, seq: int, data: st.DataObject
) -> None:
    month, day = data.draw(st.sampled_from(_impossible_month_days(year)))
    number = _with_check(f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}")
    _, problem = check_person_id(number)
    assert problem is not None and problem.code == "id.birth", number


@pytest.mark.parametrize("birth", ["19601301", "19600230", "19310229", "20991231", "18500101"])
def test_impossible_future_or_ancient_birth_is_a_birth_error(birth: str) -> None:
    _, problem = check_person_id(_with_check(f"110105{birth}001"))
    assert problem is not None and problem.code == "id.birth"


@PROPS
@given(
    st.one_of(st.just("990105"), st.integers(0, 9999).map(lambda n: f"99{n:04d}")),
    st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)),
    st.integers(0, 999),
)
def test_unknown_region_is_a_region_error(region: str, born: dt.date, seq: int) -> None:
    number = _with_check(f"{region}{born:%Y%m%d}{seq:03d}")
    _, problem = check_person_id(number)
    assert problem is not None and problem.code == "id.region", number


@PROPS
@given(resident_ids(), st.integers(1, 17), st.text(alphabet="0123456789", min_size=1, max_size=6))
def test_wrong_length_is_a_length_error_naming_the_length(number: str, keep: int, extra: str) -> None:
    for wrong in (number[:keep], number + extra):
        normalised, problem = check_person_id(wrong)
        assert problem is not None and problem.code == "id.length"
        assert problem.params == {"length": len(wrong)}
        assert str(len(wrong)) in problem.en() and str(len(wrong)) in problem.zh()
        assert normalised == wrong


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\t\n"])
def test_empty_resident_id_is_an_empty_error(raw: str) -> None:
    assert check_person_id(raw)[1].code == "id.empty"  # type: ignore[union-attr]


# Decimal digits of other scripts: str.isdigit() and int() accept them, NFKC does not map them.
OTHER_SCRIPT_DIGITS = {
    "arabic-indic": 0x0660,
    "extended-arabic-indic": 0x06F0,
    "devanagari": 0x0966,
    "thai": 0x0E50,
}


@pytest.mark.parametrize("script", sorted(OTHER_SCRIPT_DIGITS))
def test_non_ascii_digits_are_refused_or_normalised_to_ascii(script: str) -> None:
    number = "110105196001010017"
    zero = OTHER_SCRIPT_DIGITS[script]
    typed = number[:6] + "".join(chr(zero + int(c)) for c in number[6:17]) + number[17]
    normalised, problem = check_person_id(typed)
    # Either refused, or normalised to the one canonical ASCII number.
    assert problem is not None or normalised == number, (typed, normalised)


def _tolerance_with_broken_commitment(tmp_path: Path, typed_id: str) -> tuple[str, str]:
    """Record a broken commitment under the ASCII ID, then accept a tolerable case for the
    applicant whose ID was typed as ``typed_id``; returns the outcome and the stored ID."""
    from offline_cache import Store
    from offline_cache import repositories as repo
    from window_client.services.acceptance import AcceptanceRequest, AcceptanceService, Applicant
    from window_client.services.catalog import load_shipped_catalog
    from window_client.services.workdays import WorkdayCalendar, shipped_arrangements

    catalog = load_shipped_catalog()
    store = Store(tmp_path / "s.db")
    try:
        service = AcceptanceService(
            store,
            catalog,
            WorkdayCalendar.from_arrangements(shipped_arrangements()),
            catalog.stations["GXZX"],
            "C001",
        )
        with store.transaction("S001") as unit:  # one broken commitment on record
            repo.add_open_commitments(unit, [(BROKEN_PROMISE_ID, "person", "王芳")])
            repo.close_commitment(unit, BROKEN_PROMISE_ID, fulfilled=False)
        item = catalog.items["RS-008"]  # promised 5 workdays, has tolerable materials
        missing = next(m for m in item.materials if m.tolerance.value == "tolerable")
        presented = {
            m.code: MaterialStatus.PRESENTED
            for m in item.materials
            if m.tolerance.value != "optional" and m.code != missing.code
        }
        request = AcceptanceRequest(
            item.code, Applicant(ApplicantType.PERSON, typed_id, "王芳"), presented, True
        )
        decision = service.accept(request, dt.date(2026, 3, 2))
        with sqlite3.connect(store.path) as conn:
            stored = [r[0] for r in conn.execute("SELECT applicant_id FROM cases")]
        return decision.outcome.value, ",".join(stored)
    finally:
        store.close()


BROKEN_PROMISE_ID = _with_check("61011319850505001")


def test_broken_commitment_needs_a_supervisor(tmp_path: Path) -> None:
    """Control for the next test: typed in ASCII, the broken commitment is found."""
    assert _tolerance_with_broken_commitment(tmp_path, BROKEN_PROMISE_ID) == ("needs_approval", "")


def test_broken_commitment_is_not_bypassed_with_non_ascii_digits(tmp_path: Path) -> None:
    n = BROKEN_PROMISE_ID
    typed = n[:6] + "".join(chr(0x0660 + int(c)) for c in n[6:17]) + n[17]
    outcome, stored = _tolerance_with_broken_commitment(tmp_path, typed)
    # Refused as invalid, or normalised and sent to the supervisor like the ASCII ID.
    assert outcome in ("invalid", "needs_approval"), (outcome, stored)


# ------------------------------------------------------------------ credit codes


@PROPS
@given(credit_codes(), st.booleans(), st.sampled_from(["", " ", "\u3000"]))
def test_valid_credit_code_passes(code: str, lower: bool, pad: str) -> None:
    assert uscc.is_valid(code)
    normalised, problem = check_credit_code(pad + (code.lower() if lower else code) + pad)
    assert problem is None
    assert normalised == code


@PROPS
@given(credit_codes(), st.data())
def test_changed_last_character_is_a_credit_check_error(code: str, data: st.DataObject) -> None:
    other = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != code[-1]]))
    _, problem = check_credit_code(code[:-1] + other)
    assert problem is not None and problem.code == "uscc.check"


@PROPS
@given(credit_codes(), st.integers(0, 17), st.sampled_from(FORBIDDEN + FORBIDDEN.lower()))
def test_forbidden_letter_is_a_credit_format_error(code: str, at: int, letter: str) -> None:
    # Put I, O, S, V or Z in place of one character (the length stays 18).
    _, problem = check_credit_code(code[:at] + letter + code[at + 1 :])
    assert problem is not None and problem.code == "uscc.format"


@PROPS
@given(credit_codes(), st.integers(1, 17))
def test_short_credit_code_is_a_length_error(code: str, keep: int) -> None:
    _, problem = check_credit_code(code[:keep])
    assert problem is not None and problem.code == "uscc.length"
    assert problem.params == {"length": keep}


@PROPS
@given(
    st.one_of(
        credit_codes(),
        st.text(alphabet=USCC_ALPHABET + FORBIDDEN, min_size=18, max_size=18),
        credit_codes().flatmap(lambda c: st.integers(0, 17).map(lambda i: c[:i] + "A" + c[i + 1 :])),
    )
)
def test_credit_code_check_agrees_with_stdnum(code: str) -> None:
    # The product computes the check character itself (for batch speed): it must judge every
    # 18-character code exactly as python-stdnum's validate does.
    _, problem = check_credit_code(code)
    try:
        uscc.validate(code)
    except ValidationError as exc:
        expected = "uscc.check" if isinstance(exc, InvalidChecksum) else "uscc.format"
        assert problem is not None and problem.code == expected
    else:
        assert problem is None


# ------------------------------------------------------------------ names


@PROPS
@given(cjk_names, applicant_types)
def test_cjk_names_pass(name: str, kind: ApplicantType) -> None:
    assert check_name(name, kind) is None


@PROPS
@given(
    st.text(alphabet=cjk, min_size=1, max_size=8),
    st.text(alphabet=cjk, min_size=1, max_size=8),
)
def test_minority_names_with_middle_dot_pass(first: str, last: str) -> None:
    assert check_name(f"{first}·{last}") is None


@PROPS
@given(
    st.text(alphabet=cjk, min_size=0, max_size=150),
    st.sampled_from(["\x1b", "\x00", "\x07", "\x1b[31m", "\x1b]0;x\x07"]),
    st.data(),
    applicant_types,
)
def test_control_characters_are_refused(
    name: str, control: str, data: st.DataObject, kind: ApplicantType
) -> None:
    at = data.draw(st.integers(0, len(name)))
    problem = check_name(name[:at] + control + name[at:], kind)
    assert problem is not None and problem.code == "name.control"


@PROPS
@given(
    st.text(alphabet=cjk, min_size=0, max_size=NAME_LIMIT - 1),
    st.sampled_from("[]"),
    st.data(),
    applicant_types,
)
def test_square_brackets_are_refused(
    name: str, bracket: str, data: st.DataObject, kind: ApplicantType
) -> None:
    at = data.draw(st.integers(0, len(name)))
    problem = check_name(name[:at] + bracket + name[at:], kind)
    assert problem is not None and problem.code == "name.chars"
    assert bracket in problem.params["chars"]


@PROPS
@given(st.text(alphabet=cjk, min_size=NAME_LIMIT + 1, max_size=3 * NAME_LIMIT), applicant_types)
def test_over_long_names_are_refused(name: str, kind: ApplicantType) -> None:
    problem = check_name(name, kind)
    assert problem is not None and problem.code == "name.too_long"
    assert problem.params == {"limit": NAME_LIMIT}


@PROPS
@given(st.text(alphabet=" \t\n\r\u3000\u00a0", max_size=12), applicant_types)
def test_empty_or_blank_names_are_refused(name: str, kind: ApplicantType) -> None:
    problem = check_name(name, kind)
    assert problem is not None and problem.code == "name.empty"


# ------------------------------------------------------------------ masks and phones


@PROPS
@given(resident_ids())
def test_mask_id_keeps_first_six_and_last_four_of_an_id(number: str) -> None:
    masked = mask_id(number)
    assert len(masked) == 18
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:-4] == "*" * 8
    assert number[6:14] not in masked  # the birth date never shows


@PROPS
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=0, max_size=40))
def test_mask_id_never_reveals_the_middle(number: str) -> None:
    masked = mask_id(number)
    assert len(masked) == len(number)
    if len(number) > 10:
        assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
        assert set(masked[6:-4]) == {"*"}
    else:
        assert masked[:2] == number[:2]
        assert set(masked[2:]) <= {"*"}


@PROPS
@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_mainland_mobile_numbers_pass(second: str, rest: str) -> None:
    assert check_phone(f"1{second}{rest}") is None
    assert check_phone(f" 1{second}{rest} ".translate(FULL_WIDTH)) is None


def test_phone_with_non_ascii_digits_is_refused() -> None:
    phone = "13" + "".join(chr(0x0660 + int(c)) for c in "912345678")
    assert check_phone(phone) is not None


def test_fixture_ids_are_really_valid() -> None:
    """Guard for the generators: stdnum agrees on a known-good example of each."""
    assert ric.is_valid("11010519491231002X")  # python-stdnum's own doctest example
    assert uscc.is_valid("91110000600037341L")
