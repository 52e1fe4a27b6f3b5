"""政务服务“好差评”: the applicant's rating of one case, pure rules shared by counter and hall.

Five levels (国办发〔2019〕51号): 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意. A
不满意/非常不满意 (差评) names at least one of the standard reasons and may add a short text;
better levels carry no reasons. Each case is rated at most once per channel: the window's
evaluator pad (窗口评价器) or the short code printed on the 受理回执 (扫码评价). An applicant
who declines is recorded as 未评价 (``level`` None), never as 满意.

好评率 follows the national practice: 好评 are the levels 5, 4 and 3 (非常满意, 满意, 基本满意),
差评 the levels 2 and 1, and the rate is 好评 / rated (declined and unrated cases are not in
the denominator); ``None`` when nothing was rated. The seed reports name the 好差评 system but
define no rate, so the national definition is the one used.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from models.problems import DomainError
from models.sm2 import sm3_hex
from models.text import first_unsafe

TEXT_LIMIT = 200  # characters of the applicant's own words kept with a 差评
REASON_LIMIT = 5  # at most every standard reason once


class Level(IntEnum):
    """The five levels of a rating."""

    VERY_DISSATISFIED = 1
    DISSATISFIED = 2
    BASIC = 3
    SATISFIED = 4
    VERY_SATISFIED = 5


LEVEL_ZH: dict[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}
LEVELS = tuple(sorted(LEVEL_ZH, reverse=True))  # 5 … 1, the order reports list them in
GOOD_LEVELS = frozenset({5, 4, 3})
DECLINED_ZH = "未评价"


def is_bad(level: int | None) -> bool:
    """Whether a level is a 差评 (不满意 or 非常不满意); a declined rating is not."""
    return level is not None and level <= Level.DISSATISFIED


class Reason(StrEnum):
    """The standard reasons of a 差评."""

    ATTITUDE = "attitude"
    EFFICIENCY = "efficiency"
    SKILL = "skill"
    GUIDE = "guide"
    OTHER = "other"


REASON_ZH: dict[Reason, str] = {
    Reason.ATTITUDE: "服务态度",
    Reason.EFFICIENCY: "服务效率",
    Reason.SKILL: "服务水平",
    Reason.GUIDE: "办事指南",
    Reason.OTHER: "其他",
}
_REASON_BY_NAME = {**{r.value: r for r in Reason}, **{zh: r for r, zh in REASON_ZH.items()}}


class RatingChannel(StrEnum):
    """Where the applicant rated: the window's evaluator pad, or the code on the receipt."""

    PAD = "pad"
    CODE = "code"


CHANNEL_ZH: dict[str, str] = {RatingChannel.PAD: "窗口评价器", RatingChannel.CODE: "扫码评价"}


def parse_reason(name: str) -> Reason:
    """A reason by its code (``attitude``) or its Chinese name (服务态度)."""
    found = _REASON_BY_NAME.get(name.strip())
    if found is None:
        raise DomainError.of("rating.reason_unknown", reason=name[:40])
    return found


@dataclass(frozen=True, slots=True)
class RatingInput:
    """A checked rating: the level (None: declined), its reasons and the applicant's words."""

    level: int | None
    reasons: tuple[Reason, ...] = ()
    text: str | None = None

    @property
    def level_zh(self) -> str:
        """The level in Chinese (未评价 when declined)."""
        return DECLINED_ZH if self.level is None else LEVEL_ZH[self.level]


def check_level(level: object) -> int:
    """``level`` when it is a whole number from 1 to 5; else ``rating.level``."""
    if type(level) is not int or level not in LEVEL_ZH:
        raise DomainError.of("rating.level", level=str(level)[:20])
    return level


def check_text(raw: str | None) -> str | None:
    """The applicant's words, trimmed (None when empty); refused with controls or escapes in
    it (they would act in a terminal that shows it) or when longer than :data:`TEXT_LIMIT`."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    char = first_unsafe(text)
    if char is not None:
        raise DomainError.of("field.invalid", field="text", value=f"含控制字符 {char}")
    if len(text) > TEXT_LIMIT:
        raise DomainError.of("field.too_long", field="text", limit=TEXT_LIMIT)
    return text


def check_rating(level: object, reasons: Iterable[str] = (), text: str | None = None) -> RatingInput:
    """The rating the applicant gave, checked (raises :class:`DomainError` with the reason).

    A 差评 (level 1 or 2) needs at least one standard reason; better levels take none. Reasons
    are kept once each, in the standard order.
    """
    checked_level = check_level(level)
    names = list(reasons)
    if len(names) > 2 * REASON_LIMIT:  # the hall reads pushed lists: keep them short
        raise DomainError.of("field.too_long", field="reasons", limit=2 * REASON_LIMIT)
    parsed = {parse_reason(name) for name in names}
    if is_bad(checked_level) and not parsed:
        raise DomainError.of("rating.reasons_required", level=LEVEL_ZH[checked_level])
    if parsed and not is_bad(checked_level):
        raise DomainError.of("rating.reasons_unexpected", level=LEVEL_ZH[checked_level])
    ordered = tuple(reason for reason in Reason if reason in parsed)
    return RatingInput(checked_level, ordered, check_text(text))


def declined() -> RatingInput:
    """The applicant declined to rate (未评价)."""
    return RatingInput(None)


# ------------------------------------------------------------------ the evaluation code

CODE_CHARS = 10  # base32 characters: 50 bits, shown as two groups of five
_BLOCK = 64  # SM3's block size in bytes (HMAC, RFC 2104)


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC with SM3 (RFC 2104 over GB/T 32905), through :func:`models.sm2.sm3_hex`."""
    if len(key) > _BLOCK:
        key = bytes.fromhex(sm3_hex(key))
    key = key.ljust(_BLOCK, b"\x00")
    inner = bytes.fromhex(sm3_hex(bytes(b ^ 0x36 for b in key) + message))
    return bytes.fromhex(sm3_hex(bytes(b ^ 0x5C for b in key) + inner))


def evaluation_code(key: bytes, case_no: str) -> str:
    """The short code printed on a case's 受理回执 (e.g. ``K7Q2M-9XD3F``).

    An HMAC-SM3 of the case number under the station's own evaluation key: knowing one code (or
    every case number) tells nothing about another case's code, so an applicant can rate only
    the case whose receipt they hold. 50 bits: guessing any valid code of a store with a
    million cases takes about 10^9 tries.
    """
    digest = hmac_sm3(key, b"window-client evaluation|" + case_no.encode("utf-8"))
    text = base64.b32encode(digest).decode("ascii")[:CODE_CHARS]
    return f"{text[:5]}-{text[5:]}"


def normalize_code(raw: str) -> str | None:
    """A typed code in its printed form (case, spaces and dashes forgiven); None if malformed."""
    text = "".join(raw.split()).replace("-", "").upper()
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    if len(text) != CODE_CHARS or not set(text) <= alphabet:
        return None
    return f"{text[:5]}-{text[5:]}"


# ------------------------------------------------------------------ reports


@dataclass(frozen=True, slots=True)
class RatedCase:
    """A case as a report groups it (its window, staff member and item)."""

    case_no: str
    station: str
    window: str
    staff: str
    item_code: str


@dataclass(frozen=True, slots=True)
class RatingFact:
    """One rating of a case through one channel (``level`` None: declined)."""

    case_no: str
    channel: str
    level: int | None


def good_rate(counts: dict[str, int]) -> float | None:
    """好评 / rated, rounded to four places; None when nothing was rated."""
    rated = sum(counts.values())
    if not rated:
        return None
    good = sum(counts[str(level)] for level in GOOD_LEVELS)
    return round(good / rated, 4)


@dataclass
class Tally:
    """Counts of one group of cases (a station, a window, a staff member, an item)."""

    counts: dict[str, int] = field(default_factory=lambda: {str(level): 0 for level in LEVELS})
    cases: int = 0
    declined: int = 0
    unrated: int = 0

    def add(self, levels: Sequence[int | None]) -> None:
        """Count one case with the levels it was given (one per channel)."""
        self.cases += 1
        given = [level for level in levels if level is not None]
        for level in given:
            self.counts[str(level)] += 1
        if not given:
            self.unrated += 1
            if levels:
                self.declined += 1

    def to_dict(self) -> dict[str, Any]:
        """The report's shape: counts per level, rated, unrated, declined, good_rate."""
        rated = sum(self.counts.values())
        return {
            "counts": dict(self.counts),
            "rated": rated,
            "bad": self.counts["2"] + self.counts["1"],
            "cases": self.cases,
            "unrated": self.unrated,
            "declined": self.declined,
            "good_rate": good_rate(self.counts),
        }


GROUPS = ("station", "window", "staff", "item_code")


def tally(cases: Iterable[RatedCase], ratings: Iterable[RatingFact]) -> dict[str, Any]:
    """The report over ``cases``: overall, then per station, window, staff member and item.

    ``counts`` counts ratings (a case rated at the pad and by its code counts twice);
    ``unrated`` counts cases without any level (``declined`` of them said so at the pad).
    Ratings of cases outside ``cases`` are left out. Groups are listed by their key.
    """
    levels: dict[str, list[int | None]] = {}
    for fact in ratings:
        levels.setdefault(fact.case_no, []).append(fact.level)
    total = Tally()
    groups: dict[str, dict[tuple[str, ...], Tally]] = {name: {} for name in GROUPS}
    for case in cases:
        given = levels.get(case.case_no, [])
        total.add(given)
        for name in GROUPS:
            key: tuple[str, ...] = (case.station, case.window) if name == "window" else (getattr(case, name),)
            groups[name].setdefault(key, Tally()).add(given)
    report = total.to_dict()
    for name, tallies in groups.items():
        label = "by_item" if name == "item_code" else f"by_{name}"
        rows = []
        for key, counted in sorted(tallies.items()):
            head: dict[str, Any] = (
                {"station": key[0], "window": key[1]} if name == "window" else {name: key[0]}
            )
            rows.append({**head, **counted.to_dict()})
        report[label] = rows
    return report
