"""Pushing operations: at most once, checked against the state machine and the sender (SQLite, PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from hall_server.services import backoffice
from models.problems import MESSAGES
from tests.server.conftest import Served
from tests.server.ops import INSTANT, accept, partial, person_id, transition


def statuses(results: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    for result in results:  # every refusal has a known problem code and a Chinese reason
        if result["status"] == "refused":
            assert result["code"] in MESSAGES and re.search("[\u4e00-\u9fff]", result["reason"]), result
    return [(r["status"], r["code"]) for r in results]


def test_a_batch_is_applied_in_order_with_one_result_per_operation(server: Served) -> None:
    api = server.api
    token = api.token()
    ops = [
        accept("GXZX-20261120-00001", **INSTANT),
        transition("GXZX-20261120-00001", "approve", "accepted"),
        accept("GXZX-20261120-00002", state="accepted_tolerated"),
        partial("GXZX-20261120-00002"),
        transition("GXZX-20261120-00002", "supplement", "accepted_tolerated", received=["LEASE"]),
    ]
    results = api.results(token, ops)
    assert [r["op_id"] for r in results] == [op["op_id"] for op in ops]
    assert statuses(results) == [("applied", None)] * 5
    seqs = [r["server_seq"] for r in results]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [r["case_state"] for r in results] == [
        "approved",
        "approved",
        "supplemented",
        "supplemented",
        "supplemented",
    ]
    cases = {c["case_no"]: c for c in backoffice.list_cases(server.engine)}
    assert cases["GXZX-20261120-00001"]["state"] == "approved"
    assert cases["GXZX-20261120-00002"]["state"] == "supplemented"


def test_both_clocks_are_kept_the_clients_verbatim(server: Served) -> None:
    api = server.api
    skewed = "2026-11-13T09:15:00+08:00 (station clock)"  # days off, not even ISO: kept as it came
    api.results(api.token(), [accept("GXZX-20261120-00003", created_at=skewed)])
    case = backoffice.show_case(server.engine, "GXZX-20261120-00003")
    assert case is not None
    [operation] = case["operations"]
    assert operation["created_at"] == skewed
    assert operation["received_at"].startswith("2026-11-20T01:00:00")  # the server's (test) clock


def test_a_repeated_operation_is_answered_with_its_first_result(server: Served) -> None:
    api = server.api
    token = api.token()
    op = accept("GXZX-20261120-00004")
    first = api.results(token, [op])[0]
    again, within = api.results(token, [op, op])
    for repeat in (again, within):
        assert repeat["status"] == "duplicate"
        assert repeat["server_seq"] == first["server_seq"]
        assert repeat["case_state"] == "accepted"
    with server.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM operations")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM cases")).scalar() == 1


def test_a_repeat_within_the_same_batch_is_a_duplicate_of_the_first(server: Served) -> None:
    api = server.api
    op = accept("GXZX-20261120-00005")
    results = api.results(api.token(), [op, op])
    assert statuses(results) == [("applied", None), ("duplicate", None)]
    assert results[0]["server_seq"] == results[1]["server_seq"]


def test_the_same_op_id_with_another_body_is_refused_as_a_mismatch(server: Served) -> None:
    api = server.api
    token = api.token()
    op = accept("GXZX-20261120-00006")
    api.results(token, [op])
    changed = {**op, "payload": {**op["payload"], "applicant_name": "李四"}}
    [result] = api.results(token, [changed])
    assert (result["status"], result["code"]) == ("refused", "op.mismatch")
    assert op["op_id"] in result["reason"]
    # Delivery details are not the body: a new seq or created_at is still the same operation.
    [result] = api.results(token, [{**op, "seq": 99, "created_at": "later"}])
    assert result["status"] == "duplicate"


def test_a_refused_operation_repeats_its_refusal_not_success(server: Served) -> None:
    api = server.api
    token = api.token()
    op = transition("GXZX-20261120-00404", "approve", "accepted")
    first = api.results(token, [op])[0]
    assert (first["status"], first["code"]) == ("refused", "case.unknown")
    again = api.results(token, [op])[0]
    assert (again["status"], again["code"], again["reason"]) == ("refused", "case.unknown", first["reason"])


def test_transitions_must_be_rows_of_the_state_machine(server: Served) -> None:
    api = server.api
    token = api.token()
    case_no = "GXZX-20261120-00007"
    results = api.results(
        token,
        [
            accept(case_no),
            transition(case_no, "approve", "accepted", "delivered"),  # wrong target
            transition(case_no, "supplement", "accepted", "supplemented"),  # not a row at all
            transition(case_no, "fly", "accepted", "approved"),  # not an event
        ],
    )
    assert statuses(results) == [
        ("applied", None),
        ("refused", "case.illegal_transition"),
        ("refused", "case.illegal_transition"),
        ("refused", "op.invalid"),
    ]
    assert "已受理" in results[2]["reason"] and "补正" in results[2]["reason"]
    assert results[1]["case_state"] == "accepted"


def test_a_case_number_held_by_another_accept_is_refused(server: Served) -> None:
    api = server.api
    token = api.token()
    api.results(token, [accept("GXZX-20261120-00008")])
    [result] = api.results(
        token, [accept("GXZX-20261120-00008", applicant_id=person_id("61011319900307123"))]
    )
    assert (result["status"], result["code"]) == ("refused", "case.exists")
    case = backoffice.show_case(server.engine, "GXZX-20261120-00008")
    assert case is not None and case["applicant_id_masked"].endswith("7777")  # ops.APPLICANT_ID


def test_only_the_owning_station_changes_a_case(server: Served) -> None:
    api = server.api
    api.results(api.token(), [accept("GXZX-20261120-00009")])
    park = api.token("Y001", "JHYZ1")
    [result] = api.results(park, [transition("GXZX-20261120-00009", "withdraw", "accepted")], station="JHYZ1")
    assert (result["status"], result["code"]) == ("refused", "auth.forbidden")
    assert "GXZX" in result["reason"]
    [result] = api.results(park, [accept("GXZX-20261120-00010", station="GXZX")], station="JHYZ1")
    assert (result["status"], result["code"]) == ("refused", "auth.forbidden")
    assert backoffice.list_cases(server.engine, state="withdrawn") == []


def test_a_token_pushes_only_for_its_own_station(server: Served) -> None:
    api = server.api
    response = api.push(api.token(), [accept("JHYZ1-20261120-00001", station="JHYZ1")], station="JHYZ1")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "auth.forbidden"


def test_malformed_payloads_are_refused_one_by_one(server: Served) -> None:
    api = server.api
    broken_accept = accept("GXZX-20261120-00030")
    broken_accept["payload"]["state"] = "approved"  # an accept cannot create an approved case
    no_applicant = accept("GXZX-20261120-00031")
    del no_applicant["payload"]["applicant_id"]
    other_number = transition("GXZX-20261120-00030", "approve", "accepted")
    other_number["payload"]["case_no"] = "GXZX-20261120-99999"
    good = accept("GXZX-20261120-00032")
    results = api.results(api.token(), [broken_accept, no_applicant, other_number, good])
    assert statuses(results) == [
        ("refused", "op.invalid"),
        ("refused", "op.invalid"),
        ("refused", "op.invalid"),
        ("applied", None),
    ]
    assert "applicant_id" in results[1]["reason"]


def test_an_empty_batch_is_fine(server: Served) -> None:
    response = server.api.push(server.api.token(), [])
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_full_batch_uses_a_fixed_number_of_queries(server: Served) -> None:
    """1,250 operations in one push: every one applied, and the statements do not grow per op."""
    from sqlalchemy import event

    api = server.api
    token = api.token()
    ops: list[dict[str, Any]] = []
    for n in range(250):
        case_no, instant = f"GXZX-20261120-{n + 100:05d}", f"GXZX-20261120-{n + 500:05d}"
        ops += [
            accept(case_no, state="accepted_tolerated", applicant_id=person_id(f"61011319900307{n:03d}")),
            partial(case_no),
            transition(case_no, "supplement", "accepted_tolerated"),
            accept(instant, **INSTANT),
            transition(instant, "approve", "accepted"),  # checked against the catalogue
        ]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2])[:30])

    event.listen(server.engine, "before_cursor_execute", count)
    try:
        results = api.results(token, ops)
    finally:
        event.remove(server.engine, "before_cursor_execute", count)
    assert {r["status"] for r in results} == {"applied"}
    assert {r["case_state"] for r in results} == {"supplemented", "approved"}
    # The exact number depends on the backend (e.g. the PostgreSQL write lock); it must not scale.
    assert len(statements) < 40, statements


def test_the_largest_outbox_sequence_number_is_stored(server: Served) -> None:
    op = {**accept("GXZX-20261120-00040"), "seq": 2**63 - 1}
    assert statuses(server.api.results(server.api.token(), [op])) == [("applied", None)]


UNSAFE_TEXTS = [
    "\x1b[2J\x1b[31m",  # ANSI: clear the screen, red
    "\x1b]0;pwned\x07",  # OSC: set the window title
    "\x1b]52;c;ZWNobyBwd25lZA==\x07",  # OSC 52: write the clipboard
    "a\x00b",
    "a\x9bb",  # C1 CSI
    "\u202egpj.exe",  # RLO
    "\u2066x\u2069",  # isolates
    "line\nbreak",
]


@pytest.mark.parametrize("unsafe", UNSAFE_TEXTS, ids=lambda text: repr(text)[1:12])
def test_control_and_direction_characters_are_refused_in_any_pushed_text(server: Served, unsafe: str) -> None:
    in_number = accept(f"GXZX-20261120-0{unsafe}")
    in_item = accept("GXZX-20261120-00051")
    in_item["payload"]["item_code"] = f"SCJG-001{unsafe}"
    in_name = accept("GXZX-20261120-00052")
    in_name["payload"]["applicant_name"] = f"张{unsafe}三"
    in_material = accept("GXZX-20261120-00053")
    in_material["payload"]["materials"][1][0] = unsafe
    in_key = accept("GXZX-20261120-00054")
    in_key["payload"][f"note{unsafe}"] = "x"
    in_stamp = accept("GXZX-20261120-00055", created_at=f"2026-11-20T09:15:00{unsafe}")
    good = accept("GXZX-20261120-00056")
    ops = [in_number, in_item, in_name, in_material, in_key, in_stamp, good]
    results = server.api.results(server.api.token(), ops)
    assert statuses(results) == [("refused", "op.unsafe_text")] * 6 + [("applied", None)]
    assert "控制字符" in results[2]["reason"] and "payload.applicant_name" in results[2]["reason"]
    for result in results:  # the reason names the character without carrying it
        assert not any(ch in (result["reason"] or "") for ch in "\x1b\x00\x9b\u202e\u2066\n")
    with server.engine.connect() as conn:
        assert conn.execute(text("SELECT case_no FROM cases")).scalars().all() == ["GXZX-20261120-00056"]
