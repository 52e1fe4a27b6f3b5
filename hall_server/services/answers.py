"""The answers a push gives: one :class:`Result` per operation, repeats, mismatches and conflicts.

An ``op_id`` the hall has seen is answered with its first result (``duplicate`` when it was
applied, the same refusal when it was refused) as long as its body is the same
(:func:`models.sync.body_hash`); with another body it is refused ``op.mismatch``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from hall_server import storage
from hall_server.domain.operations import Incoming
from models.enums import CaseState
from models.problems import Problem
from models.state_machine import EVENT_ZH, STATE_ZH, CaseEvent
from models.sync import AnchorAnswer, OpStatus, body_hash, encode_op_result, encode_push_response

APPLIED, LOST, REFUSED = "applied", "lost", "refused"


@dataclass(slots=True)
class Result:
    """The answer to one operation (an :class:`~models.sync.OpResult` without pydantic's cost per item)."""

    op_id: str
    status: str
    code: str | None = None
    reason: str | None = None
    server_seq: int | None = None
    case_state: str | None = None

    def json(self) -> str:
        """As :class:`~models.sync.OpResult` JSON."""
        return encode_op_result(
            self.op_id, self.status, self.code, self.reason, self.server_seq, self.case_state
        )


def results_json(
    results: Sequence[Result], server_time: dt.datetime, audit: AnchorAnswer | None = None
) -> str:
    """A :class:`~models.sync.PushResponse` as JSON."""
    return encode_push_response([result.json() for result in results], server_time, audit)


def conflict_reason(
    case_no: str, event: str | None, winner_op_id: str | None, winner_event: str | None, state: str
) -> str:
    """The Chinese reason of a ``case.conflict``: who won, or that the case never got there."""
    event_zh = EVENT_ZH[CaseEvent(event)] if event else "部分补正"
    state_zh = STATE_ZH[CaseState(state)]
    if winner_event is not None:
        winner_zh = EVENT_ZH[CaseEvent(winner_event)]
        cause = f"另一操作（{winner_zh}，{winner_op_id}）优先生效，办件当前状态为“{state_zh}”"
        cause_en = f"{winner_event} ({winner_op_id}) takes precedence; the case is {state}"
    else:
        cause = f"办件未处于该操作所依据的状态，当前状态为“{state_zh}”"
        cause_en = f"the case never reached the state it starts from; the case is {state}"
    params = {
        "case_no": case_no,
        "event": event_zh,
        "event_code": event or "",
        "cause": cause,
        "cause_en": cause_en,
    }
    return Problem("case.conflict", params).zh()


def mismatch(op_id: str) -> Result:
    """The answer to an ``op_id`` seen before with another body."""
    return Result(op_id, REFUSED, "op.mismatch", Problem("op.mismatch", {"op_id": op_id}).zh())


def op_hash(op: Incoming) -> str:
    """The body hash of a pushed operation."""
    return body_hash(op.kind.value, op.case_no, op.payload)


def repeat(answer: storage.Answer, op: Incoming) -> Result:
    """The answer to an operation id the server has seen in an earlier batch."""
    if body_hash(answer.kind, answer.case_no, json.loads(answer.payload)) != op_hash(op):
        return mismatch(answer.op_id)
    if answer.status == APPLIED:
        return Result(
            answer.op_id, OpStatus.DUPLICATE.value, None, None, answer.server_seq, answer.answer_state
        )
    return Result(answer.op_id, REFUSED, answer.code, answer.reason, answer.server_seq, answer.answer_state)


def repeat_of_new(first: Result | None) -> Result:
    """The answer to an operation repeated within its own batch."""
    assert first is not None
    status = OpStatus.DUPLICATE.value if first.status == APPLIED else first.status
    return Result(first.op_id, status, first.code, first.reason, first.server_seq, first.case_state)
