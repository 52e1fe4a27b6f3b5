"""The hall checks and keeps a case's identity check and 帮办代办 mark (SQLite and PostgreSQL).

A counter records how the applicant was identified (models.identity_check); the hall refuses an
unknown method, a face check without the 身份核验单 number issued for that very case, and an agent
without the 授权委托书, each with a reason, and keeps no case for them. What it accepts it stores,
and a body from a counter older than the check is accepted as before.
"""

from __future__ import annotations

from typing import Any

from hall_server.services import backoffice
from models.problems import MESSAGES
from tests.server.conftest import Served
from tests.server.ops import accept, person_id

AGENT_ID = person_id("61011319851202123")


def _accept(number: int, **changes: Any) -> dict[str, Any]:
    return accept(f"GXZX-20261120-{number:05d}", **changes)


def test_identity_claims_the_hall_can_check_are_refused_with_a_reason(server: Served) -> None:
    api = server.api
    ops = [
        _accept(1, identity_method="passport"),
        _accept(2, identity_method="face"),  # no 身份核验单 number
        _accept(3, identity_method="face", identity_slip="HY-GXZX-20261120-00099"),  # another case's
        _accept(4, identity_method="face", identity_slip="HY-anything"),
        _accept(5, identity_method="agent", agent_id=AGENT_ID),  # no 授权委托书
        _accept(6, identity_method="agent", agent_id=AGENT_ID, power_of_attorney=False),
        _accept(7, identity_method="agent", power_of_attorney=True),  # no agent at all
        _accept(8, identity_method="id_card", agent_id=AGENT_ID),  # an agent, checked as the applicant
        _accept(9, identity_method="id_card", identity_slip="HY-GXZX-20261120-00009"),
        _accept(10, identity_method="e_id", assisted="yes"),
        _accept(11, identity_slip="HY-GXZX-20261120-00011"),  # details without a method
    ]
    results = api.results(api.token(), ops)
    assert [r["status"] for r in results] == ["refused"] * len(ops)
    assert all(r["code"] in MESSAGES for r in results)
    reasons = [r["reason"] for r in results]
    assert "未知的身份核验方式：passport" in reasons[0]
    assert "人脸核验须附本办件的身份核验单编号（应为HY-GXZX-20261120-00002）" in reasons[1]
    assert "收到：HY-GXZX-20261120-00099" in reasons[2]
    assert "应为HY-GXZX-20261120-00004" in reasons[3]
    assert "代办人办理须收取申请人的授权委托书" in reasons[4] and "授权委托书" in reasons[5]
    assert "须填写代办人姓名和身份证号" in reasons[6]
    assert "有代办人时，身份核验方式应为" in reasons[7]
    assert "只有人脸核验才出具身份核验单" in reasons[8]
    assert "字段assisted缺失或格式错误" in reasons[9]
    assert "未知的身份核验方式" in reasons[10]
    assert all(r["code"] == "accept.invalid" for r in results)
    assert backoffice.list_cases(server.engine) == []


def test_the_hall_stores_what_it_accepts(server: Served) -> None:
    api = server.api
    ops = [
        _accept(21, identity_method="face", identity_slip="HY-GXZX-20261120-00021", assisted=True),
        _accept(22, identity_method="agent", agent_id=AGENT_ID, power_of_attorney=True),
        _accept(23, identity_method="e_id"),
        _accept(24),  # a counter from before the check: accepted, nothing recorded
    ]
    results = api.results(api.token(), ops)
    assert [r["status"] for r in results] == ["applied"] * 4, results

    def identity(number: int) -> dict[str, Any] | None:
        shown = backoffice.show_case(server.engine, f"GXZX-20261120-{number:05d}")
        assert shown is not None
        found: dict[str, Any] | None = shown["identity"]
        return found

    assert identity(21) == {
        "method": "face",
        "slip": "HY-GXZX-20261120-00021",
        "power_of_attorney": False,
        "assisted": True,
    }
    assert identity(22) == {"method": "agent", "slip": None, "power_of_attorney": True, "assisted": False}
    assert identity(23) == {"method": "e_id", "slip": None, "power_of_attorney": False, "assisted": False}
    assert identity(24) is None
    # The same operations again are duplicates: nothing is stored twice.
    again = api.results(api.token(), ops)
    assert [r["status"] for r in again] == ["duplicate"] * 4
