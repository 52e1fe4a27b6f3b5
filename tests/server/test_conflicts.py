"""The conflict rule: a case's state is a fold over its operations, whatever order they arrive in."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall_server.domain.auth import BACK_OFFICE, Principal
from hall_server.domain.fold import PRECEDENCE, FoldOp, chain, fold
from hall_server.services import backoffice
from hall_server.services.batch import apply_batch
from hall_server.storage import make_engine, migrate, write_transaction
from models.enums import CaseState
from models.state_machine import TRANSITIONS, CaseEvent
from models.sync import Operation
from tests.server.conftest import Served
from tests.server.ops import INSTANT, accept, fresh_person_id, partial, transition

NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
STATION = Principal("C001", "GXZX", "clerk")
OFFICE = Principal("back-office", BACK_OFFICE, "admin", back_office=True)
VETTED = {CaseEvent.TERMINATE, CaseEvent.APPROVE, CaseEvent.REFUSE}
ROWS = sorted(TRANSITIONS.items(), key=lambda row: (row[0][0].value, row[0][1].value))

# ------------------------------------------------------------------ the pure fold


def test_precedence_is_the_documented_order() -> None:
    assert [e.value for e in PRECEDENCE] == [
        "withdraw", "terminate", "refuse", "approve", "supplement", "issue_certificate", "deliver",
    ]  # fmt: skip


def test_siblings_from_one_state_lose_to_the_highest_precedence() -> None:
    ops = [
        FoldOp("b-approve", 1, "accepted", "approve", "approved"),
        FoldOp("a-withdraw", 2, "accepted", "withdraw", "withdrawn"),
        FoldOp("c-refuse", 3, "accepted", "refuse", "refused"),
        FoldOp("d-issue", 4, "approved", "issue_certificate", "certificate_issued"),
    ]
    result = fold("accepted", ops)
    assert result.state == "withdrawn"
    assert result.lost["b-approve"].winner_op_id == "a-withdraw"
    assert result.lost["c-refuse"].winner_event == "withdraw"
    assert result.lost["d-issue"].winner_op_id is None  # never reached
    assert [op.op_id for op in result.applied] == ["a-withdraw"]


def test_a_tie_goes_to_the_smallest_op_id() -> None:
    ops = [
        FoldOp("op-2", 1, "accepted", "approve", "approved"),
        FoldOp("op-1", 2, "accepted", "approve", "approved"),
    ]
    result = fold("accepted", ops)
    assert [op.op_id for op in result.applied] == ["op-1"]
    assert result.lost["op-2"].winner_op_id == "op-1"


def test_partial_supplements_apply_while_the_case_waits() -> None:
    ops = [
        FoldOp("p1", 1, "accepted_tolerated"),
        FoldOp("s", 2, "accepted_tolerated", "supplement", "supplemented"),
        FoldOp("p2", 3, "accepted_tolerated"),
    ]
    result = fold("accepted_tolerated", ops)
    assert result.state == "supplemented"
    assert [op.op_id for op in result.applied] == ["p1", "p2", "s"]
    assert result.lost == {}
    assert fold("accepted", [FoldOp("p", 1, "accepted_tolerated")]).lost["p"].winner_op_id is None


def candidate_ops(draw: Any, initial: str) -> list[FoldOp]:
    """Any mixture of table rows (reachable or not) and partial supplements."""
    rows = draw(st.lists(st.sampled_from(ROWS), min_size=1, max_size=7))
    partials = draw(st.integers(0, 2))
    ops = [
        FoldOp(f"op-{draw(st.integers(0, 999)):03d}-{n}", n, frm.value, event.value, to.value)
        for n, ((frm, event), to) in enumerate(rows)
    ]
    ops += [FoldOp(f"pt-{n}", 100 + n, CaseState.ACCEPTED_TOLERATED.value) for n in range(partials)]
    return ops


@st.composite
def scenarios(draw: Any) -> tuple[str, list[FoldOp], list[FoldOp]]:
    initial = draw(st.sampled_from(["accepted", "accepted_tolerated", "not_accepted"]))
    ops = candidate_ops(draw, initial)
    shuffled = draw(st.permutations(ops))
    # A different arrival order means different server sequence numbers too.
    renumbered = [FoldOp(op.op_id, n, op.from_state, op.event, op.to_state) for n, op in enumerate(shuffled)]
    return initial, ops, renumbered


@given(scenarios())
def test_the_fold_does_not_depend_on_arrival_order(scenario: tuple[str, list[FoldOp], list[FoldOp]]) -> None:
    initial, ops, other_order = scenario
    first, second = fold(initial, ops), fold(initial, other_order)
    assert first.state == second.state
    assert first.lost == second.lost
    assert {op.op_id for op in first.applied} == {op.op_id for op in second.applied}
    assert len(first.applied) + len(first.lost) == len(ops)
    state = initial
    for op in first.applied:  # the applied operations form a legal path through the table
        assert op.from_state == state
        if op.event is not None:
            assert TRANSITIONS[(CaseState(op.from_state), CaseEvent(op.event))] == op.to_state
            state = op.to_state or state
    assert state == first.state


@st.composite
def walks(draw: Any) -> tuple[str, list[FoldOp], bool]:
    """A path through the table with partial supplements on the way, sometimes disturbed
    (the flag says so)."""
    initial = draw(st.sampled_from(["accepted", "accepted_tolerated", "not_accepted"]))
    ops: list[FoldOp] = []
    state = initial
    for n in range(draw(st.integers(0, 6))):
        if state == CaseState.ACCEPTED_TOLERATED.value and draw(st.booleans()):
            ops.append(FoldOp(f"pt-{n}", n, state))
            continue
        moves = [(event.value, to.value) for (frm, event), to in ROWS if frm.value == state]
        if not moves:
            break
        event, to = draw(st.sampled_from(moves))
        ops.append(FoldOp(f"op-{n}", n, state, event, to))
        state = to
    disturbed = bool(ops) and draw(st.booleans())
    if disturbed:  # a sibling, a stale operation or a reordering
        ops = draw(st.permutations(ops + candidate_ops(draw, initial)[:1]))
        ops = [FoldOp(op.op_id, n, op.from_state, op.event, op.to_state) for n, op in enumerate(ops)]
    return initial, ops, disturbed


@given(walks())
def test_the_chain_shortcut_is_the_fold_whenever_it_applies(walk: tuple[str, list[FoldOp], bool]) -> None:
    initial, ops, disturbed = walk
    shortcut, full = chain(initial, ops), fold(initial, ops)
    if shortcut is None:
        assert disturbed, "a plain path through the table must take the shortcut"
        return
    assert (shortcut.state, shortcut.applied, shortcut.lost) == (full.state, full.applied, full.lost)


# ------------------------------------------------------------------ the fold on the server


@st.composite
def arrivals(draw: Any) -> tuple[str, list[tuple[dict[str, Any], bool]], list[list[int]]]:
    """A case, its operations (each from the station or the back office) and an arrival plan."""
    initial = draw(st.sampled_from(["accepted", "accepted_tolerated"]))
    rows = draw(st.lists(st.sampled_from(ROWS), min_size=1, max_size=6))
    ops: list[tuple[dict[str, Any], bool]] = []
    for n, ((frm, event), to) in enumerate(rows):
        op = transition(
            "CASE", event.value, frm.value, to.value, op_id=f"t{draw(st.integers(0, 99)):02d}-{n}"
        )
        # Terminations and decisions come from the back office: from a station they would have
        # to prove themselves first (test_trust_terminate), which is not what this is about.
        ops.append((op, event in VETTED or draw(st.booleans())))
    for n in range(draw(st.integers(0, 2))):
        ops.append((partial("CASE", op_id=f"p-{n}"), False))
    order = draw(st.permutations(range(len(ops))))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(ops) - 1, 1)), max_size=3)))
    batches = [list(order[a:b]) for a, b in itertools.pairwise([0, *cuts, len(order)]) if order[a:b]]
    return initial, ops, batches


def _renamed(op: dict[str, Any], case_no: str) -> Operation:
    """``op`` on ``case_no``, its id prefixed by the case's (same length: the id order is kept)."""
    prefix = case_no.rsplit("-", 1)[1]
    body = {
        **op,
        "op_id": f"{prefix}-{op['op_id']}",
        "case_no": case_no,
        "payload": {**op["payload"], "case_no": case_no},
    }
    return Operation.model_validate(body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_arrival_order_gives_the_same_state_and_the_same_losers(
    db_url: str, data: st.DataObject
) -> None:
    """Two servers receive the same operations in different orders and batches: same outcome."""
    initial, ops, batches = data.draw(arrivals())
    other_batches = [[i] for i in data.draw(st.permutations(range(len(ops))))]
    engine = make_engine(db_url)
    migrate(engine)
    outcomes = []
    for plan in (batches, other_batches):
        # Fresh per plan (examples share the database), and so is the applicant: a broken promise
        # of an earlier example would make a tolerated accept need a supervisor.
        case_no = f"GXZX-20261120-{uuid.uuid4().int % 10**9:09d}"
        first = accept("CASE", state=initial, op_id="accept-0", applicant_id=fresh_person_id())
        with write_transaction(engine) as conn:
            [accepted] = apply_batch(conn, STATION, [_renamed(first, case_no)], NOW)
        assert accepted.status == "applied", accepted
        for batch in plan:
            for office, group in itertools.groupby(batch, key=lambda i: ops[i][1]):
                with write_transaction(engine) as conn:
                    apply_batch(
                        conn,
                        OFFICE if office else STATION,
                        [_renamed(ops[i][0], case_no) for i in group],
                        NOW,
                    )
        shown = backoffice.show_case(engine, case_no)
        assert shown is not None

        def plain(op_id: str | None) -> str | None:
            return op_id.split("-", 1)[1] if op_id else None

        lost = {
            (plain(o["op_id"]), plain(o["winner_op_id"])) for o in shown["operations"] if o["fold"] == "lost"
        }
        applied = {plain(o["op_id"]) for o in shown["operations"] if o["fold"] == "applied"}
        outcomes.append((shown["state"], lost, applied))
    engine.dispose()
    expected = fold(
        initial,
        [
            FoldOp(
                op["op_id"],
                n,
                op["payload"].get("from", "accepted_tolerated"),
                op["payload"].get("event"),
                op["payload"].get("to"),
            )
            for n, (op, _) in enumerate(ops)
        ],
    )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == expected.state
    assert outcomes[0][1] == {(op_id, loss.winner_op_id) for op_id, loss in expected.lost.items()}


# ------------------------------------------------------------------ what staff see


def test_an_applied_operation_that_loses_later_is_reported_to_its_station(server: Served) -> None:
    api = server.api
    token = api.token()
    case_no = "GXZX-20261120-00101"
    approve = transition(case_no, "approve", "accepted")
    issue = transition(case_no, "issue_certificate", "approved")
    assert [r["status"] for r in api.results(token, [accept(case_no, **INSTANT), approve, issue])] == [
        "applied"
    ] * 3
    # A withdrawal recorded at another counter of the station while it was offline arrives later.
    withdraw = transition(case_no, "withdraw", "accepted")
    [result] = api.results(token, [withdraw])
    assert (result["status"], result["case_state"]) == ("applied", "withdrawn")
    changes = [c for c in api.changes(token) if c["key"] == case_no]
    conflicts = {c["payload"]["op_id"]: c["payload"] for c in changes if c["kind"] == "case.conflict"}
    assert set(conflicts) == {approve["op_id"], issue["op_id"]}
    assert conflicts[approve["op_id"]]["winner_op_id"] == withdraw["op_id"]
    assert conflicts[issue["op_id"]]["winner_op_id"] is None
    assert "撤回" in conflicts[approve["op_id"]]["reason"]
    states = [c["payload"] for c in changes if c["kind"] == "case.state"]
    assert states[-1]["state"] == "withdrawn" and states[-1]["event"] == "withdraw"
    assert [s["version"] for s in states] == sorted({s["version"] for s in states})
    shown = backoffice.show_case(server.engine, case_no)
    assert shown is not None and {c["op_id"] for c in shown["conflicts"]} == {
        approve["op_id"],
        issue["op_id"],
    }


def test_an_operation_that_loses_on_arrival_is_refused_as_a_conflict(server: Served) -> None:
    api = server.api
    token = api.token()
    case_no = "GXZX-20261120-00102"
    api.results(token, [accept(case_no, **INSTANT), transition(case_no, "refuse", "accepted")])
    late_approve = transition(case_no, "approve", "accepted")
    [result] = api.results(token, [late_approve])
    assert (result["status"], result["code"], result["case_state"]) == ("refused", "case.conflict", "refused")
    assert "不予许可" in result["reason"]
    again = api.results(token, [late_approve])[0]
    assert (again["status"], again["code"]) == ("refused", "case.conflict")
    assert not [c for c in api.changes(token) if c["kind"] == "case.conflict"]  # answered directly


def test_a_back_office_decision_loses_to_a_withdrawal_from_the_counter(server: Served) -> None:
    api = server.api
    token = api.token()
    case_no = "GXZX-20261120-00103"
    api.results(token, [accept(case_no)])
    decision = backoffice.decide(server.engine, case_no, CaseEvent.APPROVE, by="审批科", reason=None)
    assert decision.state == "approved"
    [result] = api.results(token, [transition(case_no, "withdraw", "accepted")])
    assert result["case_state"] == "withdrawn"
    conflicts = [c["payload"] for c in api.changes(token) if c["kind"] == "case.conflict"]
    assert [c["op_id"] for c in conflicts] == [decision.op_id]
