"""What a batch's kept operations do to their cases: the fold, the answers it decides, the
changes for the feed and the applicants' standings.

Every structurally valid operation is kept and its case refolded by the conflict rule of
:mod:`hall_server.domain.fold`. An operation that loses on arrival is answered ``refused`` with
code ``case.conflict``; an applied one that loses later gets a ``case.conflict`` change for its
station. Every change of a case's folded state appends a ``case.state`` change for the owning
station, and every change of an applicant's commitments at a station an ``applicant.standing``
change for every station.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from hall_server import storage
from hall_server.domain.auth import BACK_OFFICE, Principal
from hall_server.domain.fold import FoldOp, FoldResult, chain, fold
from hall_server.domain.operations import Incoming
from hall_server.domain.vetting import Vetting
from hall_server.services.answers import APPLIED, LOST, REFUSED, conflict_reason
from hall_server.storage import CaseRecord, NewChange
from models.enums import CaseState
from models.sync import ChangeKind


@dataclass(slots=True)
class Pending:
    """A kept operation of this batch, waiting for the fold to decide it."""

    index: int
    row: dict[str, Any]
    fold_op: FoldOp | None  # None for an accept


@dataclass(slots=True)
class OpInfo:
    """What the changes need to say about an operation."""

    station: str
    origin: str
    staff_no: str
    payload: Mapping[str, Any] | None = None
    payload_json: str | None = None  # a stored operation's payload, decoded only when needed

    def data(self) -> Mapping[str, Any]:
        """The operation's payload."""
        if self.payload is None:
            loaded = json.loads(self.payload_json or "{}")
            self.payload = loaded if isinstance(loaded, dict) else {}
        return self.payload


@dataclass(slots=True)
class Writes:
    """Everything a batch will write, gathered before the writes."""

    operations: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: list[dict[str, Any]] = field(default_factory=list)
    case_updates: list[dict[str, Any]] = field(default_factory=list)
    standings: list[dict[str, Any]] = field(default_factory=list)
    changes: list[NewChange] = field(default_factory=list)


def contribution(state: str | None, accept_state: str) -> tuple[int, int]:
    """(open, unfulfilled) commitments a case in ``state`` counts for its applicant."""
    return (
        int(state == CaseState.ACCEPTED_TOLERATED),
        int(accept_state == CaseState.ACCEPTED_TOLERATED and state == CaseState.TERMINATED),
    )


def _text(value: Any) -> str | None:
    """A client-supplied value copied into a change: text only (anything else is dropped)."""
    return value if isinstance(value, str) else None


def _fold_op(record: storage.OpRecord) -> FoldOp:
    assert record.from_state is not None
    return FoldOp(record.op_id, record.server_seq, record.from_state, record.event, record.to_state)


class Outcomes:
    """Folds the cases a batch touched and gathers what follows into its :class:`Writes`.

    Shares the batch's state: ``cases`` (the cases named, new ones included), ``new_ops`` (the
    batch's kept operations by id) and ``vetting`` (who approved its terminations).
    """

    def __init__(
        self,
        conn: Connection,
        principal: Principal,
        received: str,
        writes: Writes,
        cases: dict[str, CaseRecord],
        new_ops: dict[str, Incoming],
        vetting: Vetting,
    ) -> None:
        self.conn = conn
        self.principal = principal
        self.received = received
        self.writes = writes
        self.cases = cases
        self.new_ops = new_ops
        self.vetting = vetting
        self.info: dict[str, OpInfo] = {}
        self.standing_delta: dict[tuple[str, str], list[int]] = {}
        self.station = BACK_OFFICE if principal.back_office else principal.station
        self.origin = BACK_OFFICE if principal.back_office else "station"

    # ------------------------------------------------------------ the fold

    def refold(self, pending: Sequence[Pending], existing_cases: set[str]) -> None:
        """Decide every pending operation, update the cases it moved and their standings."""
        by_case: dict[str, list[Pending]] = {}
        for item in pending:
            by_case.setdefault(item.row["case_no"], []).append(item)
        chained = self._chained(by_case, existing_cases)
        stored_by_case = self._stored(sorted((set(by_case) - set(chained)) & existing_cases))
        for case_no, items in by_case.items():
            case = self.cases[case_no]
            if (result := chained.get(case_no)) is not None:
                for item in items:
                    item.row["answer_state"] = result.state
                if result.state != case.state:
                    self._state_changed(case, result)
            else:
                self._refold_case(case, items, stored_by_case.get(case_no, ()))
        for case_no in self.writes.cases:
            # A new case counts from its accept state; _state_changed adds any move from there.
            case = self.cases[case_no]
            self._add_delta(case, contribution(case.accept_state, case.accept_state))
        self._standings()

    def _chained(self, by_case: Mapping[str, Sequence[Pending]], existing: set[str]) -> dict[str, FoldResult]:
        """The cases whose fold is the chain of their new operations (:func:`~hall_server.domain.fold.chain`).

        A case whose stored operations all took effect is at the end of their chain; when the
        new ones carry it on from there, the stored operations need not be read. Any other case
        is folded in full.
        """
        with_lost = storage.cases_with_lost_operations(self.conn, sorted(set(by_case) & existing))
        chained: dict[str, FoldResult] = {}
        for case_no, items in by_case.items():
            if case_no not in with_lost:
                ops = (item.fold_op for item in items if item.fold_op is not None)
                if (result := chain(self.cases[case_no].state, ops)) is not None:
                    chained[case_no] = result
        return chained

    def _stored(self, case_nos: Sequence[str]) -> dict[str, list[storage.OpRecord]]:
        """The kept stored operations of the cases folded in full, by case."""
        stored_by_case: dict[str, list[storage.OpRecord]] = {}
        for record in storage.folded_operations(self.conn, case_nos):
            assert record.case_no is not None
            stored_by_case.setdefault(record.case_no, []).append(record)
            self.info[record.op_id] = OpInfo(
                record.station, record.origin, record.staff_no, payload_json=record.payload
            )
        return stored_by_case

    def _refold_case(
        self, case: CaseRecord, items: Sequence[Pending], stored: Sequence[storage.OpRecord]
    ) -> None:
        ops = [_fold_op(record) for record in stored]
        ops.extend(item.fold_op for item in items if item.fold_op is not None)
        result = fold(case.accept_state, ops)
        state = result.state
        for record in stored:
            loss = result.lost.get(record.op_id)
            outcome = (LOST, loss.winner_op_id, loss.winner_event) if loss else (APPLIED, None, None)
            if outcome == (record.fold, record.winner_op_id, record.winner_event):
                continue
            # A loser may also just get a new winner (a higher-precedence sibling arrived).
            self.writes.folds.append(
                {
                    "op_id": record.op_id,
                    "fold": outcome[0],
                    "winner_op_id": outcome[1],
                    "winner_event": outcome[2],
                }
            )
            if loss and record.fold == APPLIED:
                self._conflict_change(case, record.op_id, record.event, outcome[1], outcome[2], state)
        for item in items:
            row = item.row
            row["answer_state"] = state
            loss = result.lost.get(row["op_id"])
            if loss is None:
                continue
            winner_event = loss.winner_event
            row.update(
                fold=LOST,
                status=REFUSED,
                code="case.conflict",
                reason=conflict_reason(case.case_no, row["event"], loss.winner_op_id, winner_event, state),
                winner_op_id=loss.winner_op_id,
                winner_event=winner_event,
            )
        if state != case.state:
            self._state_changed(case, result)

    # ------------------------------------------------------------ changes

    def _state_changed(self, case: CaseRecord, result: FoldResult) -> None:
        before = case.state
        case.state = result.state
        case.version += 1
        new_row = self.writes.cases.get(case.case_no)
        if new_row is not None:
            new_row.update(state=case.state, version=case.version)
        else:
            self.writes.case_updates.append(
                {
                    "case_no": case.case_no,
                    "state": case.state,
                    "version": case.version,
                    "updated_at": self.received,
                }
            )
        self.writes.changes.append(
            NewChange(
                ChangeKind.CASE_STATE, case.case_no, self._state_payload(case, before, result), case.station
            )
        )
        after_open, after_unfulfilled = contribution(case.state, case.accept_state)
        before_open, before_unfulfilled = contribution(before, case.accept_state)
        self._add_delta(case, (after_open - before_open, after_unfulfilled - before_unfulfilled))

    def _state_payload(self, case: CaseRecord, before: str, result: FoldResult) -> dict[str, Any]:
        """The ``case.state`` change: the new state and the operation that set it."""
        last = result.last_change
        info = self._info(last.op_id) if last else None
        approved_by = (
            self.vetting.approver(last.op_id, last.event, last.op_id in self.new_ops) if last else None
        )
        payload = info.data() if info else {}
        return {
            "case_no": case.case_no,
            "state": case.state,
            "previous": before,
            "event": last.event if last else None,
            "op_id": last.op_id if last else None,
            "by": (_text(payload.get("by")) or info.staff_no) if info else None,
            "origin": info.origin if info else None,
            "on": _text(payload.get("on")),
            "reason": _text(payload.get("reason")),
            "approved_by": approved_by,
            "version": case.version,
        }

    def _info(self, op_id: str) -> OpInfo | None:
        """Who sent an operation of this batch or a stored one, and its payload."""
        op = self.new_ops.get(op_id)
        if op is not None:
            return OpInfo(self.station, self.origin, self.principal.staff_no, op.payload)
        return self.info.get(op_id)

    def _conflict_change(
        self,
        case: CaseRecord,
        op_id: str,
        event: str | None,
        winner_op_id: str | None,
        winner_event: str | None,
        state: str,
    ) -> None:
        info = self._info(op_id)
        assert info is not None
        self.writes.changes.append(
            NewChange(
                ChangeKind.CASE_CONFLICT,
                case.case_no,
                {
                    "case_no": case.case_no,
                    "op_id": op_id,
                    "event": event,
                    "winner_op_id": winner_op_id,
                    "winner_event": winner_event,
                    "state": state,
                    "code": "case.conflict",
                    "reason": conflict_reason(case.case_no, event, winner_op_id, winner_event, state),
                },
                case.station if info.origin == BACK_OFFICE else info.station,
            )
        )

    # ------------------------------------------------------------ standings

    def _add_delta(self, case: CaseRecord, delta: tuple[int, int]) -> None:
        if delta[0] or delta[1]:
            total = self.standing_delta.setdefault((case.applicant_id, case.station), [0, 0])
            total[0] += delta[0]
            total[1] += delta[1]

    def _standings(self) -> None:
        deltas = {pair: d for pair, d in self.standing_delta.items() if d[0] or d[1]}
        if not deltas:
            return
        known = storage.standings_of(self.conn, deltas)
        for (applicant_id, station), (d_open, d_unfulfilled) in sorted(deltas.items()):
            open_now, unfulfilled_now, dishonest = known.get((applicant_id, station), (0, 0, False))
            standing = {
                "applicant_id": applicant_id,
                "station": station,
                "open_commitments": max(open_now + d_open, 0),
                "unfulfilled_commitments": max(unfulfilled_now + d_unfulfilled, 0),
                "dishonest": dishonest,
            }
            self.writes.standings.append({**standing, "updated_at": self.received})
            self.writes.changes.append(
                NewChange(ChangeKind.APPLICANT_STANDING, f"{applicant_id}/{station}", standing)
            )
