"""The case state machine is one table; anything else is refused with a clear reason."""

from __future__ import annotations

import pytest

from models.enums import CaseState
from models.problems import DomainError
from window_client.services.state_machine import TERMINAL, TRANSITIONS, CaseEvent, next_state


def test_tolerated_case_supplements_then_is_approved_and_delivered() -> None:
    state = CaseState.ACCEPTED_TOLERATED
    for event in (
        CaseEvent.SUPPLEMENT,
        CaseEvent.APPROVE,
        CaseEvent.ISSUE_CERTIFICATE,
        CaseEvent.DELIVER,
    ):
        state = next_state("C", state, event)
    assert state is CaseState.DELIVERED


def test_no_certificate_before_materials_are_complete() -> None:
    with pytest.raises(DomainError) as caught:
        next_state("GXZX-20261120-00001", CaseState.ACCEPTED_TOLERATED, CaseEvent.ISSUE_CERTIFICATE)
    assert caught.value.problem.code == "case.illegal_transition"
    assert "容缺受理" in caught.value.problem.zh() and "出证" in caught.value.problem.zh()
    assert "accepted_tolerated" in caught.value.problem.en()


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_states_allow_nothing(state: CaseState) -> None:
    for event in CaseEvent:
        with pytest.raises(DomainError):
            next_state("C", state, event)


def test_every_transition_leads_to_a_known_state() -> None:
    assert all(isinstance(target, CaseState) for target in TRANSITIONS.values())
    assert not any(source in TERMINAL for source, _ in TRANSITIONS)
