"""Applying a pushed batch of operations: at most once, validated, folded, in one transaction.

For a batch the server makes a fixed number of round trips whatever its size: one lookup of the
operation ids it has already seen, one of the cases named, one of the kept operations of those
cases, one of the applicants' standings, then bulk inserts and updates.

Per operation, in request order:

- an ``op_id`` seen before (in an earlier batch or earlier in this one) with the same
  :meth:`~models.sync.Operation.body_hash` is answered with its first result: ``duplicate`` when
  it was applied, the same refusal when it was refused (a client whose connection dropped must
  not mistake a refusal for success); with a different body it is refused ``op.mismatch``;
- otherwise it is checked (:mod:`hall_server.rules`): ``case.accept`` creates the case once
  the counter's own rules pass (:mod:`hall_server.accepts`: the case number, item, IDs, dates,
  state and any supervisor's signed approval) and the number is free (``case.exists``); a
  transition's (from, event) →
  to must be a row of :data:`models.state_machine.TRANSITIONS` (``case.illegal_transition``);
  the case must exist (``case.unknown``) and belong to the pushing station unless the back office
  acts (``auth.forbidden``); a station's ``terminate``, ``approve`` or ``refuse`` must prove
  itself (:mod:`hall_server.vetting`: a signed approval, the hall's own facts of a late 补正, a
  即办件). A refused operation is stored with its answer and never folded;
- every structurally valid operation is kept and its case refolded by the conflict rule of
  :mod:`hall_server.fold`. An operation that loses on arrival is answered ``refused`` with code
  ``case.conflict``; an applied one that loses later gets a ``case.conflict`` change for its
  station. Every change of a case's folded state appends a ``case.state`` change for the owning
  station, and every change of an applicant's commitments at a station an
  ``applicant.standing`` change for every station.

``case_state`` in a result is the case's folded state once the whole batch is applied.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from hall_server import reference, rules, storage, vetting
from hall_server.accepts import AcceptChecker
from hall_server.auth import BACK_OFFICE, Principal
from hall_server.fold import FoldOp, FoldResult, chain, fold
from hall_server.rules import Refusal
from hall_server.storage import CASES, OPS, CaseRecord, NewChange, json_string
from hall_server.textcheck import check_text
from hall_server.wire import Incoming, incoming_all
from models.catalog import Catalog
from models.enums import CaseState
from models.problems import Problem
from models.state_machine import EVENT_ZH, STATE_ZH, CaseEvent
from models.sync import AnchorAnswer, ChangeKind, Operation, OperationKind, OpStatus

APPLIED, LOST, REFUSED = "applied", "lost", "refused"
_KIND = {kind: kind.value for kind in OperationKind}  # plain strings for the rows (no enum lookups)


@dataclass(slots=True)
class Result:
    """The answer to one operation (an :class:`OpResult` without pydantic's cost per item)."""

    op_id: str
    status: str
    code: str | None = None
    reason: str | None = None
    server_seq: int | None = None
    case_state: str | None = None

    def json(self) -> str:
        """As :class:`OpResult` JSON."""
        return (
            f'{{"op_id":{json_string(self.op_id)},"status":"{self.status}",'
            f'"code":{_opt(self.code)},"reason":{_opt(self.reason)},'
            f'"server_seq":{"null" if self.server_seq is None else self.server_seq},'
            f'"case_state":{_opt(self.case_state)}}}'
        )


def _opt(value: str | None) -> str:
    return "null" if value is None else str(json_string(value))


def results_json(
    results: Sequence[Result], server_time: dt.datetime, audit: AnchorAnswer | None = None
) -> str:
    """A :class:`~models.sync.PushResponse` as JSON."""
    stamp = server_time.isoformat().replace("+00:00", "Z")
    tail = "" if audit is None else f',"audit":{audit.model_dump_json()}'
    return f'{{"results":[{",".join(r.json() for r in results)}],"server_time":"{stamp}"{tail}}}'


@dataclass(slots=True)
class _Pending:
    """A kept operation of this batch, waiting for the fold to decide it."""

    index: int
    row: dict[str, Any]
    fold_op: FoldOp | None  # None for an accept


@dataclass(slots=True)
class _OpInfo:
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
class _Writes:
    """Everything a batch will write, gathered before the writes."""

    operations: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: list[dict[str, Any]] = field(default_factory=list)
    case_updates: list[dict[str, Any]] = field(default_factory=list)
    standings: list[dict[str, Any]] = field(default_factory=list)
    changes: list[NewChange] = field(default_factory=list)


def _contribution(state: str | None, accept_state: str) -> tuple[int, int]:
    """(open, unfulfilled) commitments a case in ``state`` counts for its applicant."""
    return (
        int(state == CaseState.ACCEPTED_TOLERATED),
        int(accept_state == CaseState.ACCEPTED_TOLERATED and state == CaseState.TERMINATED),
    )


class BatchApplier:
    """Applies one batch inside an open write transaction (see :func:`apply_batch`)."""

    def __init__(self, conn: Connection, principal: Principal, now: dt.datetime, catalog: Catalog) -> None:
        self.conn = conn
        self.principal = principal
        self.now = now
        self.accepts = AcceptChecker(conn, principal, catalog)
        self.received = storage.iso(now)
        self.writes = _Writes()
        self.cases: dict[str, CaseRecord] = {}
        self.info: dict[str, _OpInfo] = {}
        self.standing_delta: dict[tuple[str, str], list[int]] = {}
        self.vetting = vetting.Vetting(conn, principal, now, catalog)
        self._new_ops: dict[str, Incoming] = {}
        # Per-batch constants of every new operation's row.
        self._station = BACK_OFFICE if principal.back_office else principal.station
        self._origin = BACK_OFFICE if principal.back_office else "station"
        self._template: dict[str, Any] = {
            "server_seq": None,
            "op_id": None,
            "station": self._station,
            "staff_no": principal.staff_no,
            "origin": self._origin,
            "kind": None,
            "case_no": None,
            "event": None,
            "from_state": None,
            "to_state": None,
            "payload": None,
            "client_seq": None,
            "created_at": None,
            "received_at": self.received,
            "status": APPLIED,
            "code": None,
            "reason": None,
            "answer_state": None,
            "fold": APPLIED,
            "winner_op_id": None,
            "winner_event": None,
        }

    # ------------------------------------------------------------ the batch

    def apply(self, operations: Sequence[Incoming]) -> list[Result]:
        """Answer every operation (request order) and write what follows."""
        conn = self.conn
        answers = storage.answers_by_op_id(conn, list(dict.fromkeys(op.op_id for op in operations)))
        named = {
            n
            for op in operations
            if isinstance(n := op.case_no or op.payload.get("case_no"), str) and "\x00" not in n
        }  # a number with a NUL cannot be looked up in PostgreSQL: check_text refuses it
        self.cases = storage.cases_by_no(conn, sorted(named))
        existing_cases = set(self.cases)
        self.vetting.load(operations, existing_cases)
        self.accepts.prefetch(operations)
        next_seq = storage.next_seq(conn, OPS, "server_seq")

        results: list[Result | None] = [None] * len(operations)
        first_in_batch: dict[str, tuple[int, Incoming]] = {}
        repeats: list[tuple[int, int]] = []
        pending: list[_Pending] = []
        written, new_ops = self.writes.operations, self._new_ops
        for index, op in enumerate(operations):
            op_id = op.op_id
            seen = answers.get(op_id)
            if seen is not None:
                results[index] = _repeat(seen, op)
                continue
            earlier = first_in_batch.get(op_id)
            if earlier is not None:
                if _hash(earlier[1]) == _hash(op):
                    repeats.append((index, earlier[0]))
                else:
                    results[index] = _mismatch(op_id)
                continue
            first_in_batch[op_id] = (index, op)
            row = self._row(op, next_seq)
            next_seq += 1
            written.append(row)
            try:
                fold_op = self._check(op, row)
            except Refusal as refusal:
                case = self.cases.get(row["case_no"] or "")
                row.update(status=REFUSED, code=refusal.code, reason=refusal.reason, fold=REFUSED)
                row["answer_state"] = case.state if case else None
                results[index] = Result(
                    op_id, REFUSED, refusal.code, refusal.reason, row["server_seq"], row["answer_state"]
                )
                continue
            new_ops[op_id] = op
            pending.append(_Pending(index, row, fold_op))

        self._refold(pending, existing_cases)
        for item in pending:
            row = item.row
            results[item.index] = Result(
                row["op_id"],
                row["status"],
                row["code"],
                row["reason"],
                row["server_seq"],
                row["answer_state"],
            )
        for index, first in repeats:
            results[index] = _repeat_of_new(results[first])
        self._write()
        return [result for result in results if result is not None]

    def _check(self, op: Incoming, row: dict[str, Any]) -> FoldOp | None:
        """Validate ``op`` (raises :class:`Refusal`) and fill in its row; its fold form."""
        check_text(op, row)
        case_no = rules.case_no_of(op)
        row["case_no"] = case_no
        case = self.cases.get(case_no)
        if op.kind == OperationKind.CASE_ACCEPT:
            new = rules.accepted_case(op, case_no, self.principal, self.received)
            self.accepts.check(op.payload, case_no)
            if case is not None:
                raise Refusal("case.exists", case_no=case_no)
            self.cases[case_no] = CaseRecord(
                case_no, new["station"], new["applicant_id"], new["accept_state"], new["state"], 0
            )
            self.writes.cases[case_no] = new
            self.vetting.accepted(case_no, new, op)
            return None
        if op.kind == OperationKind.CASE_TRANSITION:
            fold_op = rules.transition(op, case_no, row["server_seq"], case, self.principal)
            assert case is not None  # rules.transition refuses an unknown case
            self.vetting.check(op, case, fold_op.event)
            row["event"] = fold_op.event
            row["to_state"] = fold_op.to_state
        else:
            fold_op = rules.partial_supplement(op, case_no, row["server_seq"], case, self.principal)
        self.vetting.kept(case_no, op, fold_op)
        row["from_state"] = fold_op.from_state
        return fold_op

    def _row(self, op: Incoming, seq: int) -> dict[str, Any]:
        # A copy of the batch's template with the operation's own columns set: cheaper than
        # building a 21-key dict per operation.
        row = self._template.copy()
        row["server_seq"] = seq
        row["op_id"] = op.op_id
        row["kind"] = _KIND[op.kind]
        row["payload"] = op.payload_json
        row["client_seq"] = op.seq
        row["created_at"] = op.created_at
        return row

    # ------------------------------------------------------------ the fold

    def _refold(self, pending: Sequence[_Pending], existing_cases: set[str]) -> None:
        by_case: dict[str, list[_Pending]] = {}
        for item in pending:
            by_case.setdefault(item.row["case_no"], []).append(item)
        # A case whose stored operations all took effect is at the end of their chain; when the
        # new ones carry it on from there, the fold is that chain (fold.chain) and the stored
        # operations need not be read. Any other case is folded in full.
        with_lost = storage.cases_with_lost_operations(self.conn, sorted(set(by_case) & existing_cases))
        chained: dict[str, FoldResult] = {}
        for case_no, items in by_case.items():
            if case_no not in with_lost:
                ops = (item.fold_op for item in items if item.fold_op is not None)
                if (result := chain(self.cases[case_no].state, ops)) is not None:
                    chained[case_no] = result
        stored_by_case: dict[str, list[storage.OpRecord]] = {}
        full = sorted((set(by_case) - set(chained)) & existing_cases)
        for record in storage.folded_operations(self.conn, full):
            assert record.case_no is not None
            stored_by_case.setdefault(record.case_no, []).append(record)
            self.info[record.op_id] = _OpInfo(
                record.station, record.origin, record.staff_no, payload_json=record.payload
            )
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
            self._add_delta(case, _contribution(case.accept_state, case.accept_state))
        self._standings()

    def _refold_case(
        self, case: CaseRecord, items: Sequence[_Pending], stored: Sequence[storage.OpRecord]
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
        last = result.last_change
        info = self._info(last.op_id) if last else None
        approved_by = (
            self.vetting.approver(last.op_id, last.event, last.op_id in self._new_ops) if last else None
        )
        payload = info.data() if info else {}
        self.writes.changes.append(
            NewChange(
                ChangeKind.CASE_STATE,
                case.case_no,
                {
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
                },
                case.station,
            )
        )
        after_open, after_unfulfilled = _contribution(case.state, case.accept_state)
        before_open, before_unfulfilled = _contribution(before, case.accept_state)
        self._add_delta(case, (after_open - before_open, after_unfulfilled - before_unfulfilled))

    def _info(self, op_id: str) -> _OpInfo | None:
        """Who sent an operation of this batch or a stored one, and its payload."""
        op = self._new_ops.get(op_id)
        if op is not None:
            return _OpInfo(self._station, self._origin, self.principal.staff_no, op.payload)
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

    # ------------------------------------------------------------ writes

    def _write(self) -> None:
        conn, writes = self.conn, self.writes
        storage.insert_rows(conn, OPS, writes.operations)
        storage.insert_rows(conn, CASES, list(writes.cases.values()))
        storage.update_folds(conn, writes.folds)
        storage.update_cases(conn, writes.case_updates)
        storage.upsert_standings(conn, writes.standings)
        vetting.insert_approvals(conn, self.vetting.rows)
        storage.append_changes(conn, writes.changes, self.now)


def apply_batch(
    conn: Connection,
    principal: Principal,
    operations: Sequence[Operation | Incoming],
    now: dt.datetime,
    catalog: Catalog | None = None,
) -> list[Result]:
    """Apply ``operations`` in one open write transaction; one result per operation, in order.

    ``catalog`` is the server's own catalogue file, in force until one is published (default:
    the shipped one); accepts, terminations and decisions from stations are checked against the
    catalogue in force.
    """
    fallback = catalog or reference.shipped_catalog()
    return BatchApplier(conn, principal, now, fallback).apply(incoming_all(operations))


# ------------------------------------------------------------------ helpers


def _text(value: Any) -> str | None:
    """A client-supplied value copied into a change: text only (anything else is dropped)."""
    return value if isinstance(value, str) else None


def _fold_op(record: storage.OpRecord) -> FoldOp:
    assert record.from_state is not None
    return FoldOp(record.op_id, record.server_seq, record.from_state, record.event, record.to_state)


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


def _mismatch(op_id: str) -> Result:
    return Result(op_id, REFUSED, "op.mismatch", Problem("op.mismatch", {"op_id": op_id}).zh())


def _hash(op: Incoming) -> str:
    return rules.body_hash(op.kind.value, op.case_no, op.payload)


def _repeat(answer: storage.Answer, op: Incoming) -> Result:
    """The answer to an operation id the server has seen in an earlier batch."""
    if rules.body_hash(answer.kind, answer.case_no, json.loads(answer.payload)) != _hash(op):
        return _mismatch(answer.op_id)
    if answer.status == APPLIED:
        return Result(
            answer.op_id, OpStatus.DUPLICATE.value, None, None, answer.server_seq, answer.answer_state
        )
    return Result(answer.op_id, REFUSED, answer.code, answer.reason, answer.server_seq, answer.answer_state)


def _repeat_of_new(first: Result | None) -> Result:
    """The answer to an operation repeated within its own batch."""
    assert first is not None
    status = OpStatus.DUPLICATE.value if first.status == APPLIED else first.status
    return Result(first.op_id, status, first.code, first.reason, first.server_seq, first.case_state)
