"""The hall checks a pushed ``case.accept`` as the counter decides a case (issue 10, SQLite and PostgreSQL).

A station's client could push anything: these tests push what the real client never would and
check that the hall refuses it with a problem code and a Chinese reason, and keeps no case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hall_server.domain import reference
from hall_server.services import backoffice, publishing
from models.approval import ApprovalAct, derive_approval_key, sign_approval
from models.problems import MESSAGES
from tests.server.conftest import Served
from tests.server.ops import accept, person_id, signed, transition

ID_FORMAT = "身份证号格式不正确：只能是17位数字加一位数字或X"
ORG_ID = "11610131MB2978467M"  # a valid unified social credit code (the catalogue's issuer)


def refusals(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(code, reason) of every result, each checked to be a refusal with a Chinese reason."""
    found = []
    for result in results:
        assert result["status"] == "refused", result
        assert result["code"] in MESSAGES and re.search("[\u4e00-\u9fff]", result["reason"]), result
        found.append((result["code"], result["reason"]))
    return found


def known_cases(server: Served) -> set[str]:
    return {c["case_no"] for c in backoffice.list_cases(server.engine)}


def test_accepts_the_counter_would_never_make_are_refused(server: Served) -> None:
    api = server.api
    number = iter(range(1, 100))

    def bad(state: str = "accepted", **changes: Any) -> dict[str, Any]:
        return accept(f"GXZX-20261120-{next(number):05d}", state=state, **changes)

    core_missing = bad()["payload"]["materials"]
    core_missing[2][1] = "missing"  # ID_CARD, a core material
    lease_missing = bad()["payload"]["materials"]
    lease_missing[5][1] = "missing"  # LEASE, tolerable: accepted only against a commitment
    ops = [
        bad(item_code="NOPE-001"),
        bad(applicant_id=person_id("61011319900307123")[:17] + "0"),  # wrong GB 11643 check digit
        bad(applicant_type="org", applicant_id=ORG_ID[:17] + "N", applicant_name="西安某科技有限公司"),
        bad(accepted_on="2026-13-45"),
        bad(due_date="2026-02-30"),
        bad(due_date="2027-06-30"),  # SCJG-001 promises 1 working day
        bad(materials=core_missing),
        bad("accepted_tolerated", materials=core_missing, due_date=None, supplement_due="2026-11-23"),
        bad(materials=lease_missing),
        bad(materials=[["ID_CARD", "presented"], ["TITLE_DEED", "presented"]]),
        bad(applicant_name="<b>张三</b>"),
    ]
    malformed = [
        bad(verdict=["complete"]),
        bad(materials=[["ID_CARD", {"status": "presented"}]]),
        bad(materials="ID_CARD"),
        bad(agent_id=12345),
    ]
    results = api.results(api.token(), ops + malformed)
    assert [(r["code"], r["reason"]) for r in results[len(ops) :]] == [
        ("op.invalid", "操作内容无效：字段verdict缺失或格式错误"),
        ("op.invalid", "操作内容无效：字段materials缺失或格式错误"),
        ("op.invalid", "操作内容无效：字段materials缺失或格式错误"),
        ("accept.invalid", f"办件{malformed[3]['case_no']}的受理信息未通过大厅校验：{ID_FORMAT}"),
    ]
    results = results[: len(ops)]
    found = refusals(results)
    assert [code for code, _ in found] == [
        "accept.invalid",
        "accept.invalid",
        "accept.invalid",
        "accept.invalid",
        "accept.invalid",
        "accept.invalid",
        "accept.inconsistent",
        "accept.inconsistent",
        "accept.inconsistent",
        "accept.invalid",
        "accept.invalid",
    ]
    reasons = [reason for _, reason in found]
    assert "未知的事项编码" in reasons[0]
    assert "身份证号校验位错误" in reasons[1]
    assert "统一社会信用代码校验位错误" in reasons[2]
    assert "受理日期不是有效日期：2026-13-45" in reasons[3]
    assert "办结期限不是有效日期" in reasons[4]
    assert "办结期限为2027-06-30，按事项时限应在2026-11-23至2026-11-23之间" in reasons[5]
    assert "缺少核心要件" in reasons[6] and "居民身份证" in reasons[6]
    assert "缺少核心要件" in reasons[7]
    assert "缺少材料" in reasons[8]
    assert "不需要此材料" in reasons[9]
    assert "姓名/名称含有不允许的字符" in reasons[10]
    assert known_cases(server) == set()


def test_a_park_station_may_accept_only_its_own_items(server: Served) -> None:
    api = server.api
    park = api.token("Y001", "JHYZ1")
    own = accept("JHYZ1-20261120-00001", station="JHYZ1")
    foreign = accept("JHYZ1-20261120-00002", station="JHYZ1", item_code="BDC-001")
    results = api.results(park, [own, foreign], station="JHYZ1")
    assert results[0]["status"] == "applied"
    [(code, reason)] = refusals(results[1:])
    assert code == "accept.invalid" and "本站点不受理该事项：BDC-001" in reason
    assert known_cases(server) == {"JHYZ1-20261120-00001"}


# ------------------------------------------------------------------ tolerance beyond policy


def _break_a_promise(server: Served, applicant: str) -> None:
    """A tolerated case of ``applicant`` terminated for a late 补正: an unfulfilled commitment."""
    api = server.api
    clerk = api.token()
    first = "GXZX-20261120-00100"
    # Terminated with S001's signed approval (the hall checks a "supplement.late" by its dates).
    late = transition(first, "terminate", "accepted_tolerated", reason="申请人未补正", approval=signed(first))
    assert [
        r["status"]
        for r in api.results(clerk, [accept(first, state="accepted_tolerated", applicant_id=applicant), late])
    ] == ["applied", "applied"]


def _approval(
    case_no: str, staff_no: str = "S001", password: str = "demo-5678", station: str = "GXZX"
) -> dict[str, str]:
    key = derive_approval_key(staff_no, password)
    return sign_approval(key, ApprovalAct.TOLERATE, case_no, station, "2026-11-20T01:30:00+00:00").to_dict()


def test_tolerance_beyond_policy_needs_a_signed_approval_not_a_name(server: Served) -> None:
    api = server.api
    applicant = person_id("61011319850101002")
    _break_a_promise(server, applicant)
    clerk = api.token()
    numbers = [f"GXZX-20261120-{n:05d}" for n in range(101, 107)]

    def tolerated(case_no: str, **changes: Any) -> dict[str, Any]:
        return accept(case_no, state="accepted_tolerated", applicant_id=applicant, **changes)

    ops = [
        tolerated(numbers[0]),  # nobody approved
        tolerated(numbers[1], approved_by="S001"),  # a name proves nothing
        tolerated(numbers[2], approved_by="S001", approval=_approval(numbers[0])),  # another case's
        tolerated(numbers[3], approved_by="C001", approval=_approval(numbers[3], "C001", "demo-1234")),
        tolerated(numbers[4], approved_by="S001", approval=_approval(numbers[4])),
        tolerated(numbers[5], approval=_approval(numbers[5], "A001", "demo-9999")),  # an admin may
    ]
    results = api.results(clerk, ops)
    found = refusals(results[:4])
    assert [code for code, _ in found] == ["accept.needs_approval"] * 4
    assert "未履行的容缺承诺" in found[0][1] and "签名批准" in found[0][1]
    assert [r["status"] for r in results[4:]] == ["applied", "applied"]
    assert {c["case_no"] for c in backoffice.list_cases(server.engine, state="accepted_tolerated")} == {
        numbers[4],
        numbers[5],
    }


def test_a_supervisor_approves_only_at_their_own_station(server: Served) -> None:
    api = server.api
    applicant = person_id("61011319850101003")
    _break_a_promise(server, applicant)
    park = api.token("Y001", "JHYZ1")
    case_no = "JHYZ1-20261120-00001"
    op = accept(
        case_no,
        station="JHYZ1",
        state="accepted_tolerated",
        applicant_id=applicant,
        approved_by="S001",
        approval=_approval(case_no, station="JHYZ1"),  # S001 supervises GXZX, not JHYZ1
    )
    [(code, _)] = refusals(api.results(park, [op], station="JHYZ1"))
    assert code == "accept.needs_approval"


def test_an_applicant_in_good_standing_needs_no_approval(server: Served) -> None:
    api = server.api
    op = accept(
        "GXZX-20261120-00120", state="accepted_tolerated", applicant_id=person_id("61011319850101004")
    )
    assert [r["status"] for r in api.results(api.token(), [op])] == ["applied"]


# ------------------------------------------------------------------ case numbers


def test_a_station_cannot_squat_another_stations_case_numbers(server: Served) -> None:
    api = server.api
    park = api.token("Y001", "JHYZ1")
    squat = accept("GXZX-20261120-00001", station="JHYZ1")
    [(code, reason)] = refusals(api.results(park, [squat], station="JHYZ1"))
    assert code == "case.number_invalid"
    assert "编号前缀GXZX不是本站（JHYZ1）的站点代码" in reason
    # The real owner's case with that number is accepted as usual.
    [result] = api.results(api.token(), [accept("GXZX-20261120-00001")])
    assert result["status"] == "applied"
    assert known_cases(server) == {"GXZX-20261120-00001"}


def test_a_case_number_must_read_station_date_sequence(server: Served) -> None:
    api = server.api
    ops = [
        accept("GXZX-2026112-1"),
        accept("GXZX-20261120-00002", accepted_on="2026-11-19"),  # the number says the 20th
        accept("GXZX-20261120-00003-X"),
    ]
    odd_date = accept("GXZX-20261340-00004")  # no 40th of the 13th month: the date is the default
    ops.append(odd_date)
    found = refusals(api.results(api.token(), ops))
    assert [code for code, _ in found] == ["case.number_invalid"] * 4
    assert "格式应为“站点代码-年月日-序号”" in found[0][1]
    assert "与受理日期2026-11-19不一致" in found[1][1]
    assert known_cases(server) == set()


# ------------------------------------------------------------------ the hall's own reference data


def test_the_hall_judges_by_the_catalogue_and_holidays_it_published(server: Served, tmp_path: Path) -> None:
    api = server.api
    park = api.token("Y001", "JHYZ1")
    catalogue = json.loads(reference.SHIPPED_CATALOG.read_text(encoding="utf-8"))
    for listed in catalogue["stations"]:
        if listed["code"] == "JHYZ1":
            listed["items"] = [code for code in listed["items"] if code != "SCJG-001"]
    file = tmp_path / "catalog.json"
    file.write_text(json.dumps({**catalogue, "version": "2026.12.1"}, ensure_ascii=False), encoding="utf-8")
    publishing.publish_catalog(server.engine, file, server.clock())
    [(code, reason)] = refusals(
        api.results(park, [accept("JHYZ1-20261120-00001", station="JHYZ1")], station="JHYZ1")
    )
    assert code == "accept.invalid" and "本站点不受理该事项：SCJG-001" in reason

    # 2031 is shipped nowhere: weekends only, until the hall publishes its arrangement.
    late = "2031-01-13"  # one working day after Wed 2031-01-01 when the 2nd to the 10th are off
    clerk = api.token()
    first = accept("GXZX-20310101-00001", due_date=late)
    [(code, reason)] = refusals(api.results(clerk, [first]))
    assert code == "accept.invalid" and "应在2031-01-02至2031-01-02之间" in reason
    arrangement = {
        "year": 2031,
        "source": "测试安排",
        "holidays": [{"name": "测试假期", "dates": [f"2031-01-{day:02d}" for day in range(2, 11)]}],
    }
    file = tmp_path / "2031.json"
    file.write_text(json.dumps(arrangement, ensure_ascii=False), encoding="utf-8")
    publishing.publish_holidays(server.engine, file, server.clock())
    second = accept("GXZX-20310101-00002", due_date=late)
    # A station that has not pulled 2031 yet counts weekends only: that is accepted too.
    third = accept("GXZX-20310101-00003", due_date="2031-01-02")
    assert [r["status"] for r in api.results(clerk, [second, third])] == ["applied", "applied"]
