"""补正 outcomes (models/supplement.py): examples, and a Hypothesis property against the rules of
DESIGN.md §3 computed here independently."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from models.supplement import Outstanding, SupplementStep, supplement_outcome

DAY = dt.date(2026, 11, 20)
ID_COPY = Outstanding("ID_COPY", "身份证复印件", DAY + dt.timedelta(days=3))
LEASE = Outstanding("LEASE", "租赁合同", DAY + dt.timedelta(days=5))


def test_the_last_material_completes_the_case() -> None:
    outcome = supplement_outcome(True, [ID_COPY, LEASE], {"ID_COPY", "LEASE", "OTHER"}, DAY)
    assert (outcome.step, outcome.problem, outcome.received, outcome.left) == (
        SupplementStep.COMPLETE,
        None,
        ("ID_COPY", "LEASE"),
        (),
    )


def test_some_materials_are_recorded_and_the_next_deadline_watched() -> None:
    outcome = supplement_outcome(True, [ID_COPY, LEASE], ["LEASE"], DAY)
    assert outcome.step is SupplementStep.PARTIAL
    assert outcome.received == ("LEASE",) and outcome.left == (ID_COPY,)
    assert outcome.next_due == ID_COPY.due
    assert outcome.problem is not None and outcome.problem.code == "supplement.incomplete"
    assert outcome.problem.zh().count("身份证复印件") == 1


def test_a_late_material_ends_the_case_naming_its_deadline() -> None:
    late_day = LEASE.due + dt.timedelta(days=1)  # both overdue; the received one is named
    outcome = supplement_outcome(True, [ID_COPY, LEASE], ["LEASE"], late_day)
    assert outcome.step is SupplementStep.TERMINATE
    assert outcome.problem is not None and outcome.problem.code == "supplement.late"
    assert outcome.problem.params["due"] == LEASE.due.isoformat()


def test_an_overdue_material_ends_the_case_even_when_another_arrives_on_time() -> None:
    day = ID_COPY.due + dt.timedelta(days=1)  # the ID copy is overdue, the lease is not
    outcome = supplement_outcome(True, [ID_COPY, LEASE], ["LEASE"], day)
    assert outcome.step is SupplementStep.TERMINATE
    assert outcome.problem is not None and outcome.problem.params["due"] == ID_COPY.due.isoformat()


def test_non_conforming_materials_end_the_case() -> None:
    outcome = supplement_outcome(True, [ID_COPY], ["ID_COPY"], DAY, conforming=False)
    assert outcome.step is SupplementStep.TERMINATE
    assert outcome.problem is not None and outcome.problem.code == "supplement.nonconforming"


def test_nothing_to_record_leaves_the_state_machine_to_decide() -> None:
    assert supplement_outcome(True, [ID_COPY], ["OTHER"], DAY).step is SupplementStep.NOTHING
    assert supplement_outcome(False, [ID_COPY], ["ID_COPY"], DAY).step is SupplementStep.NOTHING


@st.composite
def cases(draw: st.DrawFn) -> tuple[bool, list[Outstanding], set[str], dt.date, bool]:
    codes = draw(st.lists(st.sampled_from([f"M{i}" for i in range(6)]), unique=True, max_size=5))
    offsets = st.integers(-4, 6)
    outstanding = [Outstanding(c, f"材料{c}", DAY + dt.timedelta(days=draw(offsets))) for c in codes]
    received = draw(st.sets(st.sampled_from([*codes, "X1", "X2"]))) if codes else draw(st.sets(st.just("X1")))
    return draw(st.booleans()), outstanding, received, DAY, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(cases())
def test_outcomes_follow_the_rules(case: tuple[bool, list[Outstanding], set[str], dt.date, bool]) -> None:
    tolerated, outstanding, received, day, conforming = case
    outcome = supplement_outcome(tolerated, outstanding, received, day, conforming)
    arrived = [m for m in outstanding if m.code in received]
    missing = [m for m in outstanding if m.code not in received]
    # Every outstanding material is either received or left, in the case's order.
    assert list(outcome.received) == [m.code for m in arrived] and list(outcome.left) == missing
    overdue = [m for m in outstanding if m.due < day]
    if not tolerated:
        expected = SupplementStep.NOTHING
    elif overdue or not conforming:
        expected = SupplementStep.TERMINATE
    elif not missing:
        expected = SupplementStep.COMPLETE
    elif arrived:
        expected = SupplementStep.PARTIAL
    else:
        expected = SupplementStep.NOTHING
    assert outcome.step is expected
    problem = outcome.problem
    if expected is SupplementStep.TERMINATE and overdue:
        late = [m for m in overdue if m.code in received]
        assert problem is not None and problem.code == "supplement.late"
        assert problem.params["due"] == min(m.due for m in (late or overdue)).isoformat()
    elif expected is SupplementStep.TERMINATE:
        assert problem is not None and problem.code == "supplement.nonconforming"
    elif expected is SupplementStep.PARTIAL:
        assert outcome.next_due == min(m.due for m in missing)
        assert problem is not None and problem.code == "supplement.incomplete"
        assert problem.params["names"] == "、".join(m.name for m in missing)
    else:
        assert problem is None and outcome.next_due is None
