"""Push: the outbox in order and in batches, every answer recorded in one local transaction per
batch, with the station's audit head (:mod:`.anchors`) riding along."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from models.problems import Problem
from models.sync import (
    AuditAnchor,
    OperationKind,
    OpResult,
    OpStatus,
    PushResponse,
    encode_operation,
    encode_push_request,
)
from offline_cache import Store, sync_repo
from window_client.hall_client import HallClient, ServerError
from window_client.services.sync.anchors import AnchorKeeper
from window_client.services.sync.appliers import adopt_state
from window_client.services.sync.status import SYNC_ACTOR, SyncReport

KNOWN_KINDS = tuple(k.value for k in OperationKind)


class Pusher:
    """Pushes one station's outbox to the hall.

    Args:
        store: the station's store.
        client: the hall client (holding the token once staff signed in).
        station: this station's code.
        anchors: the audit heads sent with the pushes.
        batch_size: operations per push.
        progress: called after every batch the hall answered.
    """

    def __init__(
        self,
        store: Store,
        client: HallClient,
        station: str,
        anchors: AnchorKeeper,
        batch_size: int,
        progress: Callable[[], None],
    ) -> None:
        self.store = store
        self.client = client
        self.station = station
        self.anchors = anchors
        self.batch_size = batch_size
        self.progress = progress
        self.anchoring = True  # off for a hall that does not take audit heads (older servers)

    def push(self, report: SyncReport) -> None:
        """Send everything pending, in order and in batches; counts the answers in ``report``."""
        while True:
            with self.store.reading() as conn:
                batch = sync_repo.pending_batch(conn, KNOWN_KINDS, self.batch_size)
            if not batch:
                break
            self._push_entries(batch, report)
            self.progress()
        if self.anchoring and self.anchors.pending():
            # Nothing queued, but the trail moved (sign-ins, views of IDs): the head goes alone.
            self._send([], [])

    def _send(self, encoded: Sequence[str], op_ids: Sequence[str]) -> PushResponse:
        """One push with the audit head (when the hall takes them); records the hall's answer to it."""
        anchor: AuditAnchor | None = self.anchors.anchor() if self.anchoring else None
        body = encode_push_request(self.station, encoded, anchor)
        if anchor is not None:
            self.anchors.sending(anchor)
        try:
            answer = self.client.push_encoded(body, op_ids)
        except ServerError as exc:
            if anchor is None or exc.status != 422 or "audit" not in exc.message:
                raise
            self.anchoring = False  # a hall from before audit heads: push as it expects
            return self._send(encoded, op_ids)
        if anchor is not None:
            self.anchors.answered(anchor, answer.audit)
        return answer

    def _push_entries(self, entries: Sequence[sync_repo.OutboxEntry], report: SyncReport) -> None:
        encoded: list[str] = []
        unsendable: list[OpResult] = []
        for e in entries:
            try:
                encoded.append(encode_operation(e))
            except ValueError as exc:
                # A row the protocol cannot carry would block the queue forever: keep it as
                # refused here, with the reason, for staff to see.
                reason = Problem("sync.refused_locally", {"code": "op.invalid", "message": str(exc)[:200]})
                unsendable.append(
                    OpResult(op_id=e.op_id, status=OpStatus.REFUSED, code="op.invalid", reason=reason.zh())
                )
        if unsendable:
            bad = {r.op_id for r in unsendable}
            self._record([e for e in entries if e.op_id in bad], unsendable, report)
            entries = [e for e in entries if e.op_id not in bad]
            encoded = [encode_operation(e) for e in entries]
            if not entries:
                return
        try:
            answer = self._send(encoded, [e.op_id for e in entries])
        except ServerError as exc:
            if exc.status not in (400, 413, 422):
                raise
            if len(entries) > 1:
                # One malformed or oversized operation must not hold the whole queue: halve the
                # batch until the server accepts the rest and names the culprit.
                middle = len(entries) // 2
                self._push_entries(entries[:middle], report)
                self._push_entries(entries[middle:], report)
                return
            reason = Problem("sync.refused_locally", {"code": exc.code, "message": exc.message[:200]})
            results = [
                OpResult(op_id=entries[0].op_id, status=OpStatus.REFUSED, code=exc.code, reason=reason.zh())
            ]
        else:
            results = answer.results
        self._record(entries, results, report)

    def _record(
        self, entries: Sequence[sync_repo.OutboxEntry], results: Sequence[OpResult], report: SyncReport
    ) -> None:
        # OpStatus is a StrEnum: its members are the strings the store keeps.
        outcomes = [sync_repo.PushOutcome(r.op_id, str.__str__(r.status), r.code, r.reason) for r in results]
        case_of = {e.op_id: e.case_no for e in entries}
        refused = [r for r in results if r.status is OpStatus.REFUSED]
        with self.store.transaction(SYNC_ACTOR) as unit:
            sync_repo.record_push_results(unit, outcomes)
            for r in refused:
                unit.audit(
                    "sync.refused", case_of.get(r.op_id) or r.op_id, {"op_id": r.op_id, "code": r.code}
                )
            # A refused operation leaves the case as the server has it: adopt that state
            # unless later local operations of the case are still on their way.
            server_states: dict[str, OpResult] = {}
            for r in refused:
                case_no = case_of.get(r.op_id)
                if case_no and r.case_state:
                    server_states[case_no] = r  # the last answer of a case is its latest state
            waiting = sync_repo.pending_cases(unit.conn, list(server_states))
            for case_no, result in server_states.items():
                if case_no not in waiting and result.case_state:
                    adopt_state(
                        unit, case_no, result.case_state, {"op_id": result.op_id, "code": result.code}
                    )
            sync_repo.refresh_synced(unit, (c for c in case_of.values() if c))
        for r in results:
            if r.status is OpStatus.APPLIED:
                report.pushed += 1
            elif r.status is OpStatus.DUPLICATE:
                report.duplicates += 1
            else:
                report.refused += 1
