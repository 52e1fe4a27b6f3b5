"""Identity numbers: 身份证号 (GB 11643) and 统一社会信用代码 (GB 32100), names and phones.

Checksums come from python-stdnum (the credit code's is computed here as python-stdnum does,
without its per-call cleaning; the tests compare the two); this module turns what is wrong
into :class:`Problem`s that say it in words a clerk understands.
"""

from __future__ import annotations

import datetime
import functools
import re
import time
import unicodedata

from stdnum.cn import ric

from models.enums import ApplicantType
from models.problems import Problem

NAME_LIMIT = 100
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_ALPHABET = set(_USCC_CHARS)
_USCC_VALUE = {ch: n for n, ch in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")
# Characters a person's name may hold besides letters: the middle dot of minority and foreign
# names (both code points in use) and spaces between Latin name parts.
_PERSON_EXTRA = set("·•. -")
# Organisation names also use brackets, digits and a few joiners.
_ORG_EXTRA = _PERSON_EXTRA | set("（）()&、—－_,，/0123456789")


def normalize_id(raw: str) -> str:
    """Strip blanks and upper-case; full-width digits and letters become ASCII."""
    # A batch normalises each row's ID several times: short values are remembered (long ones,
    # never a real ID, are not, so nobody can fill the memory with them).
    return _normalized(raw) if len(raw) <= 64 else _normalize(raw)


def _normalize(raw: str) -> str:
    if not raw.isascii():  # NFKC only where it can matter: it is costly in batch loops
        raw = unicodedata.normalize("NFKC", raw)
    return raw.replace(" ", "").strip().upper()


_normalized = functools.lru_cache(maxsize=4096)(_normalize)


@functools.lru_cache(maxsize=8192)
def _region_known(prefix: str) -> bool:
    """Whether the first six digits are an administrative division code, past or present.

    python-stdnum's ``get_birth_place`` also insists the county existed in the birth year, but
    numbers are issued at registration, not at birth: a man born in 1960 whose ID was issued in
    长安区 (created 2002) legitimately starts with 610116. So any listed code is accepted.
    """
    from stdnum import numdb

    return all(props for _part, props in numdb.get("cn/loc").info(prefix))


def load_region_codes() -> None:
    """Read python-stdnum's table of division codes now (~0.1 s) rather than on the first ID
    checked: a server calls it at start-up, before its first request."""
    _region_known("110101")


_TODAY: list[tuple[float, datetime.date]] = []  # (until when, today): date.today() is costly


def _today() -> datetime.date:
    """Today's date, asked of the clock again once a minute (a birth date is never near it)."""
    now = time.monotonic()
    if not _TODAY or now >= _TODAY[0][0]:
        _TODAY[:] = [(now + 60.0, datetime.date.today())]
    return _TODAY[0][1]


@functools.lru_cache(maxsize=65536)
def _birth_date(digits: str) -> datetime.date | None:
    """The date of eight digits ``yyyymmdd`` from 1880 on, or None (remembered: a batch or a
    pushed outbox names the same birthdays many times)."""
    # The same split as stdnum's get_birth_date, without its per-call cleaning of the input
    # (which dominated batch validation): the number is already compact and all digits.
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    return born if born.year >= 1880 else None


def check_person_id(raw: str) -> tuple[str, Problem | None]:
    """Validate a resident ID number; returns the normalised number and the problem, if any."""
    number = normalize_id(raw)
    if not number:
        return number, Problem("id.empty")
    if len(number) != 18:
        return number, Problem("id.length", {"length": len(number)})
    # isascii() too: str.isdigit() also accepts Arabic-Indic, Thai … digits, which would let
    # the same person appear under a second, non-ASCII spelling of their number.
    if not (number.isascii() and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        return number, Problem("id.format")
    born = _birth_date(number[6:14])
    if born is None or born > _today():
        return number, Problem("id.birth")
    if not _region_known(number[:6]):
        return number, Problem("id.region")
    if number[17] != ric.calc_check_digit(number):
        return number, Problem("id.check")
    return number, None


def check_credit_code(raw: str) -> tuple[str, Problem | None]:
    """Validate a unified social credit code; returns the normalised code and the problem."""
    code = normalize_id(raw)
    if not code:
        return code, Problem("id.empty")
    if len(code) != 18:
        return code, Problem("uscc.length", {"length": len(code)})
    # python-stdnum's uscc.validate, without its per-call cleaning of an already compact code
    # (which dominated batch validation); tests/unit cross-check the two on random codes.
    if not set(code) <= _USCC_ALPHABET or not code[:8].isdigit():
        return code, Problem("uscc.format")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    if code[17] != _USCC_CHARS[(31 - total) % 31]:
        return code, Problem("uscc.check")
    return code, None


def check_applicant_id(applicant_type: ApplicantType, raw: str) -> tuple[str, Problem | None]:
    """Validate the ID appropriate to the applicant type."""
    if applicant_type is ApplicantType.PERSON:
        return check_person_id(raw)
    return check_credit_code(raw)


def check_name(raw: str, applicant_type: ApplicantType = ApplicantType.PERSON) -> Problem | None:
    """Reject empty, over-long, control-character and markup-bearing names.

    Names are printed on notices and shown on screen, so anything that is not a letter of some
    script, or one of a few joiners, is refused rather than silently cleaned.
    """
    name = raw.strip()
    if not name:
        return Problem("name.empty")
    if name.isalpha():  # the common case, decided at C speed: no control character, no other
        return Problem("name.too_long", {"limit": NAME_LIMIT}) if len(name) > NAME_LIMIT else None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        return Problem("name.control")
    if len(name) > NAME_LIMIT:
        return Problem("name.too_long", {"limit": NAME_LIMIT})
    extra = _PERSON_EXTRA if applicant_type is ApplicantType.PERSON else _ORG_EXTRA
    bad = sorted({ch for ch in name if not (ch.isalpha() or ch in extra)})
    if bad:
        return Problem("name.chars", {"chars": " ".join(bad[:8])})
    return None


def check_phone(raw: str) -> Problem | None:
    """A mainland mobile number; empty is allowed (the phone is optional)."""
    phone = normalize_id(raw)
    if phone and not _PHONE.match(phone):
        return Problem("phone.format")
    return None


def mask_id(number: str) -> str:
    """Mask an ID for lists: first 6 and last 4 characters stay (GB/T 35273 style)."""
    if len(number) <= 10:
        return number[:2] + "*" * max(len(number) - 2, 0)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """Mask a phone number: 138****1234."""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
