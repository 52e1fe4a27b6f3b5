"""Supervisor approvals (models.approval): bound to one act, subject, station and password."""

from __future__ import annotations

import functools

import pytest

from models.approval import (
    Approval,
    ApprovalAct,
    approval_public_key,
    check_approval,
    derive_approval_key,
    sign_approval,
)
from models.seal import KeyPair

AT = "2026-12-04T02:00:00+00:00"
CASE = "GXZX-20261204-00001"


@functools.cache
def key(staff_no: str = "S001", password: str = "demo-5678") -> KeyPair:
    return derive_approval_key(staff_no, password)


def test_the_key_is_a_function_of_the_staff_number_and_password() -> None:
    assert key().public_hex == approval_public_key("S001", "demo-5678")
    assert key("S001", "another password").public_hex != key().public_hex
    assert key("S002", "demo-5678").public_hex != key().public_hex


def test_an_approval_verifies_for_exactly_what_was_signed() -> None:
    approval = Approval.from_dict(sign_approval(key(), ApprovalAct.TERMINATE, CASE, "GXZX", AT).to_dict())
    assert approval is not None and approval.by == "S001"
    assert check_approval(approval, ApprovalAct.TERMINATE, CASE, "GXZX", [key().public_hex])


@pytest.mark.parametrize(
    ("act", "subject", "station"),
    [
        (ApprovalAct.TOLERATE, CASE, "GXZX"),  # another act
        (ApprovalAct.TERMINATE, "GXZX-20261204-00002", "GXZX"),  # another case
        (ApprovalAct.TERMINATE, CASE, "JHZX"),  # another station
    ],
)
def test_an_approval_cannot_be_moved(act: str, subject: str, station: str) -> None:
    approval = sign_approval(key(), ApprovalAct.TERMINATE, CASE, "GXZX", AT)
    assert not check_approval(approval, act, subject, station, [key().public_hex])


def test_a_forged_or_edited_approval_does_not_verify() -> None:
    genuine = sign_approval(key(), ApprovalAct.TERMINATE, CASE, "GXZX", AT)
    # A clerk who does not know the password signs with a key of their own making.
    forged = sign_approval(key("S001", "guess"), ApprovalAct.TERMINATE, CASE, "GXZX", AT)
    assert not check_approval(forged, ApprovalAct.TERMINATE, CASE, "GXZX", [key().public_hex])
    edited = Approval(**{**genuine.to_dict(), "at": "2026-12-05T02:00:00+00:00"})
    assert not check_approval(edited, ApprovalAct.TERMINATE, CASE, "GXZX", [key().public_hex])
    # Signed by S001 but claimed as S002's approval.
    renamed = Approval(**{**genuine.to_dict(), "by": "S002"})
    assert not check_approval(renamed, ApprovalAct.TERMINATE, CASE, "GXZX", [key().public_hex])


@pytest.mark.parametrize(
    "data",
    [
        None,
        "S001",
        {},
        {"act": "case.terminate"},
        {**dict.fromkeys(("act", "subject", "station", "by", "at", "key_id", "signature"), 1)},
    ],
)
def test_anything_else_is_no_approval(data: object) -> None:
    assert Approval.from_dict(data) is None


def test_a_field_with_the_separator_cannot_be_signed() -> None:
    with pytest.raises(ValueError):
        sign_approval(key(), ApprovalAct.TERMINATE, "a|b", "GXZX", AT)
