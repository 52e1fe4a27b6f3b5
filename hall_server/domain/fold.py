"""The conflict rule: a case's state is a deterministic fold over all of its operations.

Every structurally valid operation on a case is kept, whatever order it arrives in. A case's
state is not "the last write" but the fold of that set, so every server (and every arrival
order) arrives at the same state and the same losers:

1. Start from the state the accept operation created (``accepted``, ``accepted_tolerated`` or
   ``not_accepted``).
2. Apply every not-yet-applied operation that does not change the state (a partial 补正) whose
   ``from`` equals the current state, in the server's sequence order.
3. Among the state-changing operations whose ``from`` equals the current state, the winner is
   the one whose event comes first in :data:`PRECEDENCE` — withdraw > terminate > refuse >
   approve > supplement > issue_certificate > deliver — ties broken by the smallest ``op_id``.
   The winner is applied (the state becomes its ``to``); its siblings from that state lose,
   recording the winner's op id and event.
4. Repeat 2–3 until no operation starts from the current state. Operations never reached (their
   ``from`` state is never the current state) lose too, with no winner.

The state machine has no cycles, so a state is current at most once and every operation is
decided exactly once. Precedence favours the operations that end a case on the applicant's or
the law's terms (撤回, 终止, 不予许可) over routine progress, so an approval recorded at a counter
cannot silently overwrite a withdrawal recorded elsewhere.

What the server does with the outcome (answering ``refused``/``case.conflict`` to an operation
that loses on arrival, a ``case.conflict`` change when an applied operation later loses, a
``case.state`` change whenever the folded state changes) lives in :mod:`hall_server.services.outcomes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from models.state_machine import CaseEvent

PRECEDENCE: tuple[CaseEvent, ...] = (
    CaseEvent.WITHDRAW,
    CaseEvent.TERMINATE,
    CaseEvent.REFUSE,
    CaseEvent.APPROVE,
    CaseEvent.SUPPLEMENT,
    CaseEvent.ISSUE_CERTIFICATE,
    CaseEvent.DELIVER,
)
_RANK: dict[str, int] = {event.value: rank for rank, event in enumerate(PRECEDENCE)}


class FoldOp(NamedTuple):
    """One kept operation of a case, as the fold sees it (a named tuple: made per operation).

    States and events are their string values (``CaseState``/``CaseEvent`` members are strings
    too); ``event`` and ``to_state`` are None for an operation that does not change the state.
    """

    op_id: str
    server_seq: int
    from_state: str
    event: str | None = None
    to_state: str | None = None

    @property
    def changes_state(self) -> bool:
        """Whether applying the operation moves the case to another state."""
        return self.event is not None


class Loss(NamedTuple):
    """Why an operation lost: the winner from its state, or None when it was never reached."""

    winner_op_id: str | None
    winner_event: str | None


@dataclass(slots=True)
class FoldResult:
    """The folded state, the applied operations in order and the losers."""

    state: str
    applied: list[FoldOp] = field(default_factory=list)
    lost: dict[str, Loss] = field(default_factory=dict)

    @property
    def last_change(self) -> FoldOp | None:
        """The applied operation that set the current state (None: still the accept's state)."""
        for op in reversed(self.applied):
            if op.changes_state:
                return op
        return None


def _precedence(op: FoldOp) -> tuple[int, str]:
    return (_RANK[op.event] if op.event else 0, op.op_id)


def fold(initial: str, operations: Iterable[FoldOp]) -> FoldResult:
    """Fold ``operations`` (everything but the accept) starting from ``initial``."""
    by_state: dict[str, list[FoldOp]] = {}
    for op in operations:
        by_state.setdefault(op.from_state, []).append(op)
    result = FoldResult(initial)
    # Each state's operations are decided once (popped): the table has no cycles, and a state
    # reached again would find nothing left to apply.
    while (here := by_state.pop(result.state, None)) is not None:
        if len(here) > 1:
            here.sort(key=lambda op: op.server_seq)
        result.applied.extend(op for op in here if op.event is None)
        contenders = [op for op in here if op.event is not None]
        if not contenders:
            break
        winner = contenders[0] if len(contenders) == 1 else min(contenders, key=_precedence)
        result.applied.append(winner)
        for op in contenders:
            if op is not winner:
                result.lost[op.op_id] = Loss(winner.op_id, winner.event)
        assert winner.to_state is not None
        result.state = winner.to_state
    for unreached in by_state.values():
        for op in unreached:
            result.lost[op.op_id] = Loss(None, None)
    return result


def chain(initial: str, operations: Iterable[FoldOp]) -> FoldResult | None:
    """The fold of ``operations`` when each starts from the state the ones before it left.

    Operations in server order that apply one after another (a partial 补正 from the current
    state, or a transition from it) fold to the same result as :func:`fold`: the state machine
    has no cycles, so no later operation starts from a state already left and nothing contends
    or goes unreached. Anything else returns None, and the caller folds in full. The push uses
    this for the common case of a batch carrying a case forward; a test checks the two agree.
    """
    result = FoldResult(initial)
    for op in operations:
        if op.from_state != result.state:
            return None
        result.applied.append(op)
        if op.to_state is not None:
            result.state = op.to_state
    return result
