"""Appliers: each kind of change pulled from the hall, applied to the station's store.

Every applier is idempotent (a re-pulled page changes nothing) and returns whether it consumed
the change; whatever no applier consumed is kept verbatim in the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from models.catalog import catalog_from_dict
from models.enums import CaseState
from models.sync import Change, ChangeKind
from offline_cache import UnitOfWork, notify_repo, sync_repo
from offline_cache import repositories as repo
from window_client.services.sync.status import SyncReport
from window_client.services.workdays import ArrangementError, parse_arrangement


class ChangeAppliers:
    """Applies pulled changes for one station.

    Args:
        station: this station's code (its own applicant standing is the local one).
        catalog_ok: checks a fetched catalogue before it is cached (e.g. that this station is
            still in it); a catalogue it rejects is not cached and the shipped one stays.
    """

    def __init__(self, station: str, catalog_ok: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self.station = station
        self.catalog_ok = catalog_ok

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
        elif change.kind is ChangeKind.CASE_TIMELINESS:
            applied = apply_timeliness(unit, change)
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
        adopt_state(unit, case_no, str(state), {**detail, "change": change.seq})
        return True

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
        data = inline_arrangement(change.payload)
        if data is None and document is not None:
            data = inline_arrangement({"arrangement": document.arrangement})
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


def adopt_state(unit: UnitOfWork, case_no: str, state: str, detail: dict[str, Any]) -> None:
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
        sync_repo.reopen_commitment(unit, case.applicant_id, was_broken=case.state == CaseState.TERMINATED)
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


_FLAGS = frozenset({"red", "yellow", "green", None})


def apply_timeliness(unit: UnitOfWork, change: Change) -> bool:
    """Keep the hall's 红黄绿, due date and 首办负责人 of a case (display only: no audit event, no
    state change); a payload of the wrong shape is not consumed (kept raw)."""
    p = change.payload
    text_or_none = ("due_date", "handler", "handler_name", "as_of")
    if not isinstance(p.get("case_no"), str) or p.get("flag") not in _FLAGS:
        return False
    if any(p.get(k) is not None and not isinstance(p.get(k), str) for k in text_or_none):
        return False
    days_left = p.get("days_left")
    if days_left is not None and (isinstance(days_left, bool) or not isinstance(days_left, int)):
        return False
    values = {k: p.get(k) for k in ("case_no", *text_or_none)}
    values.update(flag=p.get("flag"), days_left=days_left, paused=bool(p.get("paused")))
    notify_repo.save_hall_timeliness(unit, change.seq, values)
    return True


def inline_arrangement(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The arrangement carried by a HOLIDAYS change: the document's ``arrangement`` or the
    payload itself, when it has the import format's shape."""
    candidate = payload.get("arrangement", payload)
    if isinstance(candidate, dict) and "year" in candidate and "holidays" in candidate:
        return candidate
    return None
