"""Offline sync with the hall server (DESIGN.md §4, protocol in models/sync.py).

:class:`SyncEngine` is the algorithm: push the outbox in order and in batches, record every
answer in one local transaction per batch, then pull the change feed after the stored cursor,
applying each page and storing the new cursor in the same transaction, so a crash at any
point loses nothing and re-applies nothing twice (every applier is idempotent).
:class:`SyncService` adds what staff see: online sign-in (which refreshes the cached hash for
offline sign-in), the sync status, and the refused operations with what to do about them.
Neither imports Textual; the TUI runs :meth:`SyncEngine.run_once` in a worker thread and
listens to :meth:`SyncEngine.subscribe`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from models.approval import derive_approval_key
from models.catalog import catalog_from_dict
from models.enums import CaseState, Role
from models.problems import DomainError, Problem
from models.sync import (
    MAX_PULL_LIMIT,
    MAX_PUSH_BATCH,
    AuditAnchor,
    Change,
    ChangeKind,
    OperationKind,
    OpResult,
    OpStatus,
    PushResponse,
)
from offline_cache import Store, UnitOfWork, sync_repo
from offline_cache import repositories as repo
from window_client.hall_client import (
    DEFAULT_TIMEOUT,
    AuthRequired,
    HallClient,
    HallError,
    ProtocolError,
    ServerError,
    Unreachable,
)
from window_client.services.audit_trail import AnchorKeeper, AuditAlarm, read_alarm
from window_client.services.certificate_keys import StationKeys
from window_client.services.key_vault import KeyVault, StationSecret
from window_client.services.staff import SignInError, StaffMember, hash_password
from window_client.services.workdays import ArrangementError, parse_arrangement

Clock = Callable[[], dt.datetime]
KNOWN_KINDS = tuple(k.value for k in OperationKind)
DEFAULT_PULL_LIMIT = 1000
SYNC_ACTOR = "sync"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- backoff


def backoff_delay(failures: int, base: float, factor: float, cap: float, jitter: float, unit: float) -> float:
    """Seconds to wait after ``failures`` consecutive failures (``failures`` >= 1).

    The nominal delay grows ``base * factor ** (failures - 1)`` up to ``cap``; ``unit`` in
    [0, 1) spreads it over ``±jitter`` of itself so that the stations of a hall that lost the
    network together do not all come back in the same second. Never above ``cap``.
    """
    if failures <= 0:
        return 0.0
    # The exponent is bounded so that a station offline for weeks does not overflow a float.
    nominal = min(cap, base * factor ** min(failures - 1, 64))
    spread = nominal * jitter * (2.0 * unit - 1.0)
    return max(0.0, min(cap, nominal + spread))


@dataclass
class Backoff:
    """Exponential backoff with jitter; pure apart from its random source.

    Attributes:
        base: seconds after the first failure.
        factor: growth per further failure.
        cap: the longest wait.
        jitter: fraction of the delay spread either way.
        failures: consecutive failures so far.
    """

    base: float = 2.0
    factor: float = 2.0
    cap: float = 300.0
    jitter: float = 0.2
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base or not 0 <= self.jitter < 1:
            raise ValueError("backoff needs base > 0, factor >= 1, cap >= base and 0 <= jitter < 1")

    def failure(self) -> float:
        """Count a failure; returns how long to wait before the next attempt."""
        self.failures += 1
        return backoff_delay(self.failures, self.base, self.factor, self.cap, self.jitter, self.rng.random())

    def success(self) -> None:
        """The server answered: start again from the shortest delay."""
        self.failures = 0


# ---------------------------------------------------------------- status and report


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows; a snapshot, replaced as a whole on every change.

    Attributes:
        online: the last attempt reached the server (None before the first attempt).
        pending: outbox operations not yet pushed.
        refused: refused operations nobody has reviewed yet.
        last_sync_at: the end of the last complete push and pull.
        auth_required: the server wants a new sign-in; sync waits for it.
        last_error: what went wrong last, in Chinese (None after a good sync).
        next_retry_at: when the next automatic attempt is due (backoff), or None.
        running: a sync is under way.
        audit_alarm: the hall rejected this station's audit head (Chinese), until it accepts one.
    """

    online: bool | None = None
    pending: int = 0
    refused: int = 0
    last_sync_at: dt.datetime | None = None
    auth_required: bool = False
    last_error: str | None = None
    next_retry_at: dt.datetime | None = None
    running: bool = False
    audit_alarm: str | None = None


@dataclass
class SyncReport:
    """What one run did. ``as_contract()`` is the ``window-client sync --json`` output.

    Attributes:
        pushed: operations the server applied.
        duplicates: operations it already had (a repeated push after a lost answer).
        refused: operations it refused (kept locally as conflicts).
        pulled: changes applied from the feed.
        pending: operations still waiting after the run.
        completed: the push and the pull both ran to the end.
        error: why the run stopped early, if it did.
        catalog_changed: a new catalogue was cached.
        calendar_changed: a holiday arrangement was saved.
        audit_alarm: the hall rejected this station's audit head (not part of the JSON contract).
    """

    pushed: int = 0
    duplicates: int = 0
    refused: int = 0
    pulled: int = 0
    pending: int = 0
    completed: bool = False
    error: HallError | None = None
    catalog_changed: bool = False
    calendar_changed: bool = False
    audit_alarm: AuditAlarm | None = None

    def as_contract(self) -> dict[str, int]:
        """``{"pushed", "duplicates", "refused", "pulled", "pending"}`` (DESIGN.md §6)."""
        return {
            "pushed": self.pushed,
            "duplicates": self.duplicates,
            "refused": self.refused,
            "pulled": self.pulled,
            "pending": self.pending,
        }


def describe_error(error: HallError, retry_in: float | None) -> Problem:
    """The problem to show for a failed run (Chinese on screen, English in the CLI)."""
    seconds = max(0, round(retry_in or 0))
    if isinstance(error, Unreachable):
        return Problem("sync.unreachable", {"seconds": seconds})
    if isinstance(error, AuthRequired):
        return Problem("sync.auth_required", {"code": error.code})
    if isinstance(error, ServerError):
        return Problem(
            "sync.server_error", {"code": error.code, "message": error.message, "seconds": seconds}
        )
    return Problem("sync.protocol", {"message": error.message, "seconds": seconds})


# ---------------------------------------------------------------- the engine

_OP_ID = re.compile(r"^[0-9A-Za-z_-]{8,64}$")


def encode_operation(entry: sync_repo.OutboxEntry) -> str:
    """One outbox row as an :class:`~models.sync.Operation` in JSON, with its stored payload
    embedded as it is: the payload was written as canonical JSON by the same transaction as
    the state it describes, and parsing 20,000 of them only to serialise them again would
    cost more than the rest of the client's share of a push.

    Raises ``ValueError`` for a row the protocol cannot carry (the same limits as
    :class:`~models.sync.Operation`).
    """
    if not _OP_ID.match(entry.op_id):
        raise ValueError(f"op_id {entry.op_id[:70]!r} is not 8-64 letters, digits, '-' or '_'")
    if entry.kind not in KNOWN_KINDS:
        raise ValueError(f"unknown operation kind {entry.kind[:40]!r}")
    if entry.case_no is not None and len(entry.case_no) > 64:
        raise ValueError("case_no longer than 64 characters")
    if len(entry.created_at) > 64:
        raise ValueError("created_at longer than 64 characters")
    payload = entry.payload.strip()
    if not (payload.startswith("{") and payload.endswith("}")):
        raise ValueError("the payload is not a JSON object")
    # op_id and kind were checked against plain alphabets above: they need no escaping.
    case_no = "null" if entry.case_no is None else json.dumps(entry.case_no, ensure_ascii=False)
    created = json.dumps(entry.created_at, ensure_ascii=False)
    return (
        f'{{"op_id":"{entry.op_id}","seq":{int(entry.seq)},"kind":"{entry.kind}","case_no":{case_no},'
        f'"created_at":{created},"payload":{payload}}}'
    )


class SyncEngine:
    """Push and pull for one station's store against one hall server.

    Args:
        store: the station's store.
        client: the hall client (holding the token once staff signed in).
        station: this station's code.
        batch_size: operations per push (at most :data:`MAX_PUSH_BATCH`).
        pull_limit: changes per pull page (at most :data:`MAX_PULL_LIMIT`).
        clock: the time source (tests inject one).
        backoff: the retry schedule after failures.
        catalog_ok: checks a fetched catalogue before it is cached (e.g. that this station is
            still in it); a catalogue it rejects is not cached and the shipped one stays.
    """

    def __init__(
        self,
        store: Store,
        client: HallClient,
        station: str,
        *,
        batch_size: int = MAX_PUSH_BATCH,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        catalog_ok: Callable[[dict[str, Any]], bool] | None = None,
        keys: StationKeys | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_PUSH_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_PUSH_BATCH}")
        if not 1 <= pull_limit <= MAX_PULL_LIMIT:
            raise ValueError(f"pull_limit must be between 1 and {MAX_PULL_LIMIT}")
        self.store = store
        self.client = client
        self.station = station
        self.batch_size = batch_size
        self.pull_limit = pull_limit
        self.clock = clock or _utc_now
        self.backoff = backoff or Backoff()
        self.catalog_ok = catalog_ok
        self._run_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._status = SyncStatus()
        vault = KeyVault(StationSecret(store.path.parent))  # the data directory holds the store
        self.anchors = AnchorKeeper(store, station, keys or StationKeys(store, station, vault))
        self._anchoring = True  # off for a hall that does not take audit heads (older servers)
        self.refresh_counts()

    # ------------------------------------------------------------ status

    @property
    def status(self) -> SyncStatus:
        """The current status snapshot."""
        return self._status

    def subscribe(self, listener: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``listener`` with every new status (from the syncing thread); returns an
        unsubscribe function. The TUI posts a message from it rather than touching widgets."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _update(self, **changes: Any) -> None:
        with self._status_lock:
            self._status = replace(self._status, **changes)
            status = self._status
        for listener in list(self._listeners):
            listener(status)

    def refresh_counts(self) -> SyncStatus:
        """Re-read the pending and refused counts and the last sync time from the store."""
        with self.store.reading() as conn:
            pending, refused = sync_repo.count_outbox(conn)
            last = sync_repo.parse_time(sync_repo.get_meta(conn, sync_repo.LAST_SUCCESS_KEY))
            alarm = read_alarm(conn)
        self._update(
            pending=pending, refused=refused, last_sync_at=last, audit_alarm=alarm.zh() if alarm else None
        )
        return self._status

    def due(self, now: dt.datetime | None = None) -> bool:
        """Whether an automatic attempt may run now (not waiting for sign-in or a backoff)."""
        status = self._status
        if status.auth_required:
            return False
        return status.next_retry_at is None or (now or self.clock()) >= status.next_retry_at

    def signed_in(self) -> None:
        """Staff signed in again: the paused sync may resume where it stopped."""
        self._update(auth_required=False, next_retry_at=None, last_error=None)

    def run_forever(self, stop: threading.Event, interval: float = 60.0) -> None:
        """Sync every ``interval`` seconds until ``stop`` is set, honouring the backoff and
        waiting while a sign-in is needed (for a background worker)."""
        next_regular = self.clock()
        while not stop.is_set():
            now = self.clock()
            if self.due(now) and (self._status.next_retry_at is not None or now >= next_regular):
                self.run_once()
                next_regular = self.clock() + dt.timedelta(seconds=interval)
            stop.wait(1.0)

    # ------------------------------------------------------------ one run

    def run_once(self) -> SyncReport:
        """Push everything pending, then pull everything new. Failures end the run early
        (recorded in the status and the report), never with lost or wrongly marked data."""
        report = SyncReport()
        with self._run_lock:
            self._update(running=True)
            try:
                self._push(report)
                self._pull(report)
            except HallError as exc:
                report.error = exc
                self._failed(exc)
            else:
                report.completed = True
                now = self.clock()
                with self.store.transaction(SYNC_ACTOR) as unit:
                    sync_repo.set_meta(unit, sync_repo.LAST_SUCCESS_KEY, now.isoformat())
                self.backoff.success()
                self._update(online=True, last_error=None, next_retry_at=None, auth_required=False)
            finally:
                status = self.refresh_counts()
                report.pending = status.pending
                with self.store.reading() as conn:
                    report.audit_alarm = read_alarm(conn)
                self._update(running=False)
        return report

    def _failed(self, error: HallError) -> None:
        if isinstance(error, AuthRequired):
            # No retry until staff sign in: repeating a refused token only fills the logs.
            self._update(
                online=True,
                auth_required=True,
                next_retry_at=None,
                last_error=describe_error(error, None).zh(),
            )
            return
        delay = self.backoff.failure()
        self._update(
            online=not isinstance(error, Unreachable),
            next_retry_at=self.clock() + dt.timedelta(seconds=delay),
            last_error=describe_error(error, delay).zh(),
        )

    # ------------------------------------------------------------ push

    def _push(self, report: SyncReport) -> None:
        while True:
            with self.store.reading() as conn:
                batch = sync_repo.pending_batch(conn, KNOWN_KINDS, self.batch_size)
            if not batch:
                break
            self._push_entries(batch, report)
            self._update(online=True)
        if self._anchoring and self.anchors.pending():
            # Nothing queued, but the trail moved (sign-ins, views of IDs): the head goes alone.
            self._send([], [])

    def _send(self, encoded: Sequence[str], op_ids: Sequence[str]) -> PushResponse:
        """One push with the audit head (when the hall takes them); records the hall's answer to it."""
        anchor: AuditAnchor | None = self.anchors.anchor() if self._anchoring else None
        head = "" if anchor is None else f',"audit":{anchor.model_dump_json()}'
        body = f'{{"station":{json.dumps(self.station)},"operations":[{",".join(encoded)}]{head}}}'
        if anchor is not None:
            self.anchors.sending(anchor)
        try:
            answer = self.client.push_encoded(body, op_ids)
        except ServerError as exc:
            if anchor is None or exc.status != 422 or "audit" not in exc.message:
                raise
            self._anchoring = False  # a hall from before audit heads: push as it expects
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
                    self._adopt_state(
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

    # ------------------------------------------------------------ pull

    def _pull(self, report: SyncReport) -> None:
        with self.store.reading() as conn:
            after = sync_repo.cursor(conn)
        while True:
            page = self.client.changes(after, self.pull_limit)
            fetched = self._fetch_documents(page.changes)
            with self.store.transaction(SYNC_ACTOR) as unit:
                for change in page.changes:
                    self.apply(unit, change, fetched, report)
                sync_repo.set_cursor(unit, page.cursor)
            report.pulled += len(page.changes)
            self._update(online=True)
            if not page.more or page.cursor == after:
                return
            after = page.cursor

    def _fetch_documents(self, changes: Sequence[Change]) -> dict[str, Any]:
        """Fetch what a page of changes refers to before the write transaction opens (a
        network call must never hold the store's write lock)."""
        fetched: dict[str, Any] = {}
        if any(c.kind is ChangeKind.CATALOG for c in changes):
            fetched["catalog"] = self.client.catalog()
        for change in changes:
            if change.kind is ChangeKind.HOLIDAYS and _inline_arrangement(change.payload) is None:
                year = change.payload.get("year", change.key)
                try:
                    fetched[f"holidays:{change.seq}"] = self.client.holidays(int(year))
                except (TypeError, ValueError):
                    continue  # no year to ask for: the change is kept raw by its applier
        return fetched

    def apply(self, unit: UnitOfWork, change: Change, fetched: dict[str, Any], report: SyncReport) -> None:
        """Apply one change inside ``unit``; applying the same change again changes nothing."""
        payload = change.payload
        if change.kind is ChangeKind.CASE_STATE:
            applied = self._apply_case_state(unit, change)
        elif change.kind is ChangeKind.CASE_CONFLICT:
            applied = self._apply_conflict(unit, change)
        elif change.kind is ChangeKind.APPLICANT_STANDING:
            applied = self._apply_standing(unit, change)
        elif change.kind is ChangeKind.CATALOG:
            applied = self._apply_catalog(unit, change, fetched.get("catalog"), report)
        elif change.kind is ChangeKind.HOLIDAYS:
            applied = self._apply_holidays(unit, change, fetched.get(f"holidays:{change.seq}"), report)
        else:
            applied = False  # keys and certificates: kept for the certificate work below
        if not applied:
            # Nothing is dropped: whatever no applier consumed is kept verbatim.
            sync_repo.store_raw_change(
                unit, change.seq, change.kind.value, change.key, payload, change.at.isoformat()
            )

    def _apply_case_state(self, unit: UnitOfWork, change: Change) -> bool:
        p = change.payload
        case_no, state = p.get("case_no") or change.key, p.get("state")
        if not isinstance(case_no, str) or state not in {s.value for s in CaseState}:
            return False
        if sync_repo.pending_cases(unit.conn, [case_no]):
            # Local operations of this case are still on their way: once pushed, the server
            # answers them and announces the case's state again.
            return True
        detail = {k: p.get(k) for k in ("event", "by", "on", "version")}
        self._adopt_state(unit, case_no, str(state), {**detail, "change": change.seq})
        return True

    def _adopt_state(self, unit: UnitOfWork, case_no: str, state: str, detail: dict[str, Any]) -> None:
        """Set a local case to the server's state, with an audit event and no outbox op."""
        case = sync_repo.local_case(unit.conn, case_no)
        if case is None or case.state == state:
            return  # another station's case, or already there (a re-pulled change)
        tolerated = CaseState.ACCEPTED_TOLERATED.value
        closing = case.state == tolerated
        reopening = state == tolerated and case.state in (CaseState.TERMINATED, CaseState.SUPPLEMENTED)
        on = str(detail.get("on") or unit.now[:10])[:10]
        by = str(detail.get("by") or "hall")
        # The applicant's commitment follows the case, as a local 补正 or 终止 would move it; a
        # local 补正 or 终止 the hall did not take (refused, or lost a conflict) is undone.
        if reopening:
            sync_repo.reopen_case(unit, case_no, case.state, state)
            sync_repo.reopen_commitment(
                unit, case.applicant_id, was_broken=case.state == CaseState.TERMINATED
            )
        else:
            sync_repo.set_case_state(
                unit,
                case_no,
                case.state,
                state,
                closed_on=on if closing else None,
                closed_by=by if closing else None,
            )
            if closing:
                repo.close_commitment(unit, case.applicant_id, fulfilled=state != CaseState.TERMINATED)
        unit.audit("sync.case_state", case_no, {"from": case.state, "to": state, **detail}, actor=by)
        sync_repo.refresh_synced(unit, [case_no])

    def _apply_conflict(self, unit: UnitOfWork, change: Change) -> bool:
        p = change.payload
        op_id = p.get("op_id")
        if not isinstance(op_id, str) or not op_id:
            return False
        code = str(p.get("code") or "case.conflict")
        reason = str(p.get("reason") or p.get("message") or "大厅已按规则采用另一项变更")
        # The winner as the server names it: the winning operation's event and id.
        winner_event, winner_op = p.get("winner_event"), p.get("winner_op_id")
        winner = p.get("winner")
        if winner is None and (winner_event or winner_op):
            winner = f"{winner_event or '?'}:{winner_op or '?'}"
        if winner is not None and not isinstance(winner, str):
            winner = json.dumps(winner, ensure_ascii=False, sort_keys=True)
        case_no = p.get("case_no")
        case = case_no if isinstance(case_no, str) else None
        sync_repo.record_conflict(unit, op_id, case, code, reason, winner, change.seq, p)
        # Only an operation this station had pushed and seen acknowledged moves to the
        # refused list; a re-pulled change finds it there already and changes nothing.
        if sync_repo.mark_op_conflict(unit, op_id, code, reason):
            unit.audit("sync.conflict", case or op_id, {"op_id": op_id, "code": code})
            if case is not None:
                sync_repo.refresh_synced(unit, [case])
        return True

    def _apply_standing(self, unit: UnitOfWork, change: Change) -> bool:
        p = change.payload
        applicant_id, station = p.get("applicant_id"), p.get("station")
        if not isinstance(applicant_id, str) or not isinstance(station, str):
            return False
        if station == self.station:
            return True  # this station's own record is the local one, kept exactly
        try:
            open_count = int(p.get("open_commitments") or 0)
            unfulfilled = int(p.get("unfulfilled_commitments") or 0)
        except (TypeError, ValueError):
            return False
        sync_repo.upsert_remote_standing(
            unit, applicant_id, station, open_count, unfulfilled, bool(p.get("dishonest")), change.seq
        )
        return True

    def _apply_catalog(self, unit: UnitOfWork, change: Change, document: Any, report: SyncReport) -> bool:
        if document is None:
            return False
        try:
            catalog_from_dict(document.catalog)
        except (KeyError, TypeError, ValueError):
            return False  # a catalogue this client cannot read: keep the shipped one
        if self.catalog_ok is not None and not self.catalog_ok(document.catalog):
            return False
        body = json.dumps(document.catalog, ensure_ascii=False, sort_keys=True)
        if sync_repo.load_document(unit.conn, sync_repo.CATALOG_DOCUMENT) == (document.version, body):
            return True  # already cached (a re-pulled change)
        sync_repo.save_document(unit, sync_repo.CATALOG_DOCUMENT, document.version, body)
        unit.audit("catalog.update", document.version, {"change": change.seq})
        report.catalog_changed = True
        return True

    def _apply_holidays(self, unit: UnitOfWork, change: Change, document: Any, report: SyncReport) -> bool:
        data = _inline_arrangement(change.payload)
        if data is None and document is not None:
            data = _inline_arrangement({"arrangement": document.arrangement})
        if data is None:
            return False
        try:
            arrangement = parse_arrangement(data)
        except ArrangementError:
            return False
        days = [(d, "holiday", n) for d, n in arrangement.holidays.items()]
        days += [(d, "workday", n) for d, n in arrangement.workdays.items()]
        repo.save_arrangement(unit, arrangement.year, arrangement.source, days)
        unit.audit(
            "calendar.import",
            str(arrangement.year),
            {"source": arrangement.source, "days": len(days), "change": change.seq, "via": "sync"},
        )
        report.calendar_changed = True
        return True


def _inline_arrangement(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The arrangement carried by a HOLIDAYS change: the document's ``arrangement`` or the
    payload itself, when it has the import format's shape."""
    candidate = payload.get("arrangement", payload)
    if isinstance(candidate, dict) and "year" in candidate and "holidays" in candidate:
        return candidate
    return None


# ---------------------------------------------------------------- refused operations

# What staff can do about a refused operation, per server code: (Chinese, English).
REFUSED_ACTIONS: dict[str, tuple[str, str]] = {
    "case.conflict": (
        "大厅已按规则采用另一项变更，本地已更新为大厅状态；如有异议请联系值班长",
        "the hall kept another change under its rules and this station now shows the hall's"
        " state; ask the supervisor if you disagree",
    ),
    "case.illegal_transition": (
        "大厅的办件状态不允许该操作，本地已更新为大厅状态；请核对办件后按当前状态重新办理",
        "the case's state at the hall does not allow this step; this station now shows the hall's"
        " state: check the case and redo the step if it still applies",
    ),
    "auth.forbidden": (
        "该操作需要相应权限（如值班长审批），请由有权限的人员重新办理",
        "this step needs a role the signer does not have (e.g. a supervisor): have an"
        " authorised person redo it",
    ),
    "op.mismatch": (
        "大厅已有同一编号但内容不同的操作，本地操作未被采用；请联系系统管理员核查",
        "the hall holds a different operation under the same id; this one was not applied:"
        " ask the system administrator to check",
    ),
    "case.unknown": (
        "大厅没有该办件的受理记录；请确认受理操作已同步，如仍被拒收请联系系统管理员",
        "the hall has no such case: make sure its acceptance was synced, otherwise ask the"
        " system administrator",
    ),
    "case.needs_supervisor": (
        "终止办件须经值班长审批；请值班长登录后重新办理终止",
        "terminating a case needs a supervisor's approval: have a supervisor redo it",
    ),
    "case.exists": (
        "大厅已有同号但内容不同的办件；请联系系统管理员核查",
        "the hall already has a different case under this number: ask the system administrator",
    ),
    "op.invalid": (
        "大厅认为该操作内容不完整或无效；请联系系统管理员核查",
        "the hall found the operation incomplete or invalid: ask the system administrator",
    ),
    "op.unsafe_text": (
        "操作中含有控制字符或文字方向控制符，大厅未保存；请核对办件信息中的异常字符后重新办理",
        "the operation holds a control or text-direction character and was not kept: correct the"
        " case's text and redo it",
    ),
    "request.invalid": (
        "大厅无法识别该操作（格式无效）；请联系系统管理员",
        "the hall could not read this operation (invalid format): ask the system administrator",
    ),
    "accept.invalid": (
        "大厅按现行事项目录和规则校验未通过，办件未在大厅登记；请核对受理信息（目录须先同步），"
        "必要时按正确信息重新受理",
        "the hall's checks (current catalogue and rules) failed and the case was not recorded"
        " there: check the acceptance (sync the catalogue first) and accept it again if needed",
    ),
    "accept.inconsistent": (
        "受理结论与所交材料不符，办件未在大厅登记；请核对材料清单后重新受理",
        "the state does not follow from the materials presented and the case was not recorded at"
        " the hall: check the checklist and accept it again",
    ),
    "accept.needs_approval": (
        "该容缺受理须值班长在本机登录签批；请值班长核查后重新受理",
        "this tolerance needs a supervisor to sign in at the counter and approve: have the"
        " supervisor check it and accept it again",
    ),
    "case.number_invalid": (
        "办件编号不符合本站编号规则，办件未在大厅登记；请联系系统管理员核查本站配置",
        "the case number does not follow this station's numbering and the case was not recorded"
        " at the hall: ask the system administrator to check the station's settings",
    ),
}
DEFAULT_ACTION = (
    "请值班长核查该操作，必要时按办件当前状态重新办理",
    "ask the supervisor to check this operation and redo it against the case's current state",
)


@dataclass(frozen=True, slots=True)
class RefusedOperation:
    """A refused operation as staff see it (plain data for screens and the CLI)."""

    op_id: str
    seq: int
    kind: str
    case_no: str | None
    event: str | None
    created_at: str
    code: str
    reason: str  # the server's reason (Chinese)
    action_zh: str
    action_en: str
    winner: str | None
    reviewed_by: str | None
    reviewed_at: str | None

    def to_json(self) -> dict[str, Any]:
        """The ``window-client sync refused --json`` form."""
        return {
            "op_id": self.op_id,
            "seq": self.seq,
            "kind": self.kind,
            "case_no": self.case_no,
            "event": self.event,
            "created_at": self.created_at,
            "code": self.code,
            "reason": self.reason,
            "action": self.action_en,
            "action_zh": self.action_zh,
            "winner": self.winner,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at,
        }


def _refused_view(row: sync_repo.RefusedRow) -> RefusedOperation:
    code = row.code or "unknown"
    zh, en = REFUSED_ACTIONS.get(code, DEFAULT_ACTION)
    try:
        event = json.loads(row.payload).get("event")
    except (ValueError, AttributeError):
        event = None
    return RefusedOperation(
        op_id=row.op_id,
        seq=row.seq,
        kind=row.kind,
        case_no=row.case_no,
        event=event if isinstance(event, str) else None,
        created_at=row.created_at,
        code=code,
        reason=row.reason or "",
        action_zh=zh,
        action_en=en,
        winner=row.winner,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )


# ---------------------------------------------------------------- the service


class SyncService:
    """Sync as staff use it: sign-in against the hall, one-shot and background sync, status,
    refused operations.

    Args:
        store: the station's store.
        station: this station's code.
        server_url: the hall server's root URL.
        client: a ready client (tests); built from ``server_url`` otherwise.
        timeout: seconds the built client waits to connect and for each read of an answer.
        engine_options: passed on to :class:`SyncEngine` (batch size, pull limit, clock, …).
    """

    def __init__(
        self,
        store: Store,
        station: str,
        server_url: str,
        *,
        client: HallClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        self.store = store
        self.station = station
        self.client = client or HallClient(server_url, timeout=timeout)
        self.engine = SyncEngine(store, self.client, station, **engine_options)

    @property
    def status(self) -> SyncStatus:
        """The engine's status snapshot."""
        return self.engine.status

    def sign_in_online(self, staff_no: str, password: str) -> StaffMember:
        """Sign in at the hall server; on success the station caches the password's argon2id
        hash and the role, so that offline sign-in later checks against this sign-in.

        Raises :class:`SignInError` (Chinese) when the server refuses the credentials, and the
        hall client's :class:`Unreachable` / :class:`ServerError` when it cannot decide.
        """
        staff_no = staff_no.strip()
        try:
            answer = self.client.sign_in(staff_no, password, self.station)
        except ValidationError:
            raise SignInError("工号或密码错误", "bad_credentials") from None
        except AuthRequired as exc:
            with self.store.transaction(staff_no or "anonymous") as unit:
                unit.audit("staff.sign_in_failed", staff_no or "-", {"online": True, "code": exc.code})
            raise SignInError("工号或密码错误", "bad_credentials") from None
        except ServerError as exc:
            if exc.status == 403:
                raise SignInError("该工号不能在本站点登录，请联系系统管理员", "forbidden") from None
            if exc.status == 429:  # locked at the hall: the hall decides, no offline sign-in
                raise self._locked_at_hall(staff_no, exc) from None
            raise
        info = answer.staff
        digest = hash_password(password)
        with self.store.transaction(info.staff_no) as unit:
            sync_repo.cache_online_sign_in(
                unit, info.staff_no, info.name, info.role.value, info.station, digest
            )
            unit.audit("staff.sign_in", info.staff_no, {"offline": False, "role": info.role.value})
        self.engine.signed_in()
        role = Role(info.role)
        key = derive_approval_key(info.staff_no, password) if role in (Role.SUPERVISOR, Role.ADMIN) else None
        return StaffMember(info.staff_no, info.name, role, info.station, key)

    def _locked_at_hall(self, staff_no: str, exc: ServerError) -> SignInError:
        """The Chinese refusal of a sign-in the hall throttles (audited)."""
        code = exc.code if exc.code in ("auth.locked", "auth.throttled") else "auth.throttled"
        minutes = max(1, math.ceil((exc.retry_after or 15 * 60) / 60))
        with self.store.transaction(staff_no or "anonymous") as unit:
            unit.audit("staff.sign_in_refused", staff_no or "-", {"online": True, "code": code})
        return SignInError(Problem(code, {"staff_no": staff_no, "minutes": minutes}).zh(), "locked")

    def sign_in(
        self, staff_no: str, password: str, offline: Callable[[str, str], StaffMember]
    ) -> tuple[StaffMember, bool]:
        """Online sign-in when the hall answers, else ``offline`` (the cached hash).

        Returns the member and whether the sign-in was online. Wrong credentials at the hall
        are never retried offline: the hall is the authority when it answers.
        """
        try:
            return self.sign_in_online(staff_no, password), True
        except (Unreachable, ServerError, ProtocolError):
            return offline(staff_no, password), False

    def run_once(self) -> SyncReport:
        """One full push and pull."""
        return self.engine.run_once()

    def refused(self, include_reviewed: bool = False) -> list[RefusedOperation]:
        """Refused operations with the server's reason and what staff can do, oldest first."""
        with self.store.reading() as conn:
            rows = sync_repo.refused_rows(conn, include_reviewed)
        return [_refused_view(r) for r in rows]

    def acknowledge(self, op_id: str, by: str) -> RefusedOperation:
        """Record that ``by`` reviewed a refused operation; the operation itself is kept."""
        with self.store.transaction(by) as unit:
            row = sync_repo.refused_row(unit.conn, op_id)
            if row is None:
                raise DomainError.of("sync.unknown_refused", op_id=op_id[:64])
            if sync_repo.mark_reviewed(unit, op_id, by):
                unit.audit("sync.refused_reviewed", row.case_no or op_id, {"op_id": op_id, "code": row.code})
                if row.case_no:
                    sync_repo.refresh_synced(unit, [row.case_no])
            row = sync_repo.refused_row(unit.conn, op_id)
        self.engine.refresh_counts()
        assert row is not None
        return _refused_view(row)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()
