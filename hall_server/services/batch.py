"""Applying a pushed batch of operations: at most once, validated, folded, in one transaction.

For a batch the server makes a fixed number of round trips whatever its size: one lookup of the
operation ids it has already seen, one of the cases named, one of the kept operations of those
cases, one of the applicants' standings, then bulk inserts and updates.

Per operation, in request order:

- an ``op_id`` seen before (in an earlier batch or earlier in this one) with the same
  :func:`~models.sync.body_hash` is answered with its first result: ``duplicate`` when
  it was applied, the same refusal when it was refused (a client whose connection dropped must
  not mistake a refusal for success); with a different body it is refused ``op.mismatch``;
- otherwise it is checked (:mod:`hall_server.domain.rules`): ``case.accept`` creates the case once
  the counter's own rules pass (:mod:`hall_server.domain.accepts`: the case number, item, IDs, dates,
  state and any supervisor's signed approval) and the number is free (``case.exists``); a
  transition's (from, event) →
  to must be a row of :data:`models.state_machine.TRANSITIONS` (``case.illegal_transition``);
  the case must exist (``case.unknown``) and belong to the pushing station unless the back office
  acts (``auth.forbidden``); a station's ``terminate``, ``approve`` or ``refuse`` must prove
  itself (:mod:`hall_server.domain.vetting`: a signed approval, the hall's own facts of a late 补正, a
  即办件). A refused operation is stored with its answer and never folded;
- a ``rating.record`` (好差评) is checked by :mod:`hall_server.domain.ratings` and kept beside its
  case, never folded; a 差评 opens a rectification record;
- every structurally valid operation is kept and its case refolded
  (:mod:`hall_server.services.outcomes`: the fold, conflicts, changes and standings).

``case_state`` in a result is the case's folded state once the whole batch is applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from hall_server import storage
from hall_server.domain import reference, rules
from hall_server.domain.accepts import AcceptChecker
from hall_server.domain.auth import BACK_OFFICE, Principal
from hall_server.domain.crosshall import Forwarding
from hall_server.domain.fold import FoldOp
from hall_server.domain.operations import Incoming, incoming_all
from hall_server.domain.ratings import RatingChecker
from hall_server.domain.rules import Refusal
from hall_server.domain.textcheck import check_text
from hall_server.domain.vetting import Vetting
from hall_server.services.answers import (
    APPLIED,
    REFUSED,
    Result,
    mismatch,
    op_hash,
    repeat,
    repeat_of_new,
)
from hall_server.services.outcomes import Outcomes, Pending, Writes
from hall_server.services.queue import QUEUE_KINDS, QueueApplier
from hall_server.storage import CASES, OPS, CaseRecord
from models.catalog import Catalog
from models.sync import Operation, OperationKind

_KIND = {kind: kind.value for kind in OperationKind}  # plain strings for the rows (no enum lookups)


class BatchApplier:
    """Applies one batch inside an open write transaction (see :func:`apply_batch`)."""

    def __init__(self, conn: Connection, principal: Principal, now: dt.datetime, catalog: Catalog) -> None:
        self.conn = conn
        self.principal = principal
        self.now = now
        self.accepts = AcceptChecker(conn, principal, catalog)
        self.received = storage.iso(now)
        self.writes = Writes()
        self.cases: dict[str, CaseRecord] = {}
        self.vetting = Vetting(conn, principal, now, catalog)
        self.new_ops: dict[str, Incoming] = {}
        self.identities: list[dict[str, Any]] = []  # case_identities rows of the new cases
        self.outcomes = Outcomes(
            conn, principal, self.received, self.writes, self.cases, self.new_ops, self.vetting
        )
        self.ratings = RatingChecker(conn, principal, now, self.writes.cases, self.new_ops, self.received)
        self.queue = QueueApplier(conn, principal, self.received, self.cases)
        self.forwarding = Forwarding(conn, principal, catalog, self.received)  # 跨区通办 异地收件
        # Per-batch constants of every new operation's row.
        self._template: dict[str, Any] = {
            "server_seq": None,
            "op_id": None,
            "station": BACK_OFFICE if principal.back_office else principal.station,
            "staff_no": principal.staff_no,
            "origin": BACK_OFFICE if principal.back_office else "station",
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
        named = {
            n
            for op in operations
            if isinstance(n := op.case_no or op.payload.get("case_no"), str) and "\x00" not in n
        }  # a number with a NUL cannot be looked up in PostgreSQL: check_text refuses it
        self.cases.update(storage.cases_by_no(conn, sorted(named)))
        existing_cases = set(self.cases)
        self.vetting.load(operations, existing_cases)
        self.accepts.prefetch(operations)
        self.ratings.prefetch(operations, existing_cases)
        self.queue.prefetch(operations)
        results: list[Result | None] = [None] * len(operations)
        pending, repeats = self._check_all(operations, results)
        self.outcomes.refold(pending, existing_cases)
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
            results[index] = repeat_of_new(results[first])
        self._write()
        return [result for result in results if result is not None]

    def _check_all(
        self, operations: Sequence[Incoming], results: list[Result | None]
    ) -> tuple[list[Pending], list[tuple[int, int]]]:
        """Answer repeats and refusals in ``results``; (the kept operations, in-batch repeats)."""
        answers = storage.answers_by_op_id(self.conn, list(dict.fromkeys(op.op_id for op in operations)))
        next_seq = storage.next_seq(self.conn, OPS, "server_seq")
        first_in_batch: dict[str, tuple[int, Incoming]] = {}
        repeats: list[tuple[int, int]] = []
        pending: list[Pending] = []
        written, new_ops = self.writes.operations, self.new_ops
        for index, op in enumerate(operations):
            op_id = op.op_id
            seen = answers.get(op_id)
            if seen is not None:
                results[index] = repeat(seen, op)
                continue
            earlier = first_in_batch.get(op_id)
            if earlier is not None:
                if op_hash(earlier[1]) == op_hash(op):
                    repeats.append((index, earlier[0]))
                else:
                    results[index] = mismatch(op_id)
                continue
            first_in_batch[op_id] = (index, op)
            row = self._row(op, next_seq)
            next_seq += 1
            written.append(row)
            try:
                if op.kind in QUEUE_KINDS:  # tickets, not cases: applied in order, no fold
                    state = self.queue.apply(op, row)
                    results[index] = Result(op_id, APPLIED, None, None, row["server_seq"], state)
                    row["answer_state"] = state
                    continue
                fold_op = self._check(op, row)
            except Refusal as refusal:
                results[index] = self._refused(row, refusal)
                continue
            new_ops[op_id] = op
            pending.append(Pending(index, row, fold_op))
        return pending, repeats

    def _refused(self, row: dict[str, Any], refusal: Refusal) -> Result:
        """Keep a refused operation's row with its answer (never folded)."""
        case = self.cases.get(row["case_no"] or "")
        row.update(status=REFUSED, code=refusal.code, reason=refusal.reason, fold=REFUSED)
        row["answer_state"] = case.state if case else None
        return Result(
            row["op_id"], REFUSED, refusal.code, refusal.reason, row["server_seq"], row["answer_state"]
        )

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
            self._identity(op, new)
            self.vetting.accepted(case_no, new, op)
            self.forwarding.accepted(new, op, self.writes.changes)
            return None
        if op.kind == OperationKind.RATING_RECORD:  # kept beside the case; never folded
            self.ratings.check(op, case_no, case)
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

    def _identity(self, op: Incoming, case: dict[str, Any]) -> None:
        """Keep a new case's identity check (checked with the accept) when its counter sent one."""
        payload = op.payload
        if payload.get("identity_method") is None and payload.get("assisted") is None:
            return  # a counter older than the check
        self.identities.append(
            {
                "case_no": case["case_no"],
                "station": case["station"],
                "window": str(payload.get("window", "")),
                "accepted_on": case["accepted_on"],
                "method": payload.get("identity_method"),
                "slip": payload.get("identity_slip"),
                "power_of_attorney": payload.get("power_of_attorney") is True,
                "assisted": payload.get("assisted") is True,
            }
        )

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

    # ------------------------------------------------------------ writes

    def _write(self) -> None:
        conn, writes = self.conn, self.writes
        storage.insert_rows(conn, OPS, writes.operations)
        storage.insert_rows(conn, CASES, list(writes.cases.values()))
        storage.insert_identities(conn, self.identities)
        storage.update_folds(conn, writes.folds)
        storage.update_cases(conn, writes.case_updates)
        storage.upsert_standings(conn, writes.standings)
        storage.insert_approvals(conn, self.vetting.rows)
        storage.append_changes(conn, writes.changes, self.now)
        self.ratings.write()
        self.queue.write()
        self.forwarding.write()


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
