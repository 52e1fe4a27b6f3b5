"""How the counter checked the applicant's identity (身份核验), and 帮办代办.

Every case records one :class:`IdentityMethod`: the ID card itself (身份证原件), an electronic
ID or licence (电子身份证/电子证照), a face check (人脸核验, for an applicant who forgot the card:
the counter then issues a 身份核验单), or an agent (代办人) who presents the applicant's
授权委托书. A case may also be marked 帮办代办: the station officer fills the forms in for the
enterprise (政务外卖: 现场受理、后台流转).

The counter and the hall run the same rules: :func:`identity_problems` on the form's answers,
:func:`check_identity_fields` on a pushed ``case.accept`` (the hall believes no claim it can
check: the 身份核验单 number must be the one the counter issues for that case number).

A 身份核验单 number is ``HY-`` followed by the case number (``HY-GXZX-20261120-00042``): the
counter issues it offline in the case's own write, it is unique wherever the case number is,
and the hall can tell a made-up one from the real one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from models.problems import Problem


class IdentityMethod(StrEnum):
    """How the applicant's identity was checked at the counter."""

    ID_CARD = "id_card"  # 身份证原件
    E_ID = "e_id"  # 电子身份证/电子证照
    FACE = "face"  # 人脸核验: the counter issues a 身份核验单
    AGENT = "agent"  # 代办人, with the applicant's 授权委托书


DEFAULT_METHOD = IdentityMethod.ID_CARD  # what a clerk pressing through the form records
METHOD_ZH: dict[IdentityMethod, str] = {
    IdentityMethod.ID_CARD: "身份证原件",
    IdentityMethod.E_ID: "电子身份证/电子证照",
    IdentityMethod.FACE: "人脸核验",
    IdentityMethod.AGENT: "代办人（授权委托书）",
}
_METHODS = {m.value: m for m in IdentityMethod}
# What a batch cell may say besides the codes: the labels clerks use.
_METHOD_WORDS = {
    "身份证原件": IdentityMethod.ID_CARD,
    "身份证": IdentityMethod.ID_CARD,
    "电子身份证": IdentityMethod.E_ID,
    "电子证照": IdentityMethod.E_ID,
    "电子身份证/电子证照": IdentityMethod.E_ID,
    "人脸核验": IdentityMethod.FACE,
    "代办人": IdentityMethod.AGENT,
    "代办": IdentityMethod.AGENT,
}
SLIP_PREFIX = "HY-"
SLIP_NO = re.compile(r"HY-[A-Z0-9]{1,16}-[0-9]{8}-[0-9]{5,9}")

# The optional ``case.accept`` fields (models.sync.payloads.AcceptPayload) this module owns.
PAYLOAD_FIELDS = ("identity_method", "identity_slip", "power_of_attorney", "assisted")


def slip_number(case_no: str) -> str:
    """The 身份核验单 number the counter issues for a face check on case ``case_no``."""
    return SLIP_PREFIX + case_no


def parse_method(text: str) -> IdentityMethod | None:
    """A method from its code (``face``) or its Chinese label (人脸核验); None when unknown.
    An empty text is the default, 身份证原件."""
    value = text.strip()
    if not value:
        return DEFAULT_METHOD
    return _METHODS.get(value.lower()) or _METHOD_WORDS.get(value)


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """What the clerk recorded of the identity check (the 身份核验单 number comes at the write)."""

    method: IdentityMethod = DEFAULT_METHOD
    power_of_attorney: bool = False  # the agent presented the applicant's 授权委托书


DEFAULT_CHECK = IdentityCheck()


def identity_problems(check: IdentityCheck, has_agent: bool) -> list[Problem]:
    """Why the form's identity answers cannot stand (the counter's rule; the hall runs
    :func:`check_identity_fields`). ``has_agent``: the form names an agent (代办人)."""
    if check.method is IdentityMethod.AGENT:
        problems = [] if has_agent else [Problem("identity.agent_missing")]
        if not check.power_of_attorney:
            problems.append(Problem("identity.power_of_attorney"))
        return problems
    if has_agent:
        return [Problem("identity.agent_method")]
    return []


def payload_fields(check: IdentityCheck, case_no: str, assisted: bool) -> dict[str, str | bool]:
    """The ``case.accept`` fields of a case's identity check and 帮办代办 mark: only those that
    apply, so a payload without them reads as before (see :mod:`models.sync.payloads`)."""
    fields: dict[str, str | bool] = {"identity_method": check.method.value}
    if check.method is IdentityMethod.FACE:
        fields["identity_slip"] = slip_number(case_no)
    if check.method is IdentityMethod.AGENT:
        fields["power_of_attorney"] = check.power_of_attorney
    if assisted:
        fields["assisted"] = True
    return fields


def check_identity_fields(payload: Mapping[str, Any], case_no: str) -> Problem | None:
    """The hall's check of a ``case.accept``'s identity fields (None: nothing wrong).

    A payload from a counter older than these fields has none of them and passes. Otherwise the
    method must be known; a face check needs the 身份核验单 number issued for this very case; an
    agent needs the agent's ID and the 授权委托书 recorded as presented; ``assisted`` is true or
    absent.
    """
    assisted = payload.get("assisted")
    if assisted is not None and assisted is not True:
        return Problem("op.invalid", {"field": "assisted"})
    raw = payload.get("identity_method")
    slip, attorney = payload.get("identity_slip"), payload.get("power_of_attorney")
    if raw is None:
        if slip is not None or attorney is not None:
            return Problem("identity.method_unknown", {"value": "—"})
        return None
    method = _METHODS.get(raw) if isinstance(raw, str) else None
    if method is None:
        return Problem("identity.method_unknown", {"value": str(raw)[:40]})
    if method is IdentityMethod.FACE:
        expected = slip_number(case_no)
        if not (isinstance(slip, str) and SLIP_NO.fullmatch(slip) and slip == expected):
            return Problem("identity.slip_invalid", {"value": str(slip)[:60], "expected": expected})
    elif slip is not None:
        return Problem("identity.slip_unexpected")
    has_agent = payload.get("agent_id") is not None
    if method is IdentityMethod.AGENT:
        if not has_agent:
            return Problem("identity.agent_missing")
        if attorney is not True:
            return Problem("identity.power_of_attorney")
        return None
    if attorney is not None:
        return Problem("op.invalid", {"field": "power_of_attorney"})
    return Problem("identity.agent_method") if has_agent else None


@dataclass(frozen=True, slots=True)
class CaseIdentity:
    """A stored case's identity check and 帮办代办 mark, as front ends show them."""

    method: IdentityMethod
    slip: str | None  # the 身份核验单 number of a face check
    power_of_attorney: bool
    assisted: bool

    @property
    def zh(self) -> str:
        """One line for the case detail: 身份证原件 / 人脸核验（身份核验单HY-…）…, 帮办代办."""
        text = METHOD_ZH[self.method]
        if self.slip:
            text += f"（身份核验单{self.slip}）"
        if self.method is IdentityMethod.AGENT and not self.power_of_attorney:
            text += "（未收授权委托书）"
        return text + ("，帮办代办" if self.assisted else "")


@dataclass(frozen=True, slots=True)
class Specialist:
    """An enterprise's 办事专员: the one staff member it deals with."""

    credit_code: str
    staff_no: str
    staff_name: str
    assigned_by: str
    assigned_at: str

    @property
    def zh(self) -> str:
        """``姓名（工号）`` as the form and the case detail show it."""
        return f"{self.staff_name}（{self.staff_no}）"
